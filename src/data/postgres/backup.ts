import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'

/**
 * `npm run backup` and `npm run restore` when DATABASE_URL names PostgreSQL: pg_dump's custom format (-Fc), one file
 * per copy in BACKUP_DIR, checked by pg_restore --list before it gets its final name; restore by pg_restore --clean
 * --if-exists in one transaction, the database it replaces first dumped aside.
 */
export class PostgresBackupError extends Error {}

export type PostgresTool = 'pg_dump' | 'pg_restore'

/** Debian keeps each installed version's programs in /usr/lib/postgresql/<version>/bin. */
export const POSTGRES_LIB_DIR = '/usr/lib/postgresql'

/**
 * The program to run: `name` itself when it runs from PATH (or `searchPath`), else the newest version's in `libDir`. Throws, saying what to
 * install, when there is neither.
 */
export function findPostgresTool(
  name: PostgresTool,
  where: { libDir?: string; searchPath?: string } = {},
): string {
  const libDir = where.libDir ?? POSTGRES_LIB_DIR
  const onPath = spawnSync(name, ['--version'], {
    encoding: 'utf8',
    ...(where.searchPath === undefined ? {} : { env: { PATH: where.searchPath } }),
  })
  if (!onPath.error && onPath.status === 0) return name
  const versions = fs.existsSync(libDir)
    ? fs
        .readdirSync(libDir)
        .filter((version) => fs.existsSync(path.join(libDir, version, 'bin', name)))
        .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
    : []
  if (versions[0] !== undefined) return path.join(libDir, versions[0], 'bin', name)
  throw new PostgresBackupError(
    `${name} was not found on PATH or in ${libDir}/*/bin: install PostgreSQL's client programs ` +
      `(Debian: apt-get install postgresql-client, of the server's major version or newer), then run this again.`,
  )
}

const databaseName = (databaseUrl: string) => decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''))

/**
 * The connection for a PostgreSQL program's --dbname: the URL without its password, which goes into a passfile only
 * this user can read, so it never appears in a process list. `done` deletes the passfile.
 */
function connectionFor(databaseUrl: string): { dbname: string; done(): void } {
  const url = new URL(databaseUrl)
  if (!url.password) return { dbname: databaseUrl, done: () => undefined }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgpass-'))
  const passfile = path.join(dir, 'pgpass')
  const field = (value: string) => value.replace(/[\\:]/g, (character) => `\\${character}`)
  fs.writeFileSync(passfile, `*:*:*:*:${field(decodeURIComponent(url.password))}\n`, { mode: 0o600 })
  url.password = ''
  url.searchParams.set('passfile', passfile)
  return { dbname: url.toString(), done: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

/** Runs a PostgreSQL program to its end; its standard error becomes the error's message when it fails. */
function run(program: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    child.on('error', (error) => reject(new PostgresBackupError(`${program} could not run: ${error.message}`)))
    child.on('close', (code) => {
      if (code === 0) resolve(stdout)
      else reject(new PostgresBackupError(`${path.basename(program)} failed (exit ${code}): ${stderr.trim()}`))
    })
  })
}

/** Runs a PostgreSQL program connected to the database (its --dbname added). */
async function runConnected(program: string, args: string[], databaseUrl: string): Promise<string> {
  const connection = connectionFor(databaseUrl)
  try {
    return await run(program, [...args, `--dbname=${connection.dbname}`])
  } finally {
    connection.done()
  }
}


/** The database's name as a file name, the copies' prefix. */
export function postgresDatabaseName(databaseUrl: string): string {
  return databaseName(databaseUrl).replace(/[^\w.-]/g, '_') || 'postgres'
}

const COPY_NAME = /^(.+)-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z)\.dump$/

/** The copies in `dir` of the database named `base`, newest first. */
export function listPostgresBackups(dir: string, base: string): string[] {
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir)
    .filter((name) => COPY_NAME.exec(name)?.[1] === base)
    .sort()
    .reverse()
    .map((name) => path.join(dir, name))
}

const stampOf = (now: Date) => now.toISOString().replace(/[:.]/g, '-')

/** pg_restore --list reads the archive's table of contents: a truncated or foreign file fails here. */
async function verifyArchive(file: string): Promise<string> {
  const contents = await run(findPostgresTool('pg_restore'), ['--list', file])
  if (!/ TABLE public schema_migrations /.test(contents)) {
    throw new PostgresBackupError(`${file} is not a copy of a dashboard database (it has no schema_migrations table)`)
  }
  return contents
}

