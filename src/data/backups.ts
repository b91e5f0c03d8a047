import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import type { Db } from './database.js'

/** What the integrity check says of a database file: [] when sound, otherwise SQLite's own findings. */
export function checkDatabaseFile(file: string, kind: 'quick' | 'full' = 'quick'): string[] {
  let connection: Database.Database | undefined
  try {
    // A fresh connection reads the file itself, never another connection's page cache.
    connection = new Database(file, { fileMustExist: true })
    return checkConnection(connection, kind)
  } catch (error) {
    return [(error as Error).message]
  } finally {
    connection?.close()
  }
}

/** PRAGMA quick_check / integrity_check on an open connection; a file too damaged to read at all throws its finding. */
export function checkConnection(connection: Database.Database, kind: 'quick' | 'full' = 'quick'): string[] {
  try {
    const rows = connection.pragma(kind === 'quick' ? 'quick_check' : 'integrity_check') as Array<
      Record<string, string>
    >
    const findings = rows.map((row) => String(Object.values(row)[0]))
    return findings.length === 1 && findings[0] === 'ok' ? [] : findings
  } catch (error) {
    return [(error as Error).message]
  }
}

export class BackupError extends Error {}

export interface BackupOptions {
  dir: string
  keep: number
  now?: Date
}

const COPY_NAME = /^(.+)-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z)\.sqlite$/
const PARTIAL_OLDER_THAN_MS = 60 * 60 * 1000

/** The backup copies in `dir` of the database named `base` (e.g. "dashboard"), newest first. */
export function listBackups(dir: string, base: string): string[] {
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir)
    .filter((name) => COPY_NAME.exec(name)?.[1] === base)
    .sort()
    .reverse()
    .map((name) => path.join(dir, name))
}

export function databaseBaseName(databasePath: string): string {
  return path.basename(databasePath).replace(/\.(sqlite3?|db)$/, '')
}

/**
 * SPEC §9 `npm run backup`: SQLite's online backup of the open database into `dir` (consistent whatever the server
 * and a refresh write meanwhile), made a single self-contained file, verified with PRAGMA integrity_check, and only
 * then given its final name and the older copies pruned to `keep`. Returns the copy's path.
 */
export async function backupDatabase(db: Db, options: BackupOptions): Promise<string> {
  if (db.memory) throw new BackupError('An in-memory database has no file to back up')
  const dir = path.resolve(options.dir)
  fs.mkdirSync(dir, { recursive: true })
  const base = databaseBaseName(db.name)
  const stamp = (options.now ?? new Date()).toISOString().replace(/[:.]/g, '-')
  const finalPath = path.join(dir, `${base}-${stamp}.sqlite`)
  const partialPath = path.join(dir, `.${base}-${stamp}.sqlite.partial`)
  try {
    await db.backup(partialPath)
    const copy = new Database(partialPath)
    try {
      // The copy keeps the source's WAL flag; a rollback journal makes it one file that opens anywhere.
      copy.pragma('journal_mode = DELETE')
      const findings = checkConnection(copy, 'full')
      if (findings.length > 0) throw new BackupError(`The copy failed its integrity check: ${findings.join('; ')}`)
    } finally {
      copy.close()
    }
    fs.renameSync(partialPath, finalPath)
  } catch (error) {
    fs.rmSync(partialPath, { force: true })
    if (error instanceof BackupError) throw error
    throw new BackupError(`Backup failed: ${(error as Error).message}`, { cause: error })
  }
  pruneBackups(dir, base, options.keep)
  return finalPath
}

/** Keeps the newest `keep` copies; also clears partial copies a killed backup left over an hour ago. */
function pruneBackups(dir: string, base: string, keep: number): void {
  for (const old of listBackups(dir, base).slice(keep)) fs.rmSync(old, { force: true })
  for (const name of fs.readdirSync(dir)) {
    if (!name.startsWith(`.${base}-`) || !name.endsWith('.partial')) continue
    const file = path.join(dir, name)
    const stat = fs.statSync(file, { throwIfNoEntry: false })
    if (stat && Date.now() - stat.mtimeMs > PARTIAL_OLDER_THAN_MS) fs.rmSync(file, { force: true })
  }
}
