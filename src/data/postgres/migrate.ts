import path from 'node:path'
import type pg from 'pg'
import { MIGRATIONS_DIR, readMigrations, type Migration } from '../database.js'

/** The PostgreSQL twins of migrations/NNN_name.sql: same numbers and names, plain SQL in the dialect. */
export const POSTGRES_MIGRATIONS_DIR = path.join(MIGRATIONS_DIR, 'postgres')

/**
 * The advisory lock every instance takes to migrate ("PRD_MIGR" in ASCII). Session-level: the server drops it when the
 * connection ends, so an instance killed mid-migration never blocks the next start.
 */
export const MIGRATION_LOCK_KEY = '5787763647233738578'

export function readPostgresMigrations(dir: string = POSTGRES_MIGRATIONS_DIR): Migration[] {
  return readMigrations(dir)
}

async function appliedVersions(client: pg.PoolClient): Promise<Set<number>> {
  const result = await client.query<{ version: number }>('SELECT version FROM schema_migrations')
  return new Set(result.rows.map((row) => row.version))
}

/** The highest migration version recorded (0 for a database never migrated): /health's schema version. */
export async function postgresSchemaVersion(pool: pg.Pool): Promise<number> {
  const exists = await pool.query<{ name: string | null }>(`SELECT to_regclass('schema_migrations')::text AS name`)
  if (!exists.rows[0]?.name) return 0
  const result = await pool.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations')
  return result.rows[0]?.version ?? 0
}

/**
 * Applies the pending PostgreSQL migrations in order, each in its own transaction together with its row in
 * schema_migrations, so a crash leaves the schema at a whole version. All of it runs under one advisory lock: instances
 * starting together wait for each other, and the later ones find nothing left to apply. Returns the versions applied.
 */
export async function migratePostgres(
  pool: pg.Pool,
  migrations: Migration[] = readPostgresMigrations(),
): Promise<number[]> {
  const seen = new Set<number>()
  for (const m of migrations) {
    if (seen.has(m.version)) throw new Error(`Two migrations share version ${m.version}`)
    seen.add(m.version)
  }
  const client = await pool.connect()
  let broken = false
  try {
    await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY])
    try {
      await client.query(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
           version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`,
      )
      const done = await appliedVersions(client)
      const applied: number[] = []
      for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
        if (done.has(migration.version)) continue
        await client.query('BEGIN')
        try {
          await client.query(migration.sql)
          await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
            migration.version,
            migration.name,
            new Date().toISOString(),
          ])
          await client.query('COMMIT')
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined)
          throw new Error(`Migration ${migration.name} failed: ${(error as Error).message}`, { cause: error })
        }
        applied.push(migration.version)
      }
      return applied
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]).catch(() => {
        broken = true
      })
    }
  } catch (error) {
    broken = true
    throw error
  } finally {
    // A connection whose state is unknown (a failed unlock, a lost server) is not handed back to the pool.
    client.release(broken)
  }
}
