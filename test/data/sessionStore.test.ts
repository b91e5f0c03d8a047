import type { SessionData } from 'express-session'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openTestDatabase, type Db } from '../../src/data/database.js'
import { persistedSessionSecret, SqliteSessionStore } from '../../src/data/sessionStore.js'

function call<T>(fn: (cb: (err: unknown, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))))
}

function sessionExpiring(expires: string, extra: Partial<SessionData> = {}): SessionData {
  return { cookie: { originalMaxAge: 1800000, expires: new Date(expires), httpOnly: true, path: '/' }, ...extra } as SessionData
}

describe('SqliteSessionStore', () => {
  let db: Db
  let now: Date
  let store: SqliteSessionStore

  beforeEach(() => {
    db = openTestDatabase()
    now = new Date('2026-03-14T10:00:00Z')
    store = new SqliteSessionStore(db, () => now)
  })
  afterEach(() => db.close())

  it('sets, gets, overwrites and destroys a session', async () => {
    await call((cb) => store.set('sid-1', sessionExpiring('2026-03-14T10:30:00Z', { userId: 4 }), cb))
    expect(await call<SessionData | null>((cb) => store.get('sid-1', cb))).toMatchObject({
      userId: 4,
      cookie: { expires: '2026-03-14T10:30:00.000Z' },
    })
    await call((cb) => store.set('sid-1', sessionExpiring('2026-03-14T10:30:00Z', { userId: 5 }), cb))
    expect(await call<SessionData | null>((cb) => store.get('sid-1', cb))).toMatchObject({ userId: 5 })
    expect(await call<number>((cb) => store.length(cb))).toBe(1)

    await call((cb) => store.destroy('sid-1', cb))
    expect(await call((cb) => store.get('sid-1', cb))).toBeNull()
    expect(await call((cb) => store.get('never-existed', cb))).toBeNull()
  })

  it('treats an expired session as absent, and touch extends it', async () => {
    await call((cb) => store.set('sid-1', sessionExpiring('2026-03-14T10:30:00Z'), cb))
    now = new Date('2026-03-14T10:29:00Z')
    await call((cb) => store.touch('sid-1', sessionExpiring('2026-03-14T10:59:00Z'), () => cb(null)))
    now = new Date('2026-03-14T10:45:00Z')
    expect(await call((cb) => store.get('sid-1', cb))).not.toBeNull()
    now = new Date('2026-03-14T10:59:00Z')
    expect(await call((cb) => store.get('sid-1', cb))).toBeNull()
  })

  it('prunes expired rows', async () => {
    await call((cb) => store.set('old', sessionExpiring('2026-03-14T10:05:00Z'), cb))
    await call((cb) => store.set('live', sessionExpiring('2026-03-14T11:00:00Z'), cb))
    now = new Date('2026-03-14T10:10:00Z')
    expect(store.pruneExpired()).toBe(1)
    const sids = (db.prepare('SELECT sid FROM sessions').all() as { sid: string }[]).map((r) => r.sid)
    expect(sids).toEqual(['live'])
  })

  it('prunes on write once the prune interval has passed', async () => {
    await call((cb) => store.set('old', sessionExpiring('2026-03-14T10:05:00Z'), cb))
    now = new Date('2026-03-14T10:20:00Z')
    await call((cb) => store.set('new', sessionExpiring('2026-03-14T10:50:00Z'), cb))
    expect(db.prepare('SELECT COUNT(*) AS n FROM sessions').get()).toEqual({ n: 1 })
  })

  it('clears every session', async () => {
    await call((cb) => store.set('a', sessionExpiring('2026-03-14T11:00:00Z'), cb))
    await call((cb) => store.set('b', sessionExpiring('2026-03-14T11:00:00Z'), cb))
    await call((cb) => store.clear(cb))
    expect(await call<number>((cb) => store.length(cb))).toBe(0)
  })

  it('passes database errors to the callback', async () => {
    db.close()
    await expect(call((cb) => store.get('sid', cb))).rejects.toThrow()
    db = openTestDatabase()
  })
})

describe('persistedSessionSecret', () => {
  it('creates a random secret once and returns the same one afterwards', () => {
    const db = openTestDatabase()
    const secret = persistedSessionSecret(db)
    expect(secret).toMatch(/^[0-9a-f]{64}$/)
    expect(persistedSessionSecret(db)).toBe(secret)
    const other = openTestDatabase()
    expect(persistedSessionSecret(other)).not.toBe(secret)
    db.close()
    other.close()
  })
})
