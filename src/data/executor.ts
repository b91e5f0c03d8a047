import { Kysely, type Transaction } from 'kysely'
import type { Db } from './database.js'
import { SqliteDialect } from './sqlite/dialect.js'

/**
 * What a repository runs its SQL on: the store's root (each statement its own transaction) or one transaction
 * (`Store.read` / `Store.write`). Queries are Kysely `sql` templates, compiled for the dialect at hand (docs/adr/0010).
 */
export type Tables = Record<string, Record<string, unknown>>
export type Executor = Kysely<Tables>
export type TransactionExecutor = Transaction<Tables>

const onSqliteHandle = new WeakMap<Db, Executor>()
const handleOf = new WeakMap<Executor, Db>()

/** The one Kysely on an open SQLite handle: one per handle, so every repository on it shares one connection mutex. */
export function executorFor(db: Db): Executor {
  let executor = onSqliteHandle.get(db)
  if (!executor) {
    executor = new Kysely<Tables>({ dialect: new SqliteDialect(db) })
    onSqliteHandle.set(db, executor)
    handleOf.set(executor, db)
  }
  return executor
}

/** Repositories take either; a raw SQLite handle (tests, command-line jobs) gets its one executor. */
export type ExecutorSource = Executor | Db

export function toExecutor(source: ExecutorSource): Executor {
  return source instanceof Kysely ? (source as Executor) : executorFor(source as Db)
}

/**
 * Runs `work` in one write transaction: the executor's own when it already is one (a repository method called
 * inside `Store.write` joins it), else a new one.
 */
export async function inTransaction<T>(db: Executor, work: (trx: Executor) => Promise<T>): Promise<T> {
  if (db.isTransaction) return work(db)
  // While repositories still on the raw handle hold a transaction open across awaits, ours joins it.
  if (handleOf.get(db)?.inTransaction) return work(db)
  return db.transaction().execute(work)
}

/** Rows changed by a statement, whichever dialect ran it. */
export function changes(result: { numAffectedRows?: bigint }): number {
  return Number(result.numAffectedRows ?? 0n)
}
