import { beforeEach, describe, expect, it } from 'vitest'
import { openTestDatabase, type Db } from '../../src/data/database.js'
import { RuleSetRepository } from '../../src/data/ruleSets.js'

describe('RuleSetRepository', () => {
  let db: Db
  let ruleSets: RuleSetRepository

  beforeEach(() => {
    db = openTestDatabase()
    ruleSets = new RuleSetRepository(db)
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
