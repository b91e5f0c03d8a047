import { beforeEach, expect, it } from 'vitest'
import type { Repositories } from '../../src/data/store.js'
import { describeEachStore } from '../helpers/stores.js'

describeEachStore('RuleSetRepository', (openStore) => {
  let ruleSets: Repositories['ruleSets']

  beforeEach(async () => {
    ruleSets = (await openStore()).repositories.ruleSets
  })

  it('has no rule set until one is saved', async () => {
    expect(await ruleSets.current()).toBeNull()
    expect(await ruleSets.list()).toEqual([])
    expect(await ruleSets.byVersion(1)).toBeNull()
  })

  it('numbers versions from 1 and treats the newest as the one in force', async () => {
    const v1 = await ruleSets.save({ thresholds: { amber: 30 } }, 'admin@example.org', 'First')
    const v2 = await ruleSets.save({ thresholds: { amber: 40 } }, 'admin@example.org')

    expect([v1, v2]).toEqual([1, 2])
    expect(await ruleSets.current()).toEqual({
      version: 2,
      document: { thresholds: { amber: 40 } },
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      createdBy: 'admin@example.org',
      note: null,
    })
    expect(await ruleSets.byVersion(1)).toMatchObject({ version: 1, document: { thresholds: { amber: 30 } }, note: 'First' })
    expect((await ruleSets.list()).map((r) => r.version)).toEqual([2, 1])
  })

  it('stores the initial document once, however often it is ensured', async () => {
    await ruleSets.ensureInitial({ default: true })
    await ruleSets.ensureInitial({ default: 'changed' })

    expect(await ruleSets.list()).toHaveLength(1)
    expect(await ruleSets.current()).toMatchObject({ version: 1, document: { default: true }, createdBy: 'system' })
  })

  it('does not replace a saved rule set with the initial one', async () => {
    await ruleSets.save({ custom: true }, 'admin@example.org')
    await ruleSets.ensureInitial({ default: true })
    expect(await ruleSets.current()).toMatchObject({ version: 1, document: { custom: true } })
  })
})

describeEachStore('Store transactions', (openStore) => {
  it('a write commits whole or not at all', async () => {
    const store = await openStore()
    await expect(
      store.write(async ({ ruleSets }) => {
        await ruleSets.save({ first: true }, 'admin@example.org')
        throw new Error('refused half way')
      }),
    ).rejects.toThrow('refused half way')
    expect(await store.read(({ ruleSets }) => ruleSets.list())).toEqual([])

    await store.write(async ({ ruleSets }) => {
      await ruleSets.save({ first: true }, 'admin@example.org')
      await ruleSets.save({ second: true }, 'admin@example.org')
    })
    expect((await store.read(({ ruleSets }) => ruleSets.list())).map((r) => r.version)).toEqual([2, 1])
  })

  it('work called inside a write joins it, so a failure later undoes it too', async () => {
    const store = await openStore()
    await expect(
      store.write(async () => {
        await store.write(({ ruleSets }) => ruleSets.save({ inner: true }, null))
        throw new Error('outer fails')
      }),
    ).rejects.toThrow('outer fails')
    expect(await store.repositories.ruleSets.current()).toBeNull()
  })

  it('writes from two callers at once are serialised, each seeing the other commit', async () => {
    const store = await openStore()
    const versions = await Promise.all(
      [1, 2, 3, 4].map((n) => store.write(({ ruleSets }) => ruleSets.save({ n }, null))),
    )
    expect([...versions].sort()).toEqual([1, 2, 3, 4])
  })
})
