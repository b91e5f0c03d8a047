import type { Db } from './database.js'
import { advisoryChangesOn } from './sqlite/platform.js'

const advisoryChanges = new WeakMap<Db, number>()

/**
 * How many rows this connection's advisory writes have changed. They change nothing anyone is shown, so what is kept
 * because the data did not move (ServiceListingRepository.dataVersion) discounts them: a signed-in person's every
 * request moves their session's expiry, and counted, that emptied the dashboard's caches at each request.
 */
export function advisoryChangeCount(db: Db): number {
  return (advisoryChanges.get(db) ?? 0) + advisoryChangesOn(db)
}

/**
 * Runs a write that may be skipped (a token's last-used time, a session's rolling expiry) without waiting for the
 * write lock. better-sqlite3 waits for a lock synchronously, on the server's event loop: while a refresh in another
 * process holds the lock (publishing 30,000 judgements, appending a source's facts), a plain write here would stall
 * every request for as long, up to the busy timeout. Returns false when the database was busy and nothing was written.
 */
export function writeIfNotBusy(db: Db, write: () => { changes: number }): boolean {
  const counted = () => {
    advisoryChanges.set(db, (advisoryChanges.get(db) ?? 0) + write().changes)
  }
  if (db.inTransaction) {
    counted()
    return true
  }
  const previous = db.pragma('busy_timeout', { simple: true }) as number
  db.pragma('busy_timeout = 0')
  try {
    counted()
    return true
  } catch (error) {
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY') return false
    throw error
  } finally {
    db.pragma(`busy_timeout = ${previous}`)
  }
}
