import type { Config } from '../config.js'
import { openPostgresStore } from './postgres/store.js'
import { openSqliteStore, type Store } from './store.js'

export class DatabaseUnreachableError extends Error {}

/**
 * The store the settings name: PostgreSQL when DATABASE_URL is set (migrated under its advisory lock), else SQLite at
 * DATABASE_PATH (migrated). A PostgreSQL server that cannot be reached is a clear message, not a stack trace.
 */
export async function openConfiguredStore(config: Pick<Config, 'DATABASE_URL' | 'DATABASE_PATH'>): Promise<Store> {
  if (!config.DATABASE_URL) return openSqliteStore(config.DATABASE_PATH)
  try {
    return await openPostgresStore(config.DATABASE_URL)
  } catch (error) {
    const where = new URL(config.DATABASE_URL)
    const reason = (error as { code?: string; message?: string }).code ?? (error as Error).message
    throw new DatabaseUnreachableError(
      `Cannot use the PostgreSQL database ${where.pathname.slice(1)} at ${where.hostname}:${where.port || 5432} ` +
        `(${reason}). Check DATABASE_URL and that the server is running.`,
      { cause: error },
    )
  }
}
