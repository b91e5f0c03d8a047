import { beforeEach, expect, it } from 'vitest'
import type { Repositories, Store } from '../../src/data/store.js'
import { describeEachStore } from '../helpers/stores.js'

describeEachStore('SourceStateRepository', (openStore) => {
  let store: Store
  let state: Repositories['sourceState']

  beforeEach(async () => {
    store = await openStore()
    state = store.repositories.sourceState
  })

  it('answers null for a value never set', async () => {
    expect(await state.get('cqc', 'changes_window_end')).toBeNull()
    expect(await state.getJson('cqc', 'loaded_location_ids')).toBeNull()
  })

  it('stores, replaces and removes a value per source and key', async () => {
    await state.set('cqc', 'changes_window_end', '2026-03-14T02:00:00Z')
    await state.set('fhrs', 'changes_window_end', 'other source')
    await state.set('cqc', 'changes_window_end', '2026-03-15T02:00:00Z')
    expect(await state.get('cqc', 'changes_window_end')).toBe('2026-03-15T02:00:00Z')
    expect(await state.get('fhrs', 'changes_window_end')).toBe('other source')
    await state.remove('cqc', 'changes_window_end')
    expect(await state.get('cqc', 'changes_window_end')).toBeNull()
  })

  it('round-trips JSON and records the run that wrote it', async () => {
    const runId = await store.repositories.runs.startRun('full')
    await state.setJson('cqc', 'loaded_location_ids', ['1-1', '1-2'], runId)
    expect(await state.getJson<string[]>('cqc', 'loaded_location_ids')).toEqual(['1-1', '1-2'])
    const [entry] = await state.list('cqc')
    expect(entry).toMatchObject({ source: 'cqc', key: 'loaded_location_ids', value: '["1-1","1-2"]', runId })
    expect(entry?.updatedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/)
    await store.repositories.runs.failRun(runId, 'test over')
  })

  it('lists every source in order', async () => {
    await state.set('fhrs', 'b', '2')
    await state.set('cqc', 'z', '1')
    await state.set('cqc', 'a', '0')
    expect((await state.list()).map((e) => `${e.source}.${e.key}`)).toEqual(['cqc.a', 'cqc.z', 'fhrs.b'])
  })

  it('refuses a run id that does not exist', async () => {
    await expect(state.set('cqc', 'k', 'v', 999)).rejects.toThrow(/FOREIGN KEY|foreign key/)
  })

  it('writes several values in one transaction, or none when it fails half way', async () => {
    await expect(
      store.write(async ({ sourceState }) => {
        await sourceState.set('cqc', 'a', '1')
        await sourceState.set('cqc', 'b', '2')
        throw new Error('source failed')
      }),
    ).rejects.toThrow('source failed')
    expect(await state.list()).toEqual([])
  })
})
