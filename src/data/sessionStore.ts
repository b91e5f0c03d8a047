import { randomBytes } from 'node:crypto'
import session from 'express-session'
import { writeIfNotBusy } from './advisoryWrite.js'
import type { Db } from './database.js'

/** Used when a session has no cookie expiry (it always has one in this app: rolling maxAge). */
const DEFAULT_TTL_MS = 30 * 60 * 1000
const PRUNE_INTERVAL_MS = 10 * 60 * 1000
const SESSION_SECRET_KEY = 'session_secret'

type Callback = (err?: unknown) => void

/**
 * express-session store on the `sessions` table. Rows expire with the session cookie; expired rows are
 * ignored when read and pruned on writes (at most every ten minutes), so no timer is needed.
 */
export class SqliteSessionStore extends session.Store {
  private readonly statements
  private lastPrunedAt = 0

  constructor(
    private readonly db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {
    super()
    this.statements = {
      get: db.prepare('SELECT data FROM sessions WHERE sid = ? AND expires_at > ?'),
      upsert: db.prepare(
        `INSERT INTO sessions (sid, data, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (sid) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`,
      ),
      touch: db.prepare('UPDATE sessions SET expires_at = ? WHERE sid = ?'),
      destroy: db.prepare('DELETE FROM sessions WHERE sid = ?'),
      prune: db.prepare('DELETE FROM sessions WHERE expires_at <= ?'),
      count: db.prepare('SELECT COUNT(*) AS n FROM sessions WHERE expires_at > ?'),
      clear: db.prepare('DELETE FROM sessions'),
    }
  }

  override get(sid: string, callback: (err: unknown, session?: session.SessionData | null) => void): void {
    this.run(callback, () => {
      const row = this.statements.get.get(sid, this.now().toISOString()) as { data: string } | undefined
      return row === undefined ? null : (JSON.parse(row.data) as session.SessionData)
    })
  }

  override set(sid: string, data: session.SessionData, callback: Callback = () => {}): void {
    this.run(callback, () => {
      this.statements.upsert.run(sid, JSON.stringify(data), this.expiresAt(data))
      this.pruneOccasionally()
    })
  }

  override touch(sid: string, data: session.SessionData, callback: () => void = () => {}): void {
    this.run(callback, () => {
      // Advisory (the rolling expiry moves again on the next request): never wait on a refresh's write lock.
      writeIfNotBusy(this.db, () => this.statements.touch.run(this.expiresAt(data), sid))
    })
  }

  override destroy(sid: string, callback: Callback = () => {}): void {
    this.run(callback, () => {
      this.statements.destroy.run(sid)
    })
  }

  override length(callback: (err: unknown, length?: number) => void): void {
    this.run(callback, () => (this.statements.count.get(this.now().toISOString()) as { n: number }).n)
  }

  override clear(callback: Callback = () => {}): void {
    this.run(callback, () => {
      this.statements.clear.run()
    })
  }

  /** Deletes expired rows; returns how many. */
  pruneExpired(): number {
    this.lastPrunedAt = this.now().getTime()
    return this.statements.prune.run(this.now().toISOString()).changes
  }

  private pruneOccasionally(): void {
    if (this.now().getTime() - this.lastPrunedAt >= PRUNE_INTERVAL_MS) this.pruneExpired()
  }

  private expiresAt(data: session.SessionData): string {
    const expires = data.cookie?.expires
    if (expires) return new Date(expires).toISOString()
    return new Date(this.now().getTime() + DEFAULT_TTL_MS).toISOString()
  }

  /** Database errors go to the callback (express-session passes them on to the error handler). */
  private run<T>(callback: (err: unknown, value?: T) => void, compute: () => T): void {
    let value: T
    try {
      value = compute()
    } catch (error) {
      callback(error)
      return
    }
    callback(null, value)
  }
}

/**
 * The session signing secret kept in `settings`, created (32 random bytes) on first use, so sessions
 * survive restarts when SESSION_SECRET is not configured. Synchronous: it is read once while the app is built.
 */
export function persistedSessionSecret(db: Db): string {
  const read = db.prepare('SELECT value FROM settings WHERE key = ?')
  const existing = read.get(SESSION_SECRET_KEY) as { value: string } | undefined
  if (existing) return existing.value
  db.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING').run(
    SESSION_SECRET_KEY,
    randomBytes(32).toString('hex'),
    new Date().toISOString(),
  )
  // Another process may have won the race: read back whichever secret was stored.
  return (read.get(SESSION_SECRET_KEY) as { value: string }).value
}
