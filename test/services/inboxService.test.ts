import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InboxFileRepository } from '../../src/data/inboxFiles.js'
import type { Services } from '../../src/services/container.js'
import { InboxService, type InboxServiceDeps } from '../../src/services/inboxService.js'
import { RefreshService } from '../../src/services/refreshService.js'
import { inboxStep } from '../../src/services/sources/inbox.js'
import { createTestServices, TEST_TODAY } from '../helpers/appHarness.js'

const INTELLIGENCE = [
  'service_ref,kind,date,end_date,outcome,reference,notes',
  'SVC-A,embargo,2026-11-20,,,EMB-1,Suspension of new placements',
  'SVC-B,safeguarding_decision,2026-10-02,,substantiated,SG-1,',
  'SVC-B,safeguarding_decision,14/11/2026,,open,SG-2,"Missed calls, reported by family"',
].join('\r\n')

/** Row 3 names no known service, row 4 has an impossible date: rows 2 and 5 are good. */
const ASSESSMENTS_PARTLY_BAD = [
  'service_ref,assessment_date,outcome,assessor',
  'SVC-C,2026-11-18,Poor,J. Whitfield',
  'SVC-NOPE,2026-11-18,Good,J. Whitfield',
  'SVC-A,2026-02-30,Good,J. Whitfield',
  'SVC-B,2026-11-01,Good,A. Okafor',
].join('\n')

const COUNTS = ['service_ref,period_start,period_end,decisions', 'SVC-C,2026-10-01,2026-10-31,3'].join('\n')

