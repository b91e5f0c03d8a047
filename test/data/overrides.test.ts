import { beforeEach, expect, it } from 'vitest'
import type { Repositories, Store } from '../../src/data/store.js'
import { createService } from '../helpers/factories.js'
import { describeEachStore } from '../helpers/stores.js'

describeEachStore('OverridesRepository', (openStore) => {
  let store: Store
  let overrides: Repositories['overrides']
  let audit: Repositories['audit']
  let serviceId: number
  let otherId: number

  beforeEach(async () => {
    store = await openStore()
    overrides = store.repositories.overrides
    audit = store.repositories.audit
    serviceId = await createService(store, { name: 'Elm House' })
    otherId = await createService(store, { name: 'Oak Lodge' })
  })

  const input = (overridesOf: Partial<{ rag: 'red' | 'amber' | 'green'; reason: string; expiresOn: string }> = {}) => ({
    serviceId,
    rag: 'amber' as const,
    reason: 'Provider under investigation',
    expiresOn: '2026-12-01',
    ...overridesOf,
  })

  it('sets an override and audits it against the service', async () => {
    const { override, replaced } = await overrides.set(input(), 'officer@example.org', '2026-11-23')
    expect(replaced).toBeNull()
    expect(override).toMatchObject({
      serviceId,
      rag: 'amber',
      reason: 'Provider under investigation',
      expiresOn: '2026-12-01',
      setBy: 'officer@example.org',
      revokedAt: null,
    })
    const [entry] = await audit.list({ entityType: 'service', entityId: serviceId, limit: 10 })
    expect(entry).toMatchObject({
      actor: 'officer@example.org',
      action: 'override.set',
      entityType: 'service',
      entityId: String(serviceId),
      before: null,
      after: { overrideId: override.id, rag: 'amber', reason: 'Provider under investigation', expiresOn: '2026-12-01' },
    })
  })

  it('looks up the active override per service, up to and including its expiry day', async () => {
    await overrides.set(input({ expiresOn: '2026-12-01' }), 'a', '2026-11-23')
    await overrides.set({ ...input({ rag: 'red' }), serviceId: otherId }, 'a', '2026-11-23')
    const onExpiryDay = await overrides.activeFor([serviceId, otherId], '2026-12-01')
    expect(onExpiryDay.get(serviceId)).toEqual({
      rag: 'amber',
      reason: 'Provider under investigation',
      expiresOn: '2026-12-01',
      setBy: 'a',
    })
    expect(onExpiryDay.get(otherId)?.rag).toBe('red')
    expect((await overrides.activeFor([serviceId], '2026-12-02')).size).toBe(0)
    expect((await overrides.activeFor([otherId], '2026-11-23')).has(serviceId)).toBe(false)
  })

  it('replaces the earlier active override, revoking it in the same write', async () => {
    const first = await overrides.set(input({ rag: 'red' }), 'a', '2026-11-23')
    const second = await overrides.set(input({ rag: 'green', reason: 'Concern resolved' }), 'b', '2026-11-23')
    expect(second.replaced).toMatchObject({ id: first.override.id, revokedBy: 'b', revokeReason: 'Replaced by a new override' })
    expect((await overrides.activeFor([serviceId], '2026-11-23')).get(serviceId)?.rag).toBe('green')
    const [entry] = await audit.list({ entityType: 'service', entityId: serviceId, limit: 1 })
    expect(entry).toMatchObject({ action: 'override.set', before: { rag: 'red' }, after: { rag: 'green' } })
    expect(await overrides.listForService(serviceId)).toHaveLength(2)
  })

  it('revokes early, audited once; revoking again changes nothing', async () => {
    const { override } = await overrides.set(input(), 'a', '2026-11-23')
    const revoked = await overrides.revoke(override.id, 'b', 'Revoked early')
    expect(revoked).toMatchObject({ revokedBy: 'b', revokeReason: 'Revoked early' })
    expect(revoked?.revokedAt).not.toBeNull()
    expect((await overrides.activeFor([serviceId], '2026-11-23')).size).toBe(0)
    const again = await overrides.revoke(override.id, 'c')
    expect(again?.revokedBy).toBe('b')
    expect(await audit.count({ action: 'override.revoked' })).toBe(1)
    expect(await overrides.revoke(9999, 'c')).toBeUndefined()
  })

  it('lists overrides in force expiring within a window, soonest first, with the service', async () => {
    await overrides.set(input({ expiresOn: '2026-11-30' }), 'a', '2026-11-23')
    await overrides.set({ ...input({ expiresOn: '2026-11-25' }), serviceId: otherId }, 'a', '2026-11-23')
    const expiring = await overrides.expiringBetween('2026-11-23', '2026-11-28')
    expect(expiring.map((o) => [o.serviceName, o.expiresOn])).toEqual([['Oak Lodge', '2026-11-25']])
    const later = await overrides.expiringBetween('2026-11-23', '2026-11-30')
    expect(later.map((o) => o.serviceName)).toEqual(['Oak Lodge', 'Elm House'])
  })

  it('refuses an unknown RAG at the database too', async () => {
    await expect(overrides.set(input({ rag: 'purple' as never }), 'a', '2026-11-23')).rejects.toThrow(/CHECK/)
    expect(await audit.count()).toBe(0)
  })

  it('an override set in a write that fails later is not kept, nor its audit entry', async () => {
    await expect(
      store.write(async (repositories) => {
        await repositories.overrides.set(input(), 'a', '2026-11-23')
        throw new Error('later write failed')
      }),
    ).rejects.toThrow('later write failed')
    expect(await overrides.listForService(serviceId)).toEqual([])
    expect(await audit.count()).toBe(0)
  })
}, { notYetOnPostgres: 'creates services through ServiceRepository, not on the seam yet' })
