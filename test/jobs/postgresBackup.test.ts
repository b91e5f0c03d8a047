import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { findPostgresTool, POSTGRES_LIB_DIR } from '../../src/data/postgres/backup.js'
import { migratePostgres } from '../../src/data/postgres/migrate.js'
import { usePostgresDatabases } from '../helpers/postgres.js'

/** `npm run backup` and `npm run restore` with DATABASE_URL naming PostgreSQL, run as the operator runs them. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const postgres = usePostgresDatabases()

function withPassword(url: string, password: string): string {
  const parsed = new URL(url)
  parsed.password = encodeURIComponent(password)
  return parsed.toString()
}

describe('finding pg_dump and pg_restore', () => {
  it('says what to install when neither PATH nor the PostgreSQL folders have the program', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'no-postgres-'))
    try {
      expect(() => findPostgresTool('pg_dump', { searchPath: empty, libDir: empty })).toThrow(
        /pg_dump was not found on PATH or in .*: install PostgreSQL's client programs \(Debian: apt-get install postgresql-client/,
      )
    } finally {
      fs.rmSync(empty, { recursive: true, force: true })
    }
  })

  it.skipIf(!fs.existsSync(POSTGRES_LIB_DIR))('falls back to the newest /usr/lib/postgresql/*/bin', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'no-path-'))
    try {
      expect(findPostgresTool('pg_restore', { searchPath: empty })).toMatch(
        /^\/usr\/lib\/postgresql\/[\d.]+\/bin\/pg_restore$/,
      )
    } finally {
      fs.rmSync(empty, { recursive: true, force: true })
    }
  })
})

describe.skipIf(!postgres.available)('backup and restore on PostgreSQL', () => {
  let dir: string
  let url: string
  let pool: pg.Pool
  let env: Record<string, string>

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postgres-backup-'))
    url = await postgres.create()
    pool = new pg.Pool({ connectionString: url, max: 1 })
    await migratePostgres(pool)
    await addProvider('Before the copy')
    env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      // The test server trusts 127.0.0.1, so any password passes: this one checks it reaches pg_dump and pg_restore
      // (through a passfile) without breaking their connection string.
      DATABASE_URL: withPassword(url, 'pass:word\\with@odd/chars'),
      DATABASE_PATH: path.join(dir, 'unused.sqlite'),
      BACKUP_DIR: path.join(dir, 'backups'),
      BACKUP_KEEP: '2',
    }
  })

  afterEach(async () => {
    await pool.end().catch(() => undefined)
    fs.rmSync(dir, { recursive: true, force: true })
  })

  async function addProvider(name: string): Promise<void> {
    const now = new Date().toISOString()
    await pool.query('INSERT INTO providers (name, created_at, updated_at) VALUES ($1, $2, $2)', [name, now])
  }

  async function providerNames(): Promise<string[]> {
    const result = await pool.query<{ name: string }>('SELECT name FROM providers ORDER BY id')
    return result.rows.map((row) => row.name)
  }

  function npmRun(job: 'backup' | 'restore', args: string[] = []) {
    const result = spawnSync(process.execPath, ['--import', 'tsx', `jobs/${job}.ts`, ...args], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    })
    const lines = result.stdout.trim().split('\n')
    return { code: result.status, lastLine: lines[lines.length - 1] ?? '', output: `${result.stdout}${result.stderr}` }
  }

  it(
    'backs up with pg_dump, keeps BACKUP_KEEP copies, and restores a copy in place of the database',
    { timeout: 120_000 },
    async () => {
      const backups: string[] = []
      for (let i = 0; i < 3; i++) {
        const backup = npmRun('backup')
        expect(backup.output).toMatch(/Backed up with pg_dump and verified in [\d.]+ s; keeping the newest 2/)
        expect(backup.code).toBe(0)
        expect(backup.lastLine).toMatch(/\.dump$/)
        expect(fs.existsSync(backup.lastLine)).toBe(true)
        backups.push(backup.lastLine)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      expect(fs.readdirSync(env.BACKUP_DIR as string).sort()).toEqual(
        backups.slice(1).map((file) => path.basename(file)),
      )

      // After the copy: a new row, and a table a later migration made (recorded as applied).
      await addProvider('After the copy')
      await pool.query('CREATE TABLE later_migration (id INTEGER)')
      await pool.query(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '999_later.sql', 'x')`)
      expect(await providerNames()).toEqual(['Before the copy', 'After the copy'])

      const refused = npmRun('restore', [backups[2] as string])
      expect(refused.code).toBe(1)
      expect(refused.output).toMatch(/The database is in use \(1 other connection\): stop the servers/)
      expect(await providerNames()).toEqual(['Before the copy', 'After the copy'])

      await pool.end()
      const restore = npmRun('restore', [backups[2] as string])
      expect(restore.output).toContain(`Restored the PostgreSQL database`)
      expect(restore.code).toBe(0)
      const keptAside = /The database it replaced is kept as (\S+)/.exec(restore.output)?.[1] as string
      expect(fs.existsSync(keptAside)).toBe(true)

      pool = new pg.Pool({ connectionString: url, max: 1 })
      expect(await providerNames()).toEqual(['Before the copy'])
      const tables = await pool.query(`SELECT 1 FROM pg_tables WHERE tablename = 'later_migration'`)
      expect(tables.rowCount).toBe(0)
      expect(await migratePostgres(pool)).toEqual([])
      // The append-only guard came back with the schema.
      await pool.query(`INSERT INTO audit_log (at, actor, action, entity_type) VALUES ('t', 'test', 'restore', 'db')`)
      await expect(pool.query('DELETE FROM audit_log')).rejects.toThrow(/audit_log is append-only/)
    },
  )

  it('refuses a file that is not a copy, changing nothing', { timeout: 60_000 }, async () => {
    const bogus = path.join(dir, 'not-a-copy.dump')
    fs.writeFileSync(bogus, 'just text\n')
    await pool.end()
    const restore = npmRun('restore', [bogus])
    expect(restore.code).toBe(1)
    expect(restore.output).toMatch(/not-a-copy\.dump cannot be restored: pg_restore failed/)
    pool = new pg.Pool({ connectionString: url, max: 1 })
    expect(await providerNames()).toEqual(['Before the copy'])
  })
})
