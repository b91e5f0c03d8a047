import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, migrate, type Db } from '../../src/data/database.js'
import { sqliteStore, type Store } from '../../src/data/store.js'
import { serviceInput } from '../helpers/factories.js'

/**
 * A long series of writes (30,000 registration updates on a first load) commits in batches, one `Store.write` each:
 * each holds the write lock only briefly, and other connections see whole batches as they go.
 */
describe('writes in batches, one Store.write each', () => {
  let dir: string | null = null
  const open: Db[] = []
  afterEach(() => {
    for (const db of open.splice(0)) db.close()
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
    dir = null
  })

  function twoConnections(): [Store, Db] {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'write-batches-'))
    const file = path.join(dir, 'db.sqlite')
    const writer = openDatabase(file)
    migrate(writer)
    const reader = openDatabase(file)
    open.push(writer, reader)
    return [sqliteStore(writer), reader]
  }
  const countFrom = (db: Db) => (db.prepare('SELECT COUNT(*) AS n FROM services').get() as { n: number }).n

  async function inBatches(store: Store, items: number[], perCommit: number, work: (n: number) => Promise<void>) {
    for (let i = 0; i < items.length; i += perCommit) {
      await store.write(async () => {
        for (const item of items.slice(i, i + perCommit)) await work(item)
      })
    }
  }

  it('commits every batch, so other connections see whole batches as they go', async () => {
    const [store, reader] = twoConnections()
    const seenByReader: number[] = []

    await inBatches(store, [1, 2, 3, 4, 5], 2, async () => {
      seenByReader.push(countFrom(reader))
      await store.write(({ services }) => services.upsertMany([serviceInput()]))
    })

    expect(seenByReader).toEqual([0, 0, 2, 2, 4])
    expect(countFrom(reader)).toBe(5)
  })

  it('rolls back the open batch on failure, keeping the batches already committed', async () => {
    const [store, reader] = twoConnections()

    await expect(
      inBatches(store, [1, 2, 3, 4], 2, async (n) => {
        await store.write(({ services }) => services.upsertMany([serviceInput()]))
        if (n === 4) throw new Error('source fact rejected')
      }),
    ).rejects.toThrow('source fact rejected')

    expect(countFrom(reader)).toBe(2)
    // The store is free again: the next write goes through.
    await store.write(({ services }) => services.upsertMany([serviceInput()]))
    expect(countFrom(reader)).toBe(3)
  })

  it("joins a caller's open transaction whole rather than committing it in pieces", async () => {
    const [store, reader] = twoConnections()
    await expect(
      store.write(async () => {
        await inBatches(store, [1, 2, 3], 1, async () => {
          await store.write(({ services }) => services.upsertMany([serviceInput()]))
        })
        expect(countFrom(reader)).toBe(0)
        throw new Error('caller fails')
      }),
    ).rejects.toThrow('caller fails')
    expect(countFrom(reader)).toBe(0)
  })
})
