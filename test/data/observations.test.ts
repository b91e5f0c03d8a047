import { beforeEach, describe, expect, it } from 'vitest'
import type { Repositories, Store } from '../../src/data/store.js'
import type { NewObservation } from '../../src/domain/observation.js'
import { createService, newObservation } from '../helpers/factories.js'
import { describeEachStore } from '../helpers/stores.js'

describeEachStore('ObservationRepository', (openStore) => {
  let store: Store
  let observations: Repositories['observations']
  let serviceId: number

  beforeEach(async () => {
    store = await openStore()
    observations = store.repositories.observations
    serviceId = await createService(store)
  })

  function companyStatus(value: string, observedOn: string, source: NewObservation['source'] = 'companies_house') {
    return newObservation(serviceId, {
      indicator: 'insolvency',
      source,
      value,
      observedOn,
      detail: { companyNumber: '06070408' },
      naturalKey: 'ch:06070408',
      dedupe: 'latest_value',
    })
  }

  it('appends facts and reads them back as domain objects', async () => {
    const result = await observations.append([
      newObservation(serviceId, {
        indicator: 'default_notice',
        source: 'council_csv',
        observedOn: '2026-02-01',
        endDate: '2026-03-01',
        value: 'default_notice',
        detail: { outcome: 'resolved' },
        reference: 'DN-7',
        notes: 'Late visits',
        enteredBy: 'officer@example.org',
        naturalKey: 'council:DN-7',
      }),
      newObservation(serviceId, { observedOn: '2026-01-15', naturalKey: 'council:EMB-1' }),
    ])

    expect(result).toEqual({
      inserted: 2,
      unchanged: 0,
      changedServiceIds: [serviceId],
      insertedIds: [expect.any(Number), expect.any(Number)],
    })
    const live = await observations.listLive(serviceId)
    // Oldest fact first.
    expect(live.map((o) => o.indicator)).toEqual(['embargo', 'default_notice'])
    expect(live[1]).toEqual({
      id: result.insertedIds[0],
      indicator: 'default_notice',
      source: 'council_csv',
      observedOn: '2026-02-01',
      endDate: '2026-03-01',
      value: 'default_notice',
      detail: { outcome: 'resolved' },
      reference: 'DN-7',
      notes: 'Late visits',
      enteredBy: 'officer@example.org',
      recordedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    })
    expect(live[0]).toMatchObject({ endDate: null, detail: {}, reference: null, notes: null, enteredBy: null })
    expect(await observations.count()).toBe(2)
  })

  it('skips a fact whose natural key is already stored for that service and indicator', async () => {
    const first = newObservation(serviceId, { naturalKey: 'council:EMB-1' })
    await observations.append([first])

    const again = await observations.append([first, { ...first, value: 'embargo', observedOn: '2026-03-02' }])

    expect(again).toEqual({ inserted: 0, unchanged: 2, changedServiceIds: [], insertedIds: [] })
    expect(await observations.count()).toBe(1)
  })

  it('scopes the natural key to service and indicator', async () => {
    const other = await createService(store)
    const result = await observations.append([
      newObservation(serviceId, { naturalKey: 'council:X-1' }),
      newObservation(other, { naturalKey: 'council:X-1' }),
      newObservation(serviceId, { indicator: 'default_notice', value: 'default_notice', naturalKey: 'council:X-1' }),
    ])
    expect(result.inserted).toBe(3)
    expect(result.changedServiceIds.sort()).toEqual([serviceId, other].sort())
  })

  it("'latest_value' records a status each time it changes, even back to an earlier value", async () => {
    await observations.append([companyStatus('active', '2026-01-01')])
    await observations.append([companyStatus('administration', '2026-02-01')])
    const back = await observations.append([companyStatus('active', '2026-03-01')])

    expect(back.inserted).toBe(1)
    const values = (await observations.listLive(serviceId)).map((o) => [o.observedOn, o.value])
    expect(values).toEqual([
      ['2026-01-01', 'active'],
      ['2026-02-01', 'administration'],
      ['2026-03-01', 'active'],
    ])
  })

  it("'latest_value' adds nothing when the status is seen again unchanged", async () => {
    await observations.append([companyStatus('active', '2026-01-01')])
    const repeat = await observations.append([companyStatus('active', '2026-01-02')])
    const sameDay = await observations.append([companyStatus('active', '2026-01-01')])

    expect(repeat).toMatchObject({ inserted: 0, unchanged: 1, changedServiceIds: [] })
    expect(sameDay).toMatchObject({ inserted: 0, unchanged: 1 })
    expect(await observations.count()).toBe(1)
  })

  it("'latest_value' compares with the same source only", async () => {
    await observations.append([companyStatus('active', '2026-01-01', 'council_form')])
    const fromCompaniesHouse = await observations.append([companyStatus('active', '2026-01-02')])
    expect(fromCompaniesHouse.inserted).toBe(1)
  })

  it('keeps a superseded fact in the history and hides it from the live list', async () => {
    const { insertedIds } = await observations.append([newObservation(serviceId, { naturalKey: 'council:EMB-1' })])
    const originalId = insertedIds[0] as number

    const edit = await observations.append([
      newObservation(serviceId, {
        naturalKey: `council:EMB-1:edit:${originalId}`,
        endDate: '2026-03-10',
        supersedes: originalId,
        enteredBy: 'officer@example.org',
      }),
    ])
    const editId = edit.insertedIds[0] as number

    const live = await observations.listLive(serviceId)
    expect(live.map((o) => o.id)).toEqual([editId])
    expect(live[0]?.endDate).toBe('2026-03-10')

    const history = await observations.listHistory(serviceId)
    expect(history.map((o) => [o.id, o.supersedesId, o.supersededById])).toEqual([
      [editId, originalId, null],
      [originalId, null, editId],
    ])
    expect(await observations.findById(originalId)).toMatchObject({
      id: originalId,
      serviceId,
      naturalKey: 'council:EMB-1',
      endDate: null,
      supersededById: editId,
    })
    expect(await observations.findById(9999)).toBeNull()
  })

  describe('appendOrSupersede', () => {
    const embargo = (overrides: Partial<NewObservation> = {}) =>
      newObservation(serviceId, { source: 'council_csv', naturalKey: 'council:embargo:EMB-1', ...overrides })

    it('adds nothing when the source sends the same fact again', async () => {
      await observations.appendOrSupersede([embargo()])
      const again = await observations.appendOrSupersede([embargo()])
      expect(again).toEqual({ inserted: 0, unchanged: 1, changedServiceIds: [], insertedIds: [] })
      expect(await observations.count()).toBe(1)
    })

    it('supersedes the fact when the source changes it, keeping the old version as history', async () => {
      const first = await observations.appendOrSupersede([embargo()])
      const lifted = await observations.appendOrSupersede([embargo({ endDate: '2026-03-10' })])

      expect(lifted).toMatchObject({ inserted: 1, unchanged: 0, changedServiceIds: [serviceId] })
      const live = await observations.listLive(serviceId)
      expect(live).toHaveLength(1)
      expect(live[0]?.endDate).toBe('2026-03-10')
      const stored = await observations.findById(lifted.insertedIds[0] as number)
      expect(stored).toMatchObject({ supersedesId: first.insertedIds[0], naturalKey: `council:embargo:EMB-1#${first.insertedIds[0]}` })

      // The lifted version sent again adds nothing; a further change supersedes the lifted one.
      expect((await observations.appendOrSupersede([embargo({ endDate: '2026-03-10' })])).inserted).toBe(0)
      const corrected = await observations.appendOrSupersede([embargo({ endDate: '2026-03-11', notes: 'Typo fixed' })])
      expect(corrected.inserted).toBe(1)
      expect((await observations.listLive(serviceId)).map((o) => [o.endDate, o.notes])).toEqual([['2026-03-11', 'Typo fixed']])
      expect(await observations.listHistory(serviceId)).toHaveLength(3)
    })

    it('leaves an edit made on top alone until the source itself changes the fact', async () => {
      const first = await observations.appendOrSupersede([embargo()])
      const edit = await observations.append([
        embargo({ naturalKey: 'form-edit:1', source: 'council_form', notes: 'Checked by phone', supersedes: first.insertedIds[0] }),
      ])

      expect((await observations.appendOrSupersede([embargo()])).inserted).toBe(0)
      expect((await observations.listLive(serviceId)).map((o) => o.id)).toEqual(edit.insertedIds)

      const lifted = await observations.appendOrSupersede([embargo({ endDate: '2026-03-10' })])
      expect((await observations.findById(lifted.insertedIds[0] as number))?.supersedesId).toBe(edit.insertedIds[0])
      expect((await observations.listLive(serviceId)).map((o) => o.endDate)).toEqual(['2026-03-10'])
    })

    it('lets the later of two rows with one key in a batch win', async () => {
      const result = await observations.appendOrSupersede([embargo(), embargo({ endDate: '2026-03-05' })])
      expect(result.inserted).toBe(2)
      expect((await observations.listLive(serviceId)).map((o) => o.endDate)).toEqual(['2026-03-05'])
    })
  })

  it('groups live facts by service for an id range, end exclusive', async () => {
    const second = await createService(store)
    const third = await createService(store)
    const { insertedIds } = await observations.append([
      newObservation(serviceId, { naturalKey: 'a', observedOn: '2026-02-01' }),
      newObservation(serviceId, { naturalKey: 'b', observedOn: '2026-01-01' }),
      newObservation(second, { naturalKey: 'c' }),
      newObservation(third, { naturalKey: 'd' }),
    ])
    await observations.append([newObservation(second, { naturalKey: 'c2', supersedes: insertedIds[2] as number })])

    const grouped = await observations.listLiveForIdRange(serviceId, third)

    expect([...grouped.keys()]).toEqual([serviceId, second])
    expect(grouped.get(serviceId)?.map((o) => o.observedOn)).toEqual(['2026-01-01', '2026-02-01'])
    expect(grouped.get(second)?.map((o) => o.id)).not.toContain(insertedIds[2])
    expect(grouped.get(second)).toHaveLength(1)
  })

  it('appends all or nothing', async () => {
    await expect(
      observations.append([
        newObservation(serviceId, { naturalKey: 'good' }),
        newObservation(424242, { naturalKey: 'no such service' }),
      ]),
    ).rejects.toThrow(/FOREIGN KEY/)
    expect(await observations.count()).toBe(0)
  })

  it('joins a transaction the caller already opened', async () => {
    await expect(
      store.write(async (repositories) => {
        await repositories.observations.append([newObservation(serviceId, { naturalKey: 'inside' })])
        throw new Error('later write failed')
      }),
    ).rejects.toThrow('later write failed')
    expect(await observations.count()).toBe(0)
  })

  it('reads one snapshot inside a read, and sees what its own write appended', async () => {
    await store.write(async (repositories) => {
      await repositories.observations.append([newObservation(serviceId, { naturalKey: 'first' })])
      expect(await repositories.observations.listLive(serviceId)).toHaveLength(1)
    })
    const seen = await store.read(async (repositories) => {
      const before = await repositories.observations.count()
      const history = await repositories.observations.listHistory(serviceId)
      return { before, history: history.length }
    })
    expect(seen).toEqual({ before: 1, history: 1 })
  })

  it('appends in batches: a thousand facts in one call, duplicates within the call stored once', async () => {
    const facts = Array.from({ length: 1200 }, (_, i) => newObservation(serviceId, { naturalKey: `bulk:${i % 1100}` }))
    const result = await observations.append(facts)
    expect(result).toMatchObject({ inserted: 1100, unchanged: 100, changedServiceIds: [serviceId] })
    expect(result.insertedIds).toHaveLength(1100)
    expect([...result.insertedIds].sort((a, b) => a - b)).toEqual(result.insertedIds)
    expect(await observations.count()).toBe(1100)
  })
}, { notYetOnPostgres: 'creates services through ServiceRepository, not on the seam yet' })
