import type { SessionData } from 'express-session'
import { beforeEach, expect, it } from 'vitest'
import { persistedSessionSecret, StoreSessionStore } from '../../src/data/sessionStore.js'
import type { Store } from '../../src/data/store.js'
import { describeEachStore } from '../helpers/stores.js'

function call<T>(fn: (cb: (err: unknown, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))))
}

function sessionExpiring(expires: string, extra: Partial<SessionData> = {}): SessionData {
  return { cookie: { originalMaxAge: 1800000, expires: new Date(expires), httpOnly: true, path: '/' }, ...extra } as SessionData
}

describeEachStore('StoreSessionStore', (openStore) => {
  let database: Store
  let now: Date
  let store: StoreSessionStore

  beforeEach(async () => {
    database = await openStore()
    now = new Date('2026-03-14T10:00:00Z')
    store = new StoreSessionStore(database, () => now)
  })

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
    expect(await store.pruneExpired()).toBe(1)
    // Read back at a time before either expiry: only the live row is left.
    const sessions = database.repositories.sessions
    expect(await sessions.find('old', '2026-03-14T10:00:00Z')).toBeNull()
    expect(await sessions.find('live', '2026-03-14T10:00:00Z')).not.toBeNull()
    expect(await sessions.countLive('2026-03-14T10:00:00Z')).toBe(1)
  })

  it('prunes on write once the prune interval has passed', async () => {
    await call((cb) => store.set('old', sessionExpiring('2026-03-14T10:05:00Z'), cb))
    now = new Date('2026-03-14T10:20:00Z')
    await call((cb) => store.set('new', sessionExpiring('2026-03-14T10:50:00Z'), cb))
    expect(await database.repositories.sessions.countLive('2026-03-14T10:00:00Z')).toBe(1)
  })

  it('clears every session', async () => {
    await call((cb) => store.set('a', sessionExpiring('2026-03-14T11:00:00Z'), cb))
    await call((cb) => store.set('b', sessionExpiring('2026-03-14T11:00:00Z'), cb))
    await call((cb) => store.clear(cb))
    expect(await call<number>((cb) => store.length(cb))).toBe(0)
  })

  it('a touch is an advisory write: it reports whether it was written', async () => {
    await call((cb) => store.set('sid-1', sessionExpiring('2026-03-14T10:30:00Z'), cb))
    expect(await database.repositories.sessions.touch('sid-1', '2026-03-14T11:00:00.000Z')).toBe(true)
    expect(await database.repositories.sessions.find('sid-1', '2026-03-14T10:45:00Z')).not.toBeNull()
  })

  it('a session written inside a failed write is not kept', async () => {
    await expect(
      database.write(async ({ sessions }) => {
        await sessions.save('sid-1', '{}', '2026-03-14T11:00:00Z')
        throw new Error('refused half way')
      }),
    ).rejects.toThrow('refused half way')
    expect(await database.repositories.sessions.find('sid-1', '2026-03-14T10:00:00Z')).toBeNull()
  })

  it('passes database errors to the callback', async () => {
    await database.close()
    await expect(call((cb) => store.get('sid', cb))).rejects.toThrow()
  })

  it('creates a random secret once and returns the same one afterwards', async () => {
    const secret = await persistedSessionSecret(database)
    expect(secret).toMatch(/^[0-9a-f]{64}$/)
    expect(await persistedSessionSecret(database)).toBe(secret)
    const other = await openStore()
    expect(await persistedSessionSecret(other)).not.toBe(secret)
    await other.close()
  })
})
