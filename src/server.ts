import closeWithGrace from 'close-with-grace'
import type { Server } from 'node:http'
import { createApp } from './app.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { migrate, openDatabase } from './data/database.js'
import { holdInUse } from './data/databaseLocks.js'
import { DatabaseUnreachableError, openConfiguredStore } from './data/openStore.js'
import { sqliteStore, type Store } from './data/store.js'
import { scheduleRefresh } from '../jobs/schedule.js'
import { createLogger, type Logger } from './logger.js'
import { assertDatabaseSound, DatabaseDamagedError } from './data/databaseDamage.js'
import { createServices } from './services/container.js'
import { prepareDatabase } from './services/startup.js'

class StartRefusedError extends Error {}

/**
 * SQLite: the file checked for damage, held "in use" (so `npm run restore` waits) and migrated. PostgreSQL: migrated
 * under its advisory lock; an unreachable server ends the start with a clear message.
 */
async function openServerStore(config: Config, logger: Logger): Promise<{ store: Store; release(): void }> {
  if (config.DATABASE_URL) {
    const store = await openConfiguredStore(config)
    logger.info({ database: 'postgres' }, 'database ready')
    return { store, release: () => undefined }
  }
  // Held for the server's life: `npm run restore` refuses while it is (src/data/databaseLocks.ts).
  const inUse = holdInUse(config.DATABASE_PATH)
  if (!inUse)
    throw new StartRefusedError(
      'A restore (npm run restore) is replacing the database: start again when it has finished.',
    )
  assertDatabaseSound(config.DATABASE_PATH, config.BACKUP_DIR)
  const db = openDatabase(config.DATABASE_PATH)
  const applied = migrate(db)
  if (applied.length) logger.info({ applied }, 'database migrated')
  return { store: sqliteStore(db), release: () => inUse.release() }
}

async function main(): Promise<void> {
  const config = loadConfig()
  const logger = createLogger(config.LOG_LEVEL)
  const { store, release } = await openServerStore(config, logger)
  const services = createServices(store, config, logger)
  const say = (line: string) => process.stdout.write(`${line}\n`)

  const { demoUsers } = await prepareDatabase(services, say)
  const app = createApp(services)
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(config.PORT, () => resolve(s))
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : config.PORT
  say(`\nProvider Risk Dashboard is running at http://localhost:${port}/`)
  if (demoUsers.length) {
    say('Demo sign-ins (development only):')
    for (const user of demoUsers) say(`  ${user.role.padEnd(10)} ${user.email}  password: ${user.password}`)
  }
  if ((await services.store.repositories.users.count()) === 0) {
    say('No user can sign in yet: create the first admin with')
    say('  npm run user -- add you@council.gov.uk --role admin   (the password is prompted, or read from stdin)')
  }
  const schedule = config.REFRESH_SCHEDULE_ENABLED ? scheduleRefresh(config, logger) : null
  if (schedule) say(`Overnight refresh scheduled: "${config.REFRESH_CRON}" (${config.TZ})`)

  closeWithGrace({ delay: 10_000, logger: { error: (m: unknown) => logger.error(m) } }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an error')
    else logger.info({ signal }, 'shutting down')
    await schedule?.stop()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await store.close()
    release()
  })
}

main().catch((error: unknown) => {
  if (
    error instanceof ConfigError ||
    error instanceof DatabaseDamagedError ||
    error instanceof StartRefusedError ||
    error instanceof DatabaseUnreachableError
  ) {
    process.stderr.write(`${error.message}\n`)
  } else {
    process.stderr.write(`Could not start: ${(error as Error).stack ?? String(error)}\n`)
  }
  process.exit(1)
})
