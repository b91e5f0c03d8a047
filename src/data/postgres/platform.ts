import { sql } from 'kysely'
import type pg from 'pg'
import type { Executor } from '../executor.js'
import type { Platform, RunLock } from '../platform.js'

/** The full run's advisory lock ("PRD_RUN" in ASCII), held on a connection of its own for the run's life. */
export const RUN_LOCK_KEY = '22593445658103374'
const ANSWER_MAX_AGE_MS = 60_000
const LOCK_NOT_AVAILABLE = '55P03'

/**
 * The run lock is a session-level advisory lock on a connection kept out of the pool: PostgreSQL drops it when that
 * connection ends, so a refresh killed with kill -9 never blocks the next one, on any instance.
 */
function advisoryRunLock(pool: pg.Pool): RunLock {
  let held: { client: pg.PoolClient; runId: number | null } | null = null
  return {
    async tryAcquire() {
      if (held) return false
      const client = await pool.connect()
      try {
        const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [
          RUN_LOCK_KEY,
        ])
        if (rows[0]?.locked) {
          held = { client, runId: null }
          return true
        }
      } catch (error) {
        client.release(true)
        throw error
      }
      client.release()
      return false
    },
    assign(runId) {
      if (held) held.runId = runId
    },
    async release(runId) {
      if (!held || held.runId !== runId) return
      const { client } = held
      held = null
      try {
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [RUN_LOCK_KEY])
        client.release()
      } catch {
        // Ending the connection drops the lock whatever happened to the unlock.
        client.release(true)
      }
    },
  }
}

export function postgresPlatform(pool: pg.Pool): Platform {
  return {
    dialect: 'postgres',
    runLock: advisoryRunLock(pool),

    // A skippable write waits for no row lock: another transaction holding the row (rare: a person's own session)
    // means it is skipped this time.
    async writeIfNotBusy(executor, write) {
      const attempt = async (trx: Executor) => {
        await sql`SET LOCAL lock_timeout = '100ms'`.execute(trx)
        await write(trx)
        return true
      }
      try {
        return executor.isTransaction ? await write(executor).then(() => true) : await executor.transaction().execute(attempt)
      } catch (error) {
        if ((error as { code?: unknown }).code === LOCK_NOT_AVAILABLE) return false
        throw error
      }
    },

    // Triggers on the tables people are shown move data_version (migrations/postgres/022), so every instance sees
    // another's write at its next request.
    async dataVersion(executor) {
      const bucket = Math.floor(Date.now() / ANSWER_MAX_AGE_MS)
      const { rows } = await sql<{ version: number }>`SELECT version FROM data_version WHERE id = 1`.execute(executor)
      return `${rows[0]?.version ?? 0}:${bucket}`
    },
  }
}
