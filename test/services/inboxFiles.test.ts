import { beforeEach, describe, expect, it } from 'vitest'
import { openTestDatabase, type Db } from '../../src/data/database.js'
import { InboxFileRepository, type NewInboxFile } from '../../src/data/inboxFiles.js'
import { ObservationRepository } from '../../src/data/observations.js'
import { RunRepository } from '../../src/data/runs.js'
import { createService, newObservation } from '../helpers/factories.js'

/** Contract test of the inbox's data module (src/data/inboxFiles.ts). */
describe('InboxFileRepository', () => {
  let db: Db
  let files: InboxFileRepository

  beforeEach(() => {
    db = openTestDatabase()
    files = new InboxFileRepository(db)
  })

  const file = (overrides: Partial<NewInboxFile> = {}): NewInboxFile => ({
    contentHash: 'a'.repeat(64),
    name: 'intelligence.csv',
    sizeBytes: 120,
    kind: 'intelligence',
    receivedAt: '2026-11-23T02:00:00.000Z',
    rowsRead: 3,
    rowsImported: 2,
    rowsRejected: 1,
    rowsDuplicate: 0,
    status: 'partly_rejected',
    fileError: null,
    rejects: [{ rowNumber: 3, column: 'date', reason: 'is not a date' }],
    duplicateOf: null,
    runId: null,
    movedTo: 'rejected/intelligence.csv',
    ...overrides,
  })
  const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n

  it('records a file and reads it back', async () => {
    const stored = await files.record(file())
    expect(stored).toEqual({ ...file(), id: expect.any(Number), movedAt: null, duplicateOfName: null })
    expect(await files.listRecent()).toEqual([stored])
    expect(await files.lastReceived()).toEqual(stored)
  })

  it('knows imported content by hash, and names the earlier file of a duplicate', async () => {
    const partly = await files.record(file({ contentHash: 'p'.repeat(64) }))
    expect(await files.findImportedByHash(partly.contentHash as string)).toBeNull()
    const imported = await files.record(
      file({ contentHash: 'i'.repeat(64), status: 'imported', rejects: [], movedTo: 'processed/x.csv' }),
    )
    expect(await files.findImportedByHash('i'.repeat(64))).toMatchObject({ id: imported.id })
    const duplicate = await files.record(
      file({ name: 'copy.csv', contentHash: 'i'.repeat(64), status: 'duplicate', duplicateOf: imported.id }),
    )
    expect(duplicate.duplicateOfName).toBe('intelligence.csv')
    expect(await files.findImportedByHash('i'.repeat(64))).toMatchObject({ id: imported.id })
  })

  it('finds files recorded but not moved until they are marked moved', async () => {
    const stored = await files.record(file())
    expect(await files.findUnmovedByHash(stored.contentHash as string)).toMatchObject({ id: stored.id })
    expect(await files.listUnmoved()).toHaveLength(1)
    await files.markMoved(stored.id, '2026-11-23T02:00:01.000Z')
    expect(await files.findUnmovedByHash(stored.contentHash as string)).toBeNull()
    expect(await files.listUnmoved()).toEqual([])
    expect((await files.listRecent())[0]?.movedAt).toBe('2026-11-23T02:00:01.000Z')
  })

  it('lists the files of a run, in the order they were read', async () => {
    const runId = await new RunRepository(db).startRun('full', { trigger: 'test' })
    await files.record(file({ name: 'b.csv', runId }))
    await files.record(file({ name: 'a.csv', runId }))
    await files.record(file({ name: 'other.csv' }))
    expect((await files.listForRun(runId)).map((f) => f.name)).toEqual(['b.csv', 'a.csv'])
  })

  it('commits the rows written and the record together', async () => {
    const serviceId = await createService(db)
    const observations = new ObservationRepository(db)
    const { written, file: stored } = await files.recordWith(
      () => observations.appendOrSupersede([newObservation(serviceId)]),
      (appended) => file({ rowsImported: appended.inserted }),
    )
    expect(written.inserted).toBe(1)
    expect(stored.rowsImported).toBe(1)
    expect(db.inTransaction).toBe(false)
    expect(count('observations')).toBe(1)
  })

  it('keeps neither the rows nor the record when anything fails before the commit', async () => {
    const serviceId = await createService(db)
    const observations = new ObservationRepository(db)
    await expect(
      files.recordWith(
        () => observations.appendOrSupersede([newObservation(serviceId)]),
        () => file(),
        async () => {
          throw new Error('power cut')
        },
      ),
    ).rejects.toThrow('power cut')
    expect(db.inTransaction).toBe(false)
    expect(count('observations')).toBe(0)
    expect(count('inbox_files')).toBe(0)
  })
})
