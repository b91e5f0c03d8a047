import fs from 'node:fs'
import path from 'node:path'
import { checkDatabaseFile, databaseBaseName, listBackups } from './backups.js'

/** The database file fails SQLite's check: nothing may start on it until a good copy is restored. */
export class DatabaseDamagedError extends Error {}

/** Whether an error thrown by SQLite means the file itself is damaged (not busy, not a constraint). */
export function isDamageError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')
}

/** The operator's message: what is wrong, and the command that puts it right, with the newest copy to hand. */
export function damagedMessage(databasePath: string, backupDir: string, findings: string[]): string {
  const newest = listBackups(path.resolve(backupDir), databaseBaseName(databasePath))[0]
  const shown = findings.slice(0, 5).map((finding) => `  ${finding}`)
  if (findings.length > shown.length) shown.push(`  ... and ${findings.length - shown.length} more`)
  return [
    `The database ${path.resolve(databasePath)} is damaged:`,
    ...shown,
    'Restore the last good backup (with the server stopped):',
    `  npm run restore -- ${newest ?? '<backup file>'}`,
    ...(newest ? [] : [`No backup was found in ${path.resolve(backupDir)}.`]),
    'See "Backups and restore" in the README.',
  ].join('\n')
}

/** PRAGMA quick_check on the file as it is on disk (a missing file is a new database, not a damaged one). */
export function assertDatabaseSound(databasePath: string, backupDir: string): void {
  if (databasePath === ':memory:' || !fs.existsSync(databasePath)) return
  const findings = checkDatabaseFile(databasePath, 'quick')
  if (findings.length > 0) throw new DatabaseDamagedError(damagedMessage(databasePath, backupDir, findings))
}

interface CachedCheck {
  signature: string
  checkedAt: number
  findings: string[]
}

const RECHECK_AT_MOST_EVERY_MS = 5_000
const cache = new Map<string, CachedCheck>()

function fileSignature(databasePath: string): string {
  return ['', '-wal']
    .map((suffix) => fs.statSync(`${databasePath}${suffix}`, { throwIfNoEntry: false }))
    .map((stat) => (stat ? `${stat.size}:${stat.mtimeMs}` : '-'))
    .join('/')
}

/**
 * For `/health`: the quick check's findings for the file, rerun only when the file has changed since (and at most every
 * few seconds), so a probe every few seconds costs a stat. A fresh connection reads the disk, not the server's cache.
 */
export function databaseDamage(databasePath: string): string[] {
  if (databasePath === ':memory:' || databasePath === '') return []
  const signature = fileSignature(databasePath)
  const cached = cache.get(databasePath)
  const now = Date.now()
  if (cached && (cached.signature === signature || now - cached.checkedAt < RECHECK_AT_MOST_EVERY_MS)) {
    return cached.findings
  }
  const findings = checkDatabaseFile(databasePath, 'quick')
  cache.set(databasePath, { signature, checkedAt: now, findings })
  return findings
}
