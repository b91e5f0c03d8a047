import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'

export type Db = Database.Database

const here = path.dirname(fileURLToPath(import.meta.url))
/** migrations/ sits at the project root, both from src/data (tsx, vitest) and dist/src/data (built). */
export const MIGRATIONS_DIR = [path.resolve(here, '../../migrations'), path.resolve(here, '../../../migrations')].find(
  (dir) => fs.existsSync(dir),
) as string

/** Opens the SQLite database with the settings every process uses: WAL, foreign keys, busy timeout. */
export function openDatabase(databasePath: string): Db {
  if (databasePath !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(databasePath)), { recursive: true })
  const db = new Database(databasePath)
  db.pragma('journal_mode = WAL')
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 10000')
  db.pragma('synchronous = NORMAL')
  return db
}

export interface Migration {
  version: number
  name: string
  sql: string
}

export function readMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((file) => /^\d+_[\w-]+\.sql$/.test(file))
    .map((file) => ({
      version: Number.parseInt(file.split('_')[0] as string, 10),
      name: file,
      sql: fs.readFileSync(path.join(dir, file), 'utf8'),
    }))
    .sort((a, b) => a.version - b.version)
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number
}

/** For `/health`: reads from the database (throwing when it cannot) and gives the schema version it is at. */
export async function databaseStatus(db: Db): Promise<{ reachable: true; schemaVersion: number }> {
  db.prepare('SELECT 1').get()
  return { reachable: true, schemaVersion: schemaVersion(db) }
}

/**
 * Applies pending forward-only migrations, each in its own BEGIN IMMEDIATE transaction that also sets
 * PRAGMA user_version, so a crash leaves the schema at a whole version. Returns the versions applied.
 */
export function migrate(db: Db, migrations: Migration[] = readMigrations()): number[] {
  const seen = new Set<number>()
  for (const m of migrations) {
    if (seen.has(m.version)) throw new Error(`Two migrations share version ${m.version}`)
    seen.add(m.version)
  }
  const applied: number[] = []
  for (const migration of migrations) {
    if (migration.version <= schemaVersion(db)) continue
    db.exec('BEGIN IMMEDIATE')
    try {
      if (migration.version <= schemaVersion(db)) {
        db.exec('ROLLBACK')
        continue
      }
      db.exec(migration.sql)
      db.pragma(`user_version = ${migration.version}`)
      db.exec('COMMIT')
      applied.push(migration.version)
    } catch (error) {
      db.exec('ROLLBACK')
      throw new Error(`Migration ${migration.name} failed: ${(error as Error).message}`, { cause: error })
    }
  }
  return applied
}

/** A migrated in-memory database, for tests. */
export function openTestDatabase(): Db {
  const db = openDatabase(':memory:')
  migrate(db)
  return db
}
