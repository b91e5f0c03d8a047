import { randomBytes } from 'node:crypto'
import session from 'express-session'
import { sql } from 'kysely'
import { changes, toExecutor, type Executor, type ExecutorSource } from './executor.js'
import type { Platform } from './platform.js'
import { platformFor } from './platformFor.js'
import type { Store } from './store.js'

/** Used when a session has no cookie expiry (it always has one in this app: rolling maxAge). */
const DEFAULT_TTL_MS = 30 * 60 * 1000
const PRUNE_INTERVAL_MS = 10 * 60 * 1000
const SESSION_SECRET_KEY = 'session_secret'

type Callback = (err?: unknown) => void

/** The `sessions` table and the persisted session secret. Times are passed in, so a test moves the clock. */
export class SessionRepository {
  private readonly db: Executor
  private readonly platform: Platform

  constructor(db: ExecutorSource, platform?: Platform) {
    this.db = toExecutor(db)
    this.platform = platformFor(db, platform)
  }

  /** The session's data (JSON), unless it has expired by `now` (ISO). */
  async find(sid: string, now: string): Promise<string | null> {
    const { rows } = await sql<{ data: string }>`
      SELECT data FROM sessions WHERE sid = ${sid} AND expires_at > ${now}`.execute(this.db)
    return rows[0]?.data ?? null
  }

  async save(sid: string, data: string, expiresAt: string): Promise<void> {
    await sql`
      INSERT INTO sessions (sid, data, expires_at) VALUES (${sid}, ${data}, ${expiresAt})
      ON CONFLICT (sid) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`.execute(this.db)
  }

  /**
   * Moves the session's expiry; advisory (the rolling expiry moves again on the next request), so it never waits on
   * a refresh's write lock. False when skipped.
   */
  async touch(sid: string, expiresAt: string): Promise<boolean> {
    return this.platform.writeIfNotBusy(this.db, async (db) =>
      changes(await sql`UPDATE sessions SET expires_at = ${expiresAt} WHERE sid = ${sid}`.execute(db)),
    )
  }

  async remove(sid: string): Promise<void> {
    await sql`DELETE FROM sessions WHERE sid = ${sid}`.execute(this.db)
  }

  /** Deletes the sessions expired by `now`; returns how many. */
  async removeExpired(now: string): Promise<number> {
    return changes(await sql`DELETE FROM sessions WHERE expires_at <= ${now}`.execute(this.db))
  }

  async countLive(now: string): Promise<number> {
    const { rows } = await sql<{ n: number | string }>`
      SELECT COUNT(*) AS n FROM sessions WHERE expires_at > ${now}`.execute(this.db)
    return Number(rows[0]?.n ?? 0)
  }

  async removeAll(): Promise<void> {
    await sql`DELETE FROM sessions`.execute(this.db)
  }

  /** The session signing secret kept in `settings`, created (32 random bytes) on first use. */
  async persistedSecret(now: string): Promise<string> {
    const read = async () => {
      const { rows } = await sql<{ value: string }>`
        SELECT value FROM settings WHERE key = ${SESSION_SECRET_KEY}`.execute(this.db)
      return rows[0]?.value
    }
    const existing = await read()
    if (existing !== undefined) return existing
    await sql`
      INSERT INTO settings (key, value, updated_at) VALUES (${SESSION_SECRET_KEY}, ${randomBytes(32).toString('hex')}, ${now})
      ON CONFLICT (key) DO NOTHING`.execute(this.db)
    // Another process may have won the race: read back whichever secret was stored.
    return (await read()) as string
  }
}

/**
 * express-session store on any Store (sessions in the database are what let two instances share sign-ins). Rows
 * expire with the session cookie; expired rows are ignored when read and pruned on writes (at most every ten
 * minutes), so no timer is needed.
 */
export class StoreSessionStore extends session.Store {
  private lastPrunedAt = 0

  constructor(
    private readonly store: Store,
    private readonly now: () => Date = () => new Date(),
  ) {
    super()
  }

  private get sessions(): SessionRepository {
    return this.store.repositories.sessions
  }

  override get(sid: string, callback: (err: unknown, session?: session.SessionData | null) => void): void {
    this.run(callback, async () => {
      const data = await this.sessions.find(sid, this.now().toISOString())
      return data === null ? null : (JSON.parse(data) as session.SessionData)
    })
  }

  override set(sid: string, data: session.SessionData, callback: Callback = () => {}): void {
    this.run(callback, async () => {
      await this.sessions.save(sid, JSON.stringify(data), this.expiresAt(data))
      await this.pruneOccasionally()
    })
  }

  override touch(sid: string, data: session.SessionData, callback: () => void = () => {}): void {
    this.run(callback, async () => {
      await this.sessions.touch(sid, this.expiresAt(data))
    })
  }

  override destroy(sid: string, callback: Callback = () => {}): void {
    this.run(callback, () => this.sessions.remove(sid))
  }

  override length(callback: (err: unknown, length?: number) => void): void {
    this.run(callback, () => this.sessions.countLive(this.now().toISOString()))
  }

  override clear(callback: Callback = () => {}): void {
    this.run(callback, () => this.sessions.removeAll())
  }

  /** Deletes expired rows; returns how many. */
  async pruneExpired(): Promise<number> {
    this.lastPrunedAt = this.now().getTime()
    return this.sessions.removeExpired(this.now().toISOString())
  }

  private async pruneOccasionally(): Promise<void> {
    if (this.now().getTime() - this.lastPrunedAt >= PRUNE_INTERVAL_MS) await this.pruneExpired()
  }

  private expiresAt(data: session.SessionData): string {
    const expires = data.cookie?.expires
    if (expires) return new Date(expires).toISOString()
    return new Date(this.now().getTime() + DEFAULT_TTL_MS).toISOString()
  }

  /** Database errors go to the callback (express-session passes them on to the error handler). */
  private run<T>(callback: (err: unknown, value?: T) => void, compute: () => Promise<T>): void {
    let computing: Promise<T>
    try {
      computing = compute()
    } catch (error) {
      callback(error)
      return
    }
    computing.then(
      (value) => callback(null, value),
      (error: unknown) => callback(error),
    )
  }
}

/**
 * The session signing secret kept in `settings`, created on first use, so sessions survive restarts (and are shared
 * by instances) when SESSION_SECRET is not configured.
 */
export function persistedSessionSecret(store: Store, now: Date = new Date()): Promise<string> {
  return store.repositories.sessions.persistedSecret(now.toISOString())
}
