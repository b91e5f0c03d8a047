import {
  CompiledQuery,
  PostgresDialect,
  PostgresDriver,
  type DatabaseConnection,
  type Driver,
  type PostgresDialectConfig,
  type TransactionSettings,
} from 'kysely'

/** "PRD_WRITE" in ASCII: the transaction-level lock every write transaction takes at its start. */
export const WRITE_LOCK_KEY = '23159087465714757'

/**
 * Write transactions one at a time, as on SQLite (BEGIN IMMEDIATE): the repositories' read-then-write steps (the next
 * rule set version, a pointer moved only when newer) were written for one writer, and PostgreSQL's READ COMMITTED
 * would let two of them interleave. Reads never wait for it. The lock ends with the transaction, so a killed process
 * never leaves it held (docs/adr/0010).
 */
class OneWriterDriver extends PostgresDriver {
  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await super.beginTransaction(connection, settings)
    if (settings.accessMode !== 'read only')
      await connection.executeQuery(CompiledQuery.raw(`SELECT pg_advisory_xact_lock(${WRITE_LOCK_KEY})`))
  }
}

export class OneWriterPostgresDialect extends PostgresDialect {
  constructor(private readonly settings: PostgresDialectConfig) {
    super(settings)
  }

  override createDriver(): Driver {
    return new OneWriterDriver(this.settings)
  }
}
