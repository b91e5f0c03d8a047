import { beforeEach, expect, it } from 'vitest'
import type { Repositories, Store } from '../../src/data/store.js'
import { DEFAULT_GATES } from '../../src/domain/eligibility.js'
import { assessRisk } from '../../src/domain/risk.js'
import { DEFAULT_RULE_SET } from '../../src/domain/ruleSet.js'
import { describeEachStore } from '../helpers/stores.js'

describeEachStore('MarketRepository', (openStore) => {
  let store: Store
  let market: Repositories['market']
  let ids: Record<string, number>

  beforeEach(async () => {
    store = await openStore()
    market = store.repositories.market
    const upserted = await store.repositories.services.upsertMany([
      {
        ref: 'A',
        name: 'Alder House',
        providerName: 'Tree Care Ltd',
        cqcProviderId: '1-1',
        serviceType: 'care_home_nursing',
        area: 'North',
        capacity: 40,
        contractStatus: 'contracted',
        registeredOn: '2020-01-01',
      },
      {
        ref: 'B',
        name: 'Birch Homecare',
        providerName: 'Tree Care Ltd',
        cqcProviderId: '1-1',
        serviceType: 'home_care',
        area: 'South',
        contractStatus: 'spot',
      },
    ])
    ids = Object.fromEntries(upserted.map((u) => [u.ref, u.id]))
    const dps = await store.repositories.dps.createDps({
      name: 'Care Homes DPS',
      gates: DEFAULT_GATES,
      lots: [{ name: 'Nursing', tier: 'tier2', serviceType: 'care_home_nursing' }],
    })
    const repo = store.repositories.dps
    const membership = await repo.admitMember({ lotId: dps.lots[0]!.id, serviceId: ids.A!, on: '2025-02-01' })
    await repo.removeMember(membership.id, { on: '2026-03-01', reason: 'Left the framework' })
  })

  it('lists every service with its register facts and DPS memberships', async () => {
    const services = await market.listMarketServices()
    expect(services.map((s) => s.ref)).toEqual(['A', 'B'])
    expect(services[0]).toMatchObject({
      providerName: 'Tree Care Ltd',
      serviceType: 'care_home_nursing',
      capacity: 40,
      contractStatus: 'contracted',
      registeredOn: '2020-01-01',
      deregisteredOn: null,
      memberships: [
        {
          dpsName: 'Care Homes DPS',
          lotName: 'Nursing',
          status: 'removed',
          admittedOn: '2025-02-01',
          statusChangedOn: '2026-03-01',
        },
      ],
    })
    expect(services[1]?.memberships).toEqual([])
  })

  it('gives a provider and its services with their published judgements', async () => {
    const runs = store.repositories.runs
    await store.repositories.observations.append([
      {
        serviceId: ids.A!,
        indicator: 'cqc_rating',
        source: 'cqc_api',
        observedOn: '2025-01-01',
        value: 'inadequate',
        naturalKey: 'cqc:A',
      },
    ])
    const runId = await runs.startRun('entry')
    const observations = await store.repositories.observations.listLive(ids.A!)
    const result = assessRisk({ observations, ruleSet: DEFAULT_RULE_SET, ruleSetVersion: 1, asOf: '2026-01-01' })
    await runs.stageAndPublish(runId, [{ serviceId: ids.A!, result }])

    const service = await store.repositories.services.findByRef('A')
    const provider = await market.findProvider(service!.providerId)
    expect(provider).toEqual({ id: service!.providerId, name: 'Tree Care Ltd', cqcProviderId: '1-1', companiesHouseNumber: null })
    const rows = await market.providerServices(service!.providerId)
    expect(rows.map((r) => [r.ref, r.rag])).toEqual([
      ['A', 'red'],
      ['B', null],
    ])
    expect(rows[0]?.reason).toContain('Inadequate')
    expect(await market.findProvider(9999)).toBeNull()
    expect((await market.currentServiceRisks()).map((r) => r.ref)).toEqual(['A', 'B'])
  })
}, { notYetOnPostgres: 'creates services through ServiceRepository, not on the seam yet' })