export interface PostgresBackupOptions {
  dir: string
  keep: number
  now?: Date
}

/** pg_dump -Fc into `dir` (a consistent snapshot whatever the server and a refresh write meanwhile). Its path. */
export async function backupPostgres(databaseUrl: string, options: PostgresBackupOptions): Promise<string> {
  const pgDump = findPostgresTool('pg_dump')
  const dir = path.resolve(options.dir)
  fs.mkdirSync(dir, { recursive: true })
  const base = postgresDatabaseName(databaseUrl)
  const stamp = stampOf(options.now ?? new Date())
  const finalPath = path.join(dir, `${base}-${stamp}.dump`)
  const partialPath = path.join(dir, `.${base}-${stamp}.dump.partial`)
  try {
    await runConnected(pgDump, ['--format=custom', `--file=${partialPath}`], databaseUrl)
    await verifyArchive(partialPath)
    fs.renameSync(partialPath, finalPath)
  } catch (error) {
    fs.rmSync(partialPath, { force: true })
    throw error
  }
  for (const old of listPostgresBackups(dir, base).slice(options.keep)) fs.rmSync(old, { force: true })
  return finalPath
}

export interface PostgresRestoreOutcome {
  /** The dump of the database as it was before the restore (null: it had no dashboard schema). */
  keptAside: string | null
  restoredFrom: string
}

/** Other sessions on the database: a server or a refresh still connected. */
async function otherClients(pool: pg.Pool): Promise<number> {
  const result = await pool.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
  )
  return result.rows[0]?.count ?? 0
}

async function publicTables(pool: pg.Pool): Promise<string[]> {
  const result = await pool.query<{ name: string }>(
    `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`,
  )
  return result.rows.map((row) => row.name)
}

/**
 * `npm run restore -- <file>` on PostgreSQL: checks the copy, refuses while another client is connected (stop the
 * servers first), dumps the current database aside into `backupDir`, drops the tables the copy does not have (a later
 * migration's: left in place they would stop the next start from migrating), then pg_restore --clean --if-exists in
 * one transaction, so a failed restore changes none of the copy's tables.
 */
export async function restorePostgres(
  databaseUrl: string,
  copyPath: string,
  options: { backupDir: string; now?: Date },
): Promise<PostgresRestoreOutcome> {
  const source = path.resolve(copyPath)
  if (!fs.statSync(source, { throwIfNoEntry: false })?.isFile()) {
    throw new PostgresBackupError(`No backup file at ${source}`)
  }
  const contents = await verifyArchive(source).catch((error: unknown) => {
    throw new PostgresBackupError(`${source} cannot be restored: ${(error as Error).message}`, { cause: error })
  })
  const tablesInCopy = new Set([...contents.matchAll(/ TABLE public (\w+) /g)].map((match) => match[1]))
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 })
  try {
    const others = await otherClients(pool)
    if (others > 0) {
      throw new PostgresBackupError(
        `The database is in use (${others} other connection${others === 1 ? '' : 's'}): stop the servers (and let a ` +
          'running refresh finish), then restore again.',
      )
    }
    const tables = await publicTables(pool)
    let keptAside: string | null = null
    if (tables.length > 0) {
      const dir = path.resolve(options.backupDir)
      fs.mkdirSync(dir, { recursive: true })
      keptAside = path.join(
        dir,
        `${postgresDatabaseName(databaseUrl)}-before-restore-${stampOf(options.now ?? new Date())}.dump`,
      )
      await runConnected(findPostgresTool('pg_dump'), ['--format=custom', `--file=${keptAside}`], databaseUrl)
    }
    const extra = tables.filter((table) => !tablesInCopy.has(table))
    if (extra.length > 0) {
      await pool.query(`DROP TABLE IF EXISTS ${extra.map((table) => `"${table}"`).join(', ')} CASCADE`)
    }
    await runConnected(
      findPostgresTool('pg_restore'),
      ['--clean', '--if-exists', '--no-owner', '--single-transaction', '--exit-on-error', source],
      databaseUrl,
    )
    return { keptAside, restoredFrom: source }
  } finally {
    await pool.end()
  }
}
