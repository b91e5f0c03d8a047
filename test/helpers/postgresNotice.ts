import pg from 'pg'
import { POSTGRES_SKIPPED_NOTICE, testPostgresUrl } from './postgres.js'

/**
 * Vitest global set-up, run once per `vitest run`: says once that the PostgreSQL tests are skipped when no
 * TEST_DATABASE_URL is given, and fails the run at once, with the reason, when one is given but cannot be reached.
 */
export default async function postgresNotice(): Promise<void> {
  const url = testPostgresUrl()
  if (!url) {
    process.stdout.write(`${POSTGRES_SKIPPED_NOTICE}\n`)
    return
  }
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
  } catch (error) {
    throw new Error(`TEST_DATABASE_URL is set but its server cannot be reached: ${(error as Error).message}`, {
      cause: error,
    })
  } finally {
    await client.end().catch(() => undefined)
  }
}
