import { beforeAll, expect, it } from 'vitest'
import type { ListingFilter } from '../../src/data/serviceListing.js'
import type { Repositories } from '../../src/data/store.js'
import { riskFlags, riskResult, serviceInput } from '../helpers/factories.js'
import { describeEachStore } from '../helpers/stores.js'

describeEachStore('ServiceListingRepository', (openStore) => {
  let listing: Repositories['listing']

  beforeAll(async () => {
    const store = await openStore()
    listing = store.repositories.listing
    const runs = store.repositories.runs
    const created = await store.repositories.services.upsertMany([
      serviceInput({
        ref: 'S1',
        name: 'Acorn House',
        providerName: 'Zeta Care',
        serviceType: 'care_home_nursing',
        area: 'North',
        cqcLocationId: '1-111',
      }),
      serviceInput({ ref: 'S2', name: '100% Care', providerName: 'Alpha Ltd', serviceType: 'home_care', area: 'South' }),
      serviceInput({
        ref: 'S3',
        name: 'Care_Home One',
        providerName: 'Beta Group',
        serviceType: 'care_home_residential',
        area: 'North',
      }),
      serviceInput({
        ref: 'S4',
        name: 'Care Home Two',
        providerName: 'Gamma',
        serviceType: 'care_home_residential',
        area: 'East',
      }),
      serviceInput({
        ref: 'S5',
        name: 'Elm Lodge',
        providerName: 'alpha ltd',
        serviceType: 'supported_living',
        area: 'South',
      }),
    ])
    const ids = created.map((outcome) => outcome.id)
    // S5 has no published judgement yet. Each is published a minute after the one before.
    const judgements = [
      riskResult({ rag: 'red', score: 90 }),
      riskResult({ rag: 'red', score: 80, flags: riskFlags({ deteriorating: true }) }),
      riskResult({ rag: 'amber', score: 40 }),
      riskResult({ rag: 'green', score: 0 }),
    ]
    for (const [index, result] of judgements.entries()) {
      const now = new Date(Date.parse('2026-03-14T09:00:00Z') + index * 60_000).toISOString()
      const runId = await runs.startRun('entry')
      await runs.stageAndPublish(runId, [{ serviceId: ids[index] as number, result }], { now })
    }
  })

  async function refs(filter: ListingFilter = {}): Promise<string[]> {
    return (await listing.list(filter)).rows.map((row) => row.ref)
  }

  it('lists every service, worst first, highest score first within a colour, unjudged last', async () => {
    const { total, rows } = await listing.list({})
    expect(total).toBe(5)
    expect(rows.map((r) => r.ref)).toEqual(['S1', 'S2', 'S3', 'S4', 'S5'])
  })

  it('reverses the colour order when sorted descending', async () => {
    expect(await refs({ sort: 'rag', direction: 'desc' })).toEqual(['S5', 'S4', 'S3', 'S2', 'S1'])
  })

  it('maps each row with its published judgement', async () => {
    const { rows } = await listing.list({ ref: ['S2', 'S5'] })
    expect(rows[0]).toEqual({
      id: expect.any(Number),
      ref: 'S2',
      name: '100% Care',
      providerId: expect.any(Number),
      // The provider takes the name it was last imported with; S5 matched it case-insensitively.
      providerName: 'alpha ltd',
      serviceType: 'home_care',
      area: 'South',
      capacity: null,
      contractStatus: 'contracted',
      cqcLocationId: null,
      rag: 'red',
      score: 80,
      changedAt: '2026-03-14T09:01:00.000Z',
      result: riskResult({ rag: 'red', score: 80, flags: riskFlags({ deteriorating: true }) }),
      dpsEligible: null,
    })
    expect(rows[1]).toMatchObject({ ref: 'S5', rag: null, score: null, changedAt: null, result: null })
    // Services matched to the same provider by name share it.
    expect(rows[1]?.providerId).toBe(rows[0]?.providerId)
  })

  it('filters by RAG, area and type, each accepting several values', async () => {
    expect(await refs({ rag: ['amber', 'green'] })).toEqual(['S3', 'S4'])
    expect(await refs({ area: ['North'] })).toEqual(['S1', 'S3'])
    expect(await refs({ area: ['East', 'South'] })).toEqual(['S2', 'S4', 'S5'])
    expect(await refs({ type: ['care_home_residential', 'home_care'] })).toEqual(['S2', 'S3', 'S4'])
    expect(await refs({ rag: ['red'], area: ['South'] })).toEqual(['S2'])
    expect(await refs({ rag: [], area: [] })).toHaveLength(5)
  })

  it('searches service name, provider name and ref case-insensitively', async () => {
    expect(await refs({ q: 'acorn' })).toEqual(['S1'])
    expect(await refs({ q: 'ALPHA' })).toEqual(['S2', 'S5'])
    expect(await refs({ q: 'care home' })).toEqual(['S4'])
    expect(await refs({ q: 's3' })).toEqual(['S3'])
    expect(await refs({ q: 'nothing like it' })).toEqual([])
  })

  it('treats % and _ in the search as plain characters', async () => {
    expect(await refs({ q: '%' })).toEqual(['S2'])
    expect(await refs({ q: '100%' })).toEqual(['S2'])
    expect(await refs({ q: 'care_home' })).toEqual(['S3'])
    expect(await refs({ q: '_' })).toEqual(['S3'])
    expect(await refs({ q: '\\' })).toEqual([])
  })

  it('finds the deteriorating services', async () => {
    expect(await refs({ deteriorating: true })).toEqual(['S2'])
    expect(await refs({ deteriorating: false })).toHaveLength(5)
  })

  it('sorts by name, provider, type, area and time of change, either way', async () => {
    expect(await refs({ sort: 'name' })).toEqual(['S2', 'S1', 'S4', 'S3', 'S5'])
    expect(await refs({ sort: 'name', direction: 'desc' })).toEqual(['S5', 'S3', 'S4', 'S1', 'S2'])
    // Case does not matter ('alpha ltd' sorts first) and ties are broken by service name.
    expect(await refs({ sort: 'provider' })).toEqual(['S2', 'S5', 'S3', 'S4', 'S1'])
    expect(await refs({ sort: 'type' })).toEqual(['S1', 'S4', 'S3', 'S2', 'S5'])
    expect(await refs({ sort: 'area' })).toEqual(['S4', 'S1', 'S3', 'S2', 'S5'])
    expect(await refs({ sort: 'changed', direction: 'desc', rag: ['red', 'amber', 'green'] })).toEqual([
      'S4',
      'S3',
      'S2',
      'S1',
    ])
  })

  it('pages the rows and reports the total of the whole filtered list', async () => {
    const firstPage = await listing.list({ limit: 2 })
    const secondPage = await listing.list({ limit: 2, offset: 2 })
    const lastPage = await listing.list({ limit: 2, offset: 4 })
    const beyond = await listing.list({ limit: 2, offset: 10 })

    expect([firstPage.total, secondPage.total, lastPage.total, beyond.total]).toEqual([5, 5, 5, 5])
    expect([...firstPage.rows, ...secondPage.rows, ...lastPage.rows].map((r) => r.ref)).toEqual(await refs())
    expect(beyond.rows).toEqual([])

    const filtered = await listing.list({ area: ['South'], limit: 1 })
    expect(filtered.total).toBe(2)
    expect(filtered.rows).toHaveLength(1)
  })
}, { notYetOnPostgres: 'creates services through ServiceRepository, not on the seam yet' })
