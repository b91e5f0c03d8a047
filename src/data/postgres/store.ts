import { Kysely } from 'kysely'
import pg from 'pg'
import type { Db } from '../database.js'
import type { Tables } from '../executor.js'
import { createSqlStore, type Store } from '../store.js'
import { OneWriterPostgresDialect } from './dialect.js'
import { migratePostgres, postgresSchemaVersion } from './migrate.js'
import { postgresPlatform } from './platform.js'

// Counts and sums come back as int8/numeric; the product's numbers are all well inside 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10))
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (value) => Number.parseFloat(value))

/** Repositories not yet on the seam read this and fail clearly, rather than running SQLite calls on PostgreSQL. */
const noSqliteHandle = new Proxy({} as Db, {
  get(_target, property) {
    throw new Error(`A repository still on the SQLite handle was used on PostgreSQL (${String(property)})`)
  },
})

export interface PostgresOptions {
  /** Connections per process: the pool's size. */
  poolSize?: number
  /** Apply pending migrations first (under the migration advisory lock). */
  migrate?: boolean
}

/** Opens a pool on `url`, migrates (unless told not to) and gives the store on it. */
export async function openPostgresStore(url: string, options: PostgresOptions = {}): Promise<Store> {
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 })
  // An idle connection the server drops (a restart, a failover) must not crash the process.
  pool.on('error', () => undefined)
  try {
    if (options.migrate !== false) await migratePostgres(pool)
  } catch (error) {
    await pool.end()
    throw error
  }
  let closed = false
  // Kysely sets its driver up again at the next query after a destroy: once closed, that fails, as SQLite's does.
  const openPool = async () => {
    if (closed) throw new Error('The PostgreSQL store is closed')
    return pool
  }
  const root = new Kysely<Tables>({ dialect: new OneWriterPostgresDialect({ pool: openPool }) })
  return createSqlStore(root, postgresPlatform(pool), noSqliteHandle, {
    schemaVersion: () => postgresSchemaVersion(pool),
    close: async () => {
      closed = true
      await root.destroy()
    },
  })
}
