import { sql } from 'kysely'
import { advisoryChangeCount } from '../advisoryWrite.js'
import type { Db } from '../database.js'
import { assignRunLock, releaseRunLock, tryAcquireRunLock } from '../databaseLocks.js'
import type { Executor } from '../executor.js'
import type { Platform } from '../platform.js'

/** Rows changed by each handle's advisory writes, which the data version discounts (they change nothing shown). */
const advisoryChanges = new WeakMap<Db, number>()
/** Rows this handle's advisory writes have changed (for the caches not yet keyed on `Platform.dataVersion`). */
export function advisoryChangesOn(db: Db): number {
  return advisoryChanges.get(db) ?? 0
}

/** Longest an answer is kept while other processes write without publishing a run (the listing's, as before). */
const ANSWER_MAX_AGE_MS = 30_000

const platforms = new WeakMap<Db, Platform>()

export function sqlitePlatform(db: Db): Platform {
  let platform = platforms.get(db)
  if (!platform) {
    platform = createSqlitePlatform(db)
    platforms.set(db, platform)
  }
  return platform
}

function isBusy(error: unknown): boolean {
  return (error as { code?: unknown }).code === 'SQLITE_BUSY'
}

function createSqlitePlatform(db: Db): Platform {
  let published: { othersCommits: number; runId: number } | null = null
  return {
    dialect: 'sqlite',
    runLock: {
      tryAcquire: async () => tryAcquireRunLock(db),
      assign: (runId) => assignRunLock(db, runId),
      release: async (runId) => releaseRunLock(db, runId),
    },

    // better-sqlite3 waits for a lock synchronously, on the server's event loop: while a refresh in another process
    // holds the write lock, a plain write here would stall every request for up to the busy timeout.
    async writeIfNotBusy(executor, write) {
      const counted = async (on: Executor) => {
        advisoryChanges.set(db, (advisoryChanges.get(db) ?? 0) + (await write(on)))
      }
      if (executor.isTransaction) {
        await counted(executor)
        return true
      }
      return executor.connection().execute(async (connection) => {
        const previous = db.pragma('busy_timeout', { simple: true }) as number
        db.pragma('busy_timeout = 0')
        try {
          await counted(connection as Executor)
          return true
        } catch (error) {
          if (isBusy(error)) return false
          throw error
        } finally {
          db.pragma(`busy_timeout = ${previous}`)
        }
      })
    },

    // Not moved by every commit of another process: a refresh commits its staging and heartbeats every few hundred
    // milliseconds, and recomputing the dashboard each time stalled the server for the whole run. Other processes'
    // writes that publish no run (the run log's source lines) show within ANSWER_MAX_AGE_MS.
    async dataVersion(executor) {
      const bucket = Math.floor(Date.now() / ANSWER_MAX_AGE_MS)
      const { rows } = await sql<{ changes: number }>`SELECT total_changes() AS changes`.execute(executor)
      // Its own advisory writes and those of repositories still on the raw handle (advisoryWrite.ts), counted there.
      const changes = (rows[0]?.changes ?? 0) - advisoryChangeCount(db)
      // PRAGMA data_version moves only when another connection commits: until it does, nobody else has published.
      const othersCommits = db.pragma('data_version', { simple: true }) as number
      if (published?.othersCommits !== othersCommits) {
        const last = await sql<{ id: number }>`
          SELECT id FROM refresh_runs WHERE published_at IS NOT NULL ORDER BY id DESC LIMIT 1`.execute(executor)
        published = { othersCommits, runId: last.rows[0]?.id ?? 0 }
      }
      return `${changes}:${published.runId}:${bucket}`
    },
  }
}