describe('InboxService', () => {
  let services: Services
  let inboxDir: string
  let files: InboxFileRepository

  beforeEach(async () => {
    services = createTestServices()
    inboxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-'))
    files = new InboxFileRepository(services.db)
    await services.serviceRepository.upsertMany(
      ['SVC-A', 'SVC-B', 'SVC-C'].map((ref) => ({
        ref,
        name: `Service ${ref}`,
        providerName: `Provider of ${ref}`,
        serviceType: 'home_care',
        area: 'North',
        contractStatus: 'contracted',
      })),
    )
    await new RefreshService(services, []).run({ trigger: 'baseline' })
  })

  afterEach(() => {
    fs.rmSync(inboxDir, { recursive: true, force: true })
  })

  function inbox(overrides: Partial<InboxServiceDeps> = {}): InboxService {
    return new InboxService({
      importer: services.importer,
      files,
      inboxDir,
      today: services.clock.today,
      recheckMs: 5,
      ...overrides,
    })
  }

  /** Drops a file as a finished export: written a minute ago. */
  function drop(name: string, content: string | Buffer, ageMs = 60_000): void {
    const file = path.join(inboxDir, name)
    fs.writeFileSync(file, content)
    const when = new Date(Date.now() - ageMs)
    fs.utimesSync(file, when, when)
  }

  const refresh = (service = inbox()) =>
    new RefreshService(services, [inboxStep(service)]).run({ trigger: 'test refresh' })
  const inInbox = (relative: string) => fs.existsSync(path.join(inboxDir, relative))
  const csvFilesLeft = () => fs.readdirSync(inboxDir).filter((name) => name.endsWith('.csv'))
  const count = (sql: string) => (services.db.prepare(sql).get() as { n: number }).n
  const observationCount = () => count("SELECT COUNT(*) AS n FROM observations WHERE source = 'council_inbox'")
  const ragOf = async (ref: string) => {
    const service = await services.serviceRepository.findByRef(ref)
    return (await services.runs.current(service?.id as number))?.result
  }
  const processed = (name: string) => path.join('processed', TEST_TODAY, name)

  it('lands exactly the good rows of a good, a partly bad and a duplicate file, and moves each to its folder', async () => {
    drop('counts.csv', COUNTS)
    await refresh()
    expect(inInbox(processed('counts.csv'))).toBe(true)
    const afterFirst = observationCount()
    expect(afterFirst).toBe(1)

    // Oldest first.
    drop('intelligence.csv', INTELLIGENCE, 90_000)
    drop('assessments.csv', ASSESSMENTS_PARTLY_BAD, 80_000)
    drop('counts again.csv', COUNTS, 70_000)
    const summary = await refresh()

    // 3 intelligence rows and the 2 good assessment rows; nothing from the duplicate.
    expect(observationCount()).toBe(afterFirst + 5)
    expect(csvFilesLeft()).toEqual([])
    expect(inInbox(processed('intelligence.csv'))).toBe(true)
    expect(inInbox('rejected/assessments.csv')).toBe(true)
    expect(inInbox(path.join('duplicates', TEST_TODAY, 'counts again.csv'))).toBe(true)

    const report = fs.readFileSync(path.join(inboxDir, 'rejected/assessments.rejects.csv'), 'utf8')
    expect(report.split('\r\n')[0]).toBe('row,column,reason')
    expect(report).toContain('3,service_ref,"""SVC-NOPE"" is not a service on the register"')
    expect(report).toMatch(/^4,assessment_date,.*2026-02-30/m)
    expect(report).not.toMatch(/^[25],/m)

    const inboxRun = summary.sources.find((s) => s.source === 'council_inbox')
    expect(inboxRun).toMatchObject({ status: 'succeeded' })
    expect(inboxRun?.result).toMatchObject({ read: 7, changed: 5, matched: 5, unchanged: 0, rejected: 2 })
    expect(inboxRun?.result?.rejects).toEqual([
      { record: 'assessments.csv row 3', field: 'service_ref', reason: '"SVC-NOPE" is not a service on the register' },
      { record: 'assessments.csv row 4', field: 'assessment_date', reason: expect.stringContaining('2026-02-30') },
    ])
    const stored = await services.runs.listSourceRuns(summary.runId)
    expect(stored.find((s) => s.source === 'council_inbox')?.rejects).toHaveLength(2)

    const recorded = await inbox().filesForRun(summary.runId)
    expect(
      recorded.map((f) => [f.name, f.kind, f.status, f.rowsRead, f.rowsImported, f.rowsRejected, f.duplicateOfName]),
    ).toEqual([
      ['intelligence.csv', 'intelligence', 'imported', 3, 3, 0, null],
      ['assessments.csv', 'assessments', 'partly_rejected', 4, 2, 2, null],
      ['counts again.csv', 'safeguarding_counts', 'duplicate', 0, 0, 0, 'counts.csv'],
    ])
    expect(recorded.every((f) => f.movedAt !== null)).toBe(true)

    // The imports published no runs of their own: the refresh judged everything once, with the new data.
    expect(count("SELECT COUNT(*) AS n FROM refresh_runs WHERE kind = 'entry'")).toBe(0)
    expect((await ragOf('SVC-A'))?.rag).toBe('red')
    expect((await ragOf('SVC-C'))?.rag).toBe('red')
    expect((await ragOf('SVC-C'))?.indicators.find((i) => i.key === 'safeguarding')).toMatchObject({
      source: 'council_inbox',
      date: '2026-10-31',
    })
  })

  it('names the file each fact came from, and lists recent files for the run log and freshness line', async () => {
    drop('intelligence.csv', INTELLIGENCE)
    await refresh()
    const history = await services.observations.listHistory(
      (await services.serviceRepository.findByRef('SVC-A'))?.id as number,
    )
    expect(history[0]).toMatchObject({ source: 'council_inbox', enteredBy: 'inbox: intelligence.csv' })
    const last = await inbox().lastReceived()
    expect(last).toMatchObject({ name: 'intelligence.csv', kind: 'intelligence', rowsImported: 3, status: 'imported' })
    expect(Date.parse(last?.receivedAt ?? '')).toBeGreaterThan(Date.now() - 60_000)
    expect(await inbox().recentFiles()).toHaveLength(1)
  })

  it('rejects malformed files with a clear reason and still imports the rest', async () => {
    drop('a-report.csv', Buffer.from('%PDF-1.7\n%\u00e2\u00e3\n1 0 obj'))
    drop(
      'b-latin1.csv',
      Buffer.from('service_ref,kind,date\nSVC-A,embargo,2026-11-20\nCaf\xe9,embargo,2026-11-20\n', 'latin1'),
    )
    drop('c-empty.csv', '')
    drop('d-junk.csv', Buffer.alloc(3000, 'x'))
    drop('e-not-ours.csv', 'colour,size\nblue,large\n')
    drop('f-good.csv', INTELLIGENCE)
    const outcomes = await inbox({ maxBytes: 2000 }).processInbox({ runId: null })

    expect(outcomes.map((o) => o.outcome)).toEqual(Array(6).fill('recorded'))
    const byName = Object.fromEntries(
      (await files.listRecent()).map((f) => [f.name, { status: f.status, fileError: f.fileError }]),
    )
    expect(byName['a-report.csv']).toEqual({ status: 'rejected', fileError: 'This is a PDF, not a CSV file.' })
    expect(byName['b-latin1.csv']?.fileError).toContain('not UTF-8')
    expect(byName['c-empty.csv']?.fileError).toContain('empty')
    expect(byName['d-junk.csv']?.fileError).toContain('The file is 3 KB, over the 2 KB limit')
    expect(byName['e-not-ours.csv']?.fileError).toContain('not one of the council files')
    expect(byName['f-good.csv']).toEqual({ status: 'imported', fileError: null })

    for (const name of ['a-report', 'b-latin1', 'c-empty', 'd-junk', 'e-not-ours']) {
      expect(inInbox(`rejected/${name}.csv`)).toBe(true)
      const report = fs.readFileSync(path.join(inboxDir, `rejected/${name}.rejects.csv`), 'utf8')
      expect(report).toMatch(/^row,column,reason\r\n,,\S/)
    }
    expect(observationCount()).toBe(3)
    expect(csvFilesLeft()).toEqual([])
  })

  it('refuses 50 MB of junk at the default limit, and the rest of the run goes on', async () => {
    drop('junk.csv', Buffer.alloc(50 * 1024 * 1024, 'junk '))
    drop('intelligence.csv', INTELLIGENCE)
    const summary = await refresh()
    const inboxRun = summary.sources.find((s) => s.source === 'council_inbox')
    expect(inboxRun).toMatchObject({ status: 'succeeded', result: { changed: 3, rejected: 1 } })
    expect(inboxRun?.result?.rejects).toEqual([
      {
        record: 'junk.csv',
        reason:
          'The file is 50 MB, over the 20 MB limit for a council file: it was not read. Check it is the right export.',
      },
    ])
    expect(inInbox('rejected/junk.csv')).toBe(true)
    expect(inInbox(processed('intelligence.csv'))).toBe(true)
    expect((await ragOf('SVC-A'))?.rag).toBe('red')
  })

  it('writes every reject in the report beside a file, however many', async () => {
    const rows = Array.from({ length: 12_000 }, (_, i) => `SVC-A,${i % 2 === 0 ? '2026-02-30' : '2026-11-01'},Good`)
    drop('many.csv', ['service_ref,assessment_date,outcome', ...rows].join('\n'))
    await refresh()
    const report = fs.readFileSync(path.join(inboxDir, 'rejected/many.rejects.csv'), 'utf8').trimEnd().split('\r\n')
    // More than the record keeps (5,000): the report still lists them all.
    expect(report).toHaveLength(1 + 6000)
    expect(report.at(-1)).toMatch(/^12000,assessment_date,/)
    expect((await files.listRecent())[0]).toMatchObject({ status: 'partly_rejected', rowsRejected: 6000 })
  })

  it('lists a file left for the next run as a warning of the run, not a reject', async () => {
    drop('fresh.csv', INTELLIGENCE, 0)
    const summary = await refresh()
    expect(summary.sources.find((s) => s.source === 'council_inbox')?.result).toMatchObject({
      rejected: 0,
      rejects: [{ record: 'fresh.csv', reason: 'left in the inbox for the next run: it was modified moments ago' }],
    })
    expect(csvFilesLeft()).toEqual(['fresh.csv'])
  })

  it('refuses a file over the size limit without reading it', async () => {
    drop('huge.csv', Buffer.alloc(5000, 'x'))
    const outcomes = await inbox({ maxBytes: 4096 }).processInbox({ runId: null })
    expect(outcomes[0]).toMatchObject({
      outcome: 'recorded',
      file: { status: 'rejected', contentHash: null, sizeBytes: 5000 },
    })
    const report = fs.readFileSync(path.join(inboxDir, 'rejected/huge.rejects.csv'), 'utf8')
    expect(report).toContain('The file is 5 KB, over the 4 KB limit for a council file: it was not read.')
  })

  it('leaves files still being written for the next run', async () => {
    drop('export.csv.part', INTELLIGENCE)
    drop('fresh.csv', INTELLIGENCE, 0)
    drop('growing.csv', 'service_ref,kind,date,end_date,outcome,reference,notes\n')
    drop('.hidden.csv', INTELLIGENCE)
    const growing = inbox({
      sleep: async () => {
        fs.appendFileSync(path.join(inboxDir, 'growing.csv'), 'SVC-A,embargo,2026-11-20,,,EMB-1,\n')
      },
    })
    const outcomes = await growing.processInbox({ runId: null })
    expect(outcomes).toEqual([
      // Not read, and said so (issue 14): the hidden file and the .part are reported, not silently left.
      { name: '.hidden.csv', outcome: 'skipped', code: 'hidden', reason: expect.stringContaining('hidden name') },
      { name: 'export.csv.part', outcome: 'skipped', code: 'not_csv', reason: expect.stringContaining('.csv') },
      { name: 'fresh.csv', outcome: 'being_written', reason: 'it was modified moments ago' },
      { name: 'growing.csv', outcome: 'being_written', reason: 'its size changed between two looks' },
    ])
    expect(observationCount()).toBe(0)
    expect(fs.readdirSync(inboxDir).sort()).toEqual(['.hidden.csv', 'export.csv.part', 'fresh.csv', 'growing.csv'])
    expect(await files.listRecent()).toEqual([])

    // Once settled, the next run takes them; the .part and hidden files stay until renamed.
    const old = new Date(Date.now() - 60_000)
    for (const name of ['fresh.csv', 'growing.csv']) fs.utimesSync(path.join(inboxDir, name), old, old)
    const next = await inbox().processInbox({ runId: null })
    expect(next.map((o) => [o.name, o.outcome])).toEqual([
      ['.hidden.csv', 'skipped'],
      ['export.csv.part', 'skipped'],
      ['fresh.csv', 'recorded'],
      ['growing.csv', 'recorded'],
    ])
    expect(fs.readdirSync(inboxDir).sort()).toEqual(['.hidden.csv', 'export.csv.part', 'processed'])
  })

  it('finishes the move of a file whose run died after its rows were committed, importing nothing again', async () => {
    drop('intelligence.csv', INTELLIGENCE)
    await inbox().processInbox({ runId: null })
    const [recorded] = await files.listRecent()
    // The state a crash between commit and move leaves: rows and record committed, the file still in the inbox.
    fs.renameSync(path.join(inboxDir, processed('intelligence.csv')), path.join(inboxDir, 'intelligence.csv'))
    services.db.prepare('UPDATE inbox_files SET moved_at = NULL').run()
    const before = observationCount()

    const outcomes = await inbox().processInbox({ runId: null })
    expect(outcomes).toEqual([
      {
        name: 'intelligence.csv',
        outcome: 'moved_after_crash',
        file: expect.objectContaining({ id: recorded?.id }),
        moveError: null,
      },
    ])
    expect(observationCount()).toBe(before)
    expect(inInbox(processed('intelligence.csv'))).toBe(true)
    expect(await files.listRecent()).toHaveLength(1)
    expect((await files.listRecent())[0]?.movedAt).not.toBeNull()
  })

  it('takes the same content under another name as a new drop, even while an earlier record waits to be moved', async () => {
    drop('intelligence.csv', INTELLIGENCE)
    await inbox().processInbox({ runId: null })
    // A crash between commit and move, then the file taken away by hand and sent again under a new name.
    fs.rmSync(path.join(inboxDir, processed('intelligence.csv')))
    services.db.prepare('UPDATE inbox_files SET moved_at = NULL').run()
    drop('intelligence (1).csv', INTELLIGENCE)
    const [outcome] = await inbox().processInbox({ runId: null })
    expect(outcome).toMatchObject({
      outcome: 'recorded',
      file: { name: 'intelligence (1).csv', status: 'duplicate', duplicateOfName: 'intelligence.csv' },
      moveError: null,
    })
    expect(inInbox(path.join('duplicates', TEST_TODAY, 'intelligence (1).csv'))).toBe(true)
    expect(observationCount()).toBe(3)
  })

  it('notes a move that completed before its run died', async () => {
    drop('intelligence.csv', INTELLIGENCE)
    await inbox().processInbox({ runId: null })
    services.db.prepare('UPDATE inbox_files SET moved_at = NULL').run()
    await inbox().processInbox({ runId: null })
    expect((await files.listRecent())[0]?.movedAt).not.toBeNull()
  })

  it('imports a partly rejected file again when it is dropped again (a retry), and never overwrites an earlier file', async () => {
    drop('assessments.csv', ASSESSMENTS_PARTLY_BAD)
    await inbox().processInbox({ runId: null })
    await services.serviceRepository.upsertMany([
      {
        ref: 'SVC-NOPE',
        name: 'Now registered',
        providerName: 'Late Ltd',
        serviceType: 'home_care',
        area: 'North',
        contractStatus: 'contracted',
      },
    ])
    drop('assessments.csv', ASSESSMENTS_PARTLY_BAD)
    const [again] = await inbox().processInbox({ runId: null })
    expect(again).toMatchObject({
      outcome: 'recorded',
      file: {
        status: 'partly_rejected',
        rowsImported: 1,
        rowsDuplicate: 2,
        rowsRejected: 1,
        movedTo: 'rejected/assessments-2.csv',
      },
    })
    expect(inInbox('rejected/assessments.csv')).toBe(true)
    expect(inInbox('rejected/assessments.rejects.csv')).toBe(true)
    expect(inInbox('rejected/assessments-2.csv')).toBe(true)
    expect(fs.readFileSync(path.join(inboxDir, 'rejected/assessments-2.rejects.csv'), 'utf8')).not.toContain('SVC-NOPE')
  })

  it('reports a missing inbox folder as not configured, and an empty one as read', async () => {
    fs.rmSync(inboxDir, { recursive: true })
    expect((await refresh()).sources[0]).toMatchObject({ status: 'not_configured', result: null })
    expect(await inbox().processInbox({ runId: null })).toEqual([])
    fs.mkdirSync(inboxDir)
    expect((await refresh()).sources[0]).toMatchObject({
      status: 'succeeded',
      result: { read: 0, matched: 0, changed: 0, unchanged: 0, rejected: 0, rejects: [] },
    })
  })

  it('is the container service, reading INBOX_DIR', () => {
    const configured = createTestServices({ env: { INBOX_DIR: inboxDir } })
    expect(configured.inbox.inboxDir).toBe(path.resolve(inboxDir))
  })
})
