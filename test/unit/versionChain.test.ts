import { describe, expect, it } from 'vitest'
import { versionChain } from '../../src/domain/observation.js'

const v = (id: number, supersedesId: number | null, supersededById: number | null) => ({
  id,
  supersedesId,
  supersededById,
})

describe('versionChain', () => {
  // 1 was edited into 3, 3 into 7; 5 is another fact.
  const items = [v(1, null, 3), v(3, 1, 7), v(5, null, null), v(7, 3, null)]

  it('gives the whole chain newest first from any version in it', () => {
    for (const id of [1, 3, 7]) expect(versionChain(items, id).map((item) => item.id)).toEqual([7, 3, 1])
  })

  it('gives a fact never edited alone, and nothing for an unknown id', () => {
    expect(versionChain(items, 5).map((item) => item.id)).toEqual([5])
    expect(versionChain(items, 99)).toEqual([])
  })
})
