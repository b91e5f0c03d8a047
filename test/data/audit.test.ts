import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { appendAuditEntry, AuditLog } from '../../src/data/audit.js'
import { openTestDatabase, type Db } from '../../src/data/database.js'
import type { Repositories, Store } from '../../src/data/store.js'
import { describeEachStore } from '../helpers/stores.js'

describeEachStore('AuditLog', (openStore) => {
  let store: Store
  let audit: Repositories['audit']

  beforeEach(async () => {
    store = await openStore()
    audit = store.repositories.audit
  })

  it('records who, when, what, before and after', async () => {
    const entry = await audit.record({
      actor: 'compliance@example.org',
      action: 'override.set',
      entityType: 'service',
      entityId: 'S-001',
      before: { rag: 'green' },
      after: { rag: 'red', reason: 'Embargo', expires: '2026-04-01' },
    })
    expect(entry.id).toBeGreaterThan(0)
    expect(Date.parse(entry.at)).not.toBeNaN()
    const [listed] = await audit.list({ limit: 10 })
    expect(listed).toEqual(entry)
    expect(listed).toMatchObject({
      actor: 'compliance@example.org',
      action: 'override.set',
      entityType: 'service',
      entityId: 'S-001',
      before: { rag: 'green' },
      after: { rag: 'red', reason: 'Embargo', expires: '2026-04-01' },
    })
  })

  it('stores absent before/after as null and numeric entity ids as text', async () => {
    const entry = await audit.record({ actor: 'system', action: 'user.created', entityType: 'user', entityId: 7 })
    expect(entry).toMatchObject({ before: null, after: null, entityId: '7' })
    expect(await audit.list({ limit: 5, entityId: 7 })).toHaveLength(1)
  })

  it('filters by entity, actor and action, newest first, with limit, offset and count', async () => {
    for (let i = 1; i <= 5; i++) {
      await audit.record({ actor: 'a@example.org', action: 'entry.created', entityType: 'service', entityId: 'S-1', after: { i } })
    }
    await audit.record({ actor: 'b@example.org', action: 'entry.created', entityType: 'service', entityId: 'S-2' })
    await audit.record({ actor: 'b@example.org', action: 'user.created', entityType: 'user', entityId: 3 })

    const forS1 = await audit.list({ entityType: 'service', entityId: 'S-1', limit: 2, offset: 1 })
    expect(forS1.map((e) => e.after)).toEqual([{ i: 4 }, { i: 3 }])
    expect(await audit.count({ entityType: 'service', entityId: 'S-1' })).toBe(5)
    expect(await audit.count({ actor: 'b@example.org' })).toBe(2)
    expect(await audit.count({ action: 'user.created' })).toBe(1)
    expect(await audit.count({ actor: 'b@example.org', action: 'entry.created' })).toBe(1)
    expect(await audit.count()).toBe(7)
    expect(await audit.actions()).toEqual(['entry.created', 'user.created'])
  })

  it('filters by any of several entity ids (a service under its id or its reference)', async () => {
    await audit.record({ actor: 'a', action: 'override.set', entityType: 'service', entityId: 7 })
    await audit.record({ actor: 'a', action: 'intelligence.recorded', entityType: 'service', entityId: 'SVC-7' })
    await audit.record({ actor: 'a', action: 'override.set', entityType: 'service', entityId: 8 })
    await audit.record({ actor: 'a', action: 'user.created', entityType: 'user', entityId: 7 })
    const filter = { entityType: 'service', entityIds: ['7', 'SVC-7'] }
    expect((await audit.list({ ...filter, limit: 10 })).map((e) => e.action)).toEqual([
      'intelligence.recorded',
      'override.set',
    ])
    expect(await audit.count(filter)).toBe(2)
    expect(await audit.count({ entityIds: [] })).toBe(0)
  })

  it('filters by time: from inclusive, a date-only "to" includes that whole day', async () => {
    await audit.record({ actor: 'x', action: 'a', entityType: 't', entityId: 1 }, '2026-03-13T23:59:59.999Z')
    await audit.record({ actor: 'x', action: 'a', entityType: 't', entityId: 2 }, '2026-03-14T00:00:00.000Z')
    await audit.record({ actor: 'x', action: 'a', entityType: 't', entityId: 3 }, '2026-03-14T23:59:59.000Z')
    await audit.record({ actor: 'x', action: 'a', entityType: 't', entityId: 4 }, '2026-03-15T00:00:00.000Z')

    const ids = async (filter: { from?: string; to?: string }): Promise<(string | null)[]> =>
      (await audit.list({ ...filter, limit: 10 })).map((e) => e.entityId).reverse()
    expect(await ids({ from: '2026-03-14', to: '2026-03-14' })).toEqual(['2', '3'])
    expect(await ids({ from: '2026-03-14T12:00:00.000Z' })).toEqual(['3', '4'])
    expect(await ids({ to: '2026-03-14T23:59:59.000Z' })).toEqual(['1', '2'])
  })

  it('an entry recorded in a write that fails rolls back with it', async () => {
    await expect(
      store.write(async (repositories) => {
        await repositories.audit.record({ actor: 'x', action: 'a', entityType: 't' })
        throw new Error('the write failed')
      }),
    ).rejects.toThrow('the write failed')
    expect(await audit.count()).toBe(0)
  })
})

// The table's triggers and the raw-handle helper kept for repositories not yet on the store (SQLite only).
describe('audit_log on SQLite', () => {
  let db: Db
  let audit: AuditLog

  beforeEach(() => {
    db = openTestDatabase()
    audit = new AuditLog(db)
  })
  afterEach(() => db.close())

  it('is append-only at the database: updates and deletes are refused', async () => {
    await audit.record({ actor: 'x', action: 'a', entityType: 't' })
    expect(() => db.prepare(`UPDATE audit_log SET actor = 'someone else'`).run()).toThrow(/append-only/)
    expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/)
    expect(await audit.count()).toBe(1)
  })

  it('appendAuditEntry rolls back with the transaction it is part of', () => {
    expect(() =>
      db.transaction(() => {
        appendAuditEntry(db, { actor: 'x', action: 'a', entityType: 't' })
        throw new Error('the write failed')
      })(),
    ).toThrow('the write failed')
    expect((db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n).toBe(0)
  })
})
