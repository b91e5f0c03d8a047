import fs from 'node:fs'
import { ConfigError, loadConfig } from '../src/config.js'
import { openDatabase } from '../src/data/database.js'
import { holdInUse } from '../src/data/databaseLocks.js'
import { backupDatabase, BackupError } from '../src/data/backups.js'
import { backupPostgres, PostgresBackupError } from '../src/data/postgres/backup.js'

/**
 * `npm run backup` (SPEC §9): a consistent copy of the database, taken with SQLite's online backup while the server
 * and a refresh carry on, verified, then the older copies pruned to BACKUP_KEEP. The copy's path alone on the last line.
 * With DATABASE_URL (PostgreSQL): pg_dump's custom format, checked with pg_restore --list.
 */
async function main(): Promise<void> {
  const config = loadConfig()
  if (config.DATABASE_URL) {
    const started = Date.now()
    const copy = await backupPostgres(config.DATABASE_URL, { dir: config.BACKUP_DIR, keep: config.BACKUP_KEEP })
    process.stdout.write(
      `Backed up with pg_dump and verified in ${((Date.now() - started) / 1000).toFixed(1)} s; keeping the newest ${config.BACKUP_KEEP}\n`,
    )
    process.stdout.write(`${copy}\n`)
    return
  }
  if (!fs.existsSync(config.DATABASE_PATH)) throw new BackupError(`No database at ${config.DATABASE_PATH} to back up`)
  const inUse = holdInUse(config.DATABASE_PATH)
  if (!inUse)
    throw new BackupError('A restore (npm run restore) is replacing the database: back up when it has finished.')
  const db = openDatabase(config.DATABASE_PATH)
  try {
    const started = Date.now()
    const copy = await backupDatabase(db, { dir: config.BACKUP_DIR, keep: config.BACKUP_KEEP })
    process.stdout.write(
      `Backed up and verified in ${((Date.now() - started) / 1000).toFixed(1)} s; keeping the newest ${config.BACKUP_KEEP}\n`,
    )
    process.stdout.write(`${copy}\n`)
  } finally {
    db.close()
    inUse.release()
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    const known = error instanceof ConfigError || error instanceof BackupError || error instanceof PostgresBackupError
    process.stderr.write(
      `${known ? (error as Error).message : `Backup failed: ${(error as Error).stack ?? String(error)}`}\n`,
    )
    process.exit(1)
  },
)
