import type Database from 'better-sqlite3'
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely'
import { LRUCache } from 'lru-cache'

/**
 * Kysely's SQLite driver, with the two things the bench needs that Kysely's own lacks: prepared statements kept by
 * their SQL (preparing is most of a small query's cost) and `BEGIN IMMEDIATE` for write transactions, so a writer
 * takes the write lock at its start and never fails with SQLITE_BUSY half way (docs/adr/0010).
 * A read-only transaction is a deferred `BEGIN`: one snapshot of the WAL for every query it makes.
 */
class SqliteConnection implements DatabaseConnection {
  private readonly statements = new LRUCache<string, Database.Statement>({ max: 500 })

  constructor(readonly db: Database.Database) {}

  private prepared(sql: string): Database.Statement {
    let statement = this.statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const statement = this.prepared(compiled.sql)
    const parameters = compiled.parameters as unknown[]
    if (statement.reader) return { rows: statement.all(...parameters) as R[] }
    const { changes, lastInsertRowid } = statement.run(...parameters)
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] }
  }

  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const statement = this.db.prepare(compiled.sql)
    for (const row of statement.iterate(...(compiled.parameters as unknown[]))) yield { rows: [row as R] }
  }
}

/** One connection, so one holder at a time: a transaction keeps it from its BEGIN to its COMMIT. */
class ConnectionMutex {
  private held: Promise<void> | null = null
  private release: (() => void) | null = null

  async lock(): Promise<void> {
    while (this.held) await this.held
    this.held = new Promise((resolve) => (this.release = resolve))
  }

  unlock(): void {
    const release = this.release
    this.held = null
    this.release = null
    release?.()
  }
}

class SqliteDriver implements Driver {
  private readonly mutex = new ConnectionMutex()
  private readonly connection: SqliteConnection

  constructor(db: Database.Database) {
    this.connection = new SqliteConnection(db)
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.mutex.lock()
    return this.connection
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const begin = settings.accessMode === 'read only' ? 'BEGIN' : 'BEGIN IMMEDIATE'
    await connection.executeQuery(CompiledQuery.raw(begin))
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('COMMIT'))
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    // A failed COMMIT or a constraint error may already have ended the transaction.
    if (this.connection.db.inTransaction) await connection.executeQuery(CompiledQuery.raw('ROLLBACK'))
  }

  async releaseConnection(): Promise<void> {
    this.mutex.unlock()
  }

  async destroy(): Promise<void> {
    // The handle belongs to whoever opened it (the composition root closes it).
  }
}

export class SqliteDialect implements Dialect {
  constructor(private readonly db: Database.Database) {}

  createDriver(): Driver {
    return new SqliteDriver(this.db)
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler()
  }

  createAdapter(): DialectAdapter {
    return new SqliteAdapter()
  }

  // Kysely's own signature: an introspector works on a Kysely of any schema.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db)
  }
}
