import { ConfigError, loadConfig } from '../src/config.js'
import { restoreDatabase, RestoreRefusedError } from '../src/data/restore.js'

/** `npm run restore -- <file>`: puts a backup copy in place of the database (README, "Backups and restore"). */
function main(argv: string[]): void {
  const file = argv.find((arg) => !arg.startsWith('-'))
  if (!file) throw new RestoreRefusedError('Usage: npm run restore -- <backup file>   (the copies are in BACKUP_DIR)')
  const config = loadConfig()
  const outcome = restoreDatabase(config.DATABASE_PATH, file)
  process.stdout.write(`Restored ${config.DATABASE_PATH} from ${outcome.restoredFrom}\n`)
  if (outcome.keptAside) process.stdout.write(`The database it replaced is kept as ${outcome.keptAside}\n`)
  process.stdout.write('Start the server (npm start): it checks the database and applies any newer migrations.\n')
}

try {
  main(process.argv.slice(2))
} catch (error) {
  const known = error instanceof ConfigError || error instanceof RestoreRefusedError
  process.stderr.write(
    `${known ? (error as Error).message : `Restore failed: ${(error as Error).stack ?? String(error)}`}\n`,
  )
  process.exit(1)
}
