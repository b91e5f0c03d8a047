import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { inWriteBatches, openDatabase, migrate, type Db } from '../../src/data/database.js'
import { ServiceRepository } from '../../src/data/services.js'
import { serviceInput } from '../helpers/factories.js'

describe('inWriteBatches', () => {
  let dir: string | null = null
  const open: Db[] = []
  afterEach(() => {
    for (const db of open.splice(0)) db.close()
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
    dir = null
  })

  function twoConnections(): [Db, Db] {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'write-batches-'))
    const file = path.join(dir, 'db.sqlite')
    const writer = openDatabase(file)
    migrate(writer)
    const reader = openDatabase(file)
    open.push(writer, reader)
    return [writer, reader]
  }
  const countFrom = (db: Db) => (db.prepare('SELECT COUNT(*) AS n FROM services').get() as { n: number }).n

  it('commits every perCommit items, so other connections see whole batches as they go', async () => {
    const [writer, reader] = twoConnections()
    const services = new ServiceRepository(writer)
    const seenByReader: number[] = []

    await inWriteBatches(writer, [1, 2, 3, 4, 5], 2, async () => {
      seenByReader.push(countFrom(reader))
      await services.upsertMany([serviceInput()])
    })

    expect(seenByReader).toEqual([0, 0, 2, 2, 4])
    expect(countFrom(reader)).toBe(5)
    expect(writer.inTransaction).toBe(false)
  })

  it('rolls back the open batch on failure, keeping the batches already committed', async () => {
    const [writer, reader] = twoConnections()
    const services = new ServiceRepository(writer)

    await expect(
      inWriteBatches(writer, [1, 2, 3, 4], 2, async (n) => {
        await services.upsertMany([serviceInput()])
        if (n === 4) throw new Error('source fact rejected')
      }),
    ).rejects.toThrow('source fact rejected')

    expect(writer.inTransaction).toBe(false)
    expect(countFrom(reader)).toBe(2)
  })

  it('opens no transaction for no items', async () => {
    const [writer] = twoConnections()
    await inWriteBatches(writer, [], 10, async () => {})
    expect(writer.inTransaction).toBe(false)
  })

  it("joins a caller's open transaction whole rather than committing it in pieces", async () => {
    const [writer, reader] = twoConnections()
    const services = new ServiceRepository(writer)
    writer.exec('BEGIN IMMEDIATE')
    await inWriteBatches(writer, [1, 2, 3], 1, async () => {
      await services.upsertMany([serviceInput()])
    })
    expect(writer.inTransaction).toBe(true)
    expect(countFrom(reader)).toBe(0)
    writer.exec('ROLLBACK')
    expect(countFrom(reader)).toBe(0)
  })
})
