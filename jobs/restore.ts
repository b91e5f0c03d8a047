import { ConfigError, loadConfig } from '../src/config.js'
import { restoreDatabase, RestoreRefusedError } from '../src/data/restore.js'
import { PostgresBackupError, restorePostgres } from '../src/data/postgres/backup.js'

/** `npm run restore -- <file>`: puts a backup copy in place of the database (README, "Backups and restore"). */
async function main(argv: string[]): Promise<void> {
  const file = argv.find((arg) => !arg.startsWith('-'))
  if (!file) throw new RestoreRefusedError('Usage: npm run restore -- <backup file>   (the copies are in BACKUP_DIR)')
  const config = loadConfig()
  const outcome = config.DATABASE_URL
    ? await restorePostgres(config.DATABASE_URL, file, { backupDir: config.BACKUP_DIR })
    : restoreDatabase(config.DATABASE_PATH, file)
  const database = config.DATABASE_URL
    ? `the PostgreSQL database ${new URL(config.DATABASE_URL).pathname.slice(1)}`
    : config.DATABASE_PATH
  process.stdout.write(`Restored ${database} from ${outcome.restoredFrom}\n`)
  if (outcome.keptAside) process.stdout.write(`The database it replaced is kept as ${outcome.keptAside}\n`)
  process.stdout.write('Start the server (npm start): it checks the database and applies any newer migrations.\n')
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    const known =
      error instanceof ConfigError || error instanceof RestoreRefusedError || error instanceof PostgresBackupError
    process.stderr.write(
      `${known ? (error as Error).message : `Restore failed: ${(error as Error).stack ?? String(error)}`}\n`,
    )
    process.exit(1)
  },
)
