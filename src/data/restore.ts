import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { tryExclusive } from './databaseLocks.js'
import { checkConnection } from './backups.js'

/** Refused for a reason the operator can act on (a damaged copy, the database in use). */
export class RestoreRefusedError extends Error {}

export interface RestoreOutcome {
  /** Where the database that was replaced now is (null: there was none). */
  keptAside: string | null
  restoredFrom: string
}

const COMPANIONS = ['', '-wal', '-shm', '-journal']

/** The copy must be a sound dashboard database: SQLite's full integrity check, and a schema version. */
function verifyCopy(copyPath: string): void {
  if (!fs.statSync(copyPath, { throwIfNoEntry: false })?.isFile()) {
    throw new RestoreRefusedError(`No backup file at ${copyPath}`)
  }
  let copy: Database.Database | undefined
  try {
    copy = new Database(copyPath, { readonly: true, fileMustExist: true })
    const findings = checkConnection(copy, 'full')
    if (findings.length > 0) {
      throw new RestoreRefusedError(
        `The copy ${copyPath} is damaged, so it was not restored:\n  ${findings.slice(0, 5).join('\n  ')}\n` +
          'Choose another copy from BACKUP_DIR.',
      )
    }
    if ((copy.pragma('user_version', { simple: true }) as number) < 1) {
      throw new RestoreRefusedError(`${copyPath} is not a dashboard database (no schema version)`)
    }
  } catch (error) {
    if (error instanceof RestoreRefusedError) throw error
    throw new RestoreRefusedError(`${copyPath} cannot be read as a database: ${(error as Error).message}`)
  } finally {
    copy?.close()
  }
}

/**
 * `npm run restore -- <file>`: checks the copy, takes the lock the server and every refresh hold shared (so it is
 * refused while either runs, and neither starts until it is done), moves the current database and its -wal/-shm aside
 * under a timestamped name beside it, and installs the copy (written under a temporary name, then renamed).
 */
export function restoreDatabase(databasePath: string, copyPath: string, now: Date = new Date()): RestoreOutcome {
  const target = path.resolve(databasePath)
  const source = path.resolve(copyPath)
  if (source === target) throw new RestoreRefusedError('The copy is the database itself')
  verifyCopy(source)
  const exclusive = tryExclusive(target)
  if (!exclusive) {
    throw new RestoreRefusedError(
      'The database is in use by the server or a refresh: stop the server (and let a running refresh finish), ' +
        'then restore again.',
    )
  }
  try {
    const installing = `${target}.restoring`
    fs.copyFileSync(source, installing)
    const handle = fs.openSync(installing, 'r+')
    fs.fsyncSync(handle)
    fs.closeSync(handle)
    let keptAside: string | null = null
    if (fs.existsSync(target)) {
      keptAside = `${target}.before-restore-${now.toISOString().replace(/[:.]/g, '-')}`
      // The -wal may hold committed changes not yet in the main file: it moves with it, under the name SQLite
      // expects beside the kept file, so the kept file opens whole.
      for (const suffix of COMPANIONS) {
        if (fs.existsSync(`${target}${suffix}`)) fs.renameSync(`${target}${suffix}`, `${keptAside}${suffix}`)
      }
    } else {
      for (const suffix of COMPANIONS.slice(1)) fs.rmSync(`${target}${suffix}`, { force: true })
    }
    fs.renameSync(installing, target)
    return { keptAside, restoredFrom: source }
  } finally {
    exclusive.release()
  }
}
