import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import type { Db } from './database.js'

/**
 * Locks the operating system releases when the process holding them dies (kill -9, out of memory, power loss), so no
 * process id is ever checked and a dead holder never blocks anyone (docs/adr/0008). They live in a small separate
 * SQLite file beside the database, `<database>.lock`, in rollback-journal mode, where SQLite's own file locks are
 * POSIX advisory locks held by the process:
 * - "in use" (a SHARED lock: an open read transaction): held by the server and by every refresh for their lifetime;
 *   any number of holders at once;
 * - "run" (a RESERVED lock: an open BEGIN IMMEDIATE): held by the one full run in progress; a second is refused;
 * - "exclusive" (BEGIN EXCLUSIVE): taken by `npm run restore`; refused while anyone holds either of the others.
 * Nothing is ever written to the lock file, so it never has a journal to recover.
 */
export function lockFilePath(databasePath: string): string {
  return `${path.resolve(databasePath)}.lock`
}

export class DatabaseInUseError extends Error {}

export interface HeldLock {
  release(): void
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? ''
  return code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_') || code === 'SQLITE_LOCKED'
}

/** Opens the lock file (created empty if missing) and runs `begin`; null when another holder's lock refuses it. */
function tryLock(databasePath: string, begin: string): HeldLock | null {
  const file = lockFilePath(databasePath)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const connection = new Database(file)
  try {
    connection.pragma('busy_timeout = 0')
    connection.exec(begin)
    // A read transaction takes its SHARED lock only at its first read.
    connection.prepare('SELECT COUNT(*) FROM sqlite_master').get()
  } catch (error) {
    connection.close()
    if (isBusy(error)) return null
    throw error
  }
  let held = true
  return {
    release() {
      if (!held) return
      held = false
      if (connection.inTransaction) connection.exec('ROLLBACK')
      connection.close()
    },
  }
}

/** The server's and the refresh's "in use" lock, for as long as they run; null only while a restore holds the file. */
export function holdInUse(databasePath: string): HeldLock | null {
  if (databasePath === ':memory:') return { release: () => undefined }
  return tryLock(databasePath, 'BEGIN DEFERRED')
}

/** `npm run restore`'s lock: null while a server or a refresh holds the database. */
export function tryExclusive(databasePath: string): HeldLock | null {
  return tryLock(databasePath, 'BEGIN EXCLUSIVE')
}

/**
 * The full run's lock, held from its start until the run is published or fails (or its process dies), keyed by the
 * lock file. For an in-memory database (tests) no other process can see it, so an entry per connection stands in.
 */
const runLocks = new Map<string | Db, { lock: HeldLock | null; runId: number | null }>()

function runLockKey(db: Db): string | Db {
  return db.memory || db.name === '' ? db : lockFilePath(db.name)
}

/** Takes the run lock for a run about to start; false when a live run (in any process) holds it. */
export function tryAcquireRunLock(db: Db): boolean {
  const key = runLockKey(db)
  if (runLocks.has(key)) return false
  const lock = typeof key === 'string' ? tryLock(db.name, 'BEGIN IMMEDIATE') : null
  if (typeof key === 'string' && lock === null) return false
  runLocks.set(key, { lock, runId: null })
  return true
}

/** Names the run that holds the lock just taken, so that run's end releases it. */
export function assignRunLock(db: Db, runId: number): void {
  const held = runLocks.get(runLockKey(db))
  if (held) held.runId = runId
}

/** Releases the run lock if `runId` holds it (null: the lock taken for a run that then failed to start). */
export function releaseRunLock(db: Db, runId: number | null): void {
  const key = runLockKey(db)
  const held = runLocks.get(key)
  if (!held || held.runId !== runId) return
  held.lock?.release()
  runLocks.delete(key)
}
