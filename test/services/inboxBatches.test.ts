import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InboxFileRepository } from '../../src/data/inboxFiles.js'
import { inboxActor } from '../../src/domain/indicators/councilFile.js'
import type { Services } from '../../src/services/container.js'
import { InboxService } from '../../src/services/inboxService.js'
import { createTestServices, TEST_TODAY } from '../helpers/appHarness.js'

const REFS = ['SVC-A', 'SVC-B', 'SVC-C']
const HEADER = 'service_ref,kind,date,end_date,outcome,reference,notes'

/**
 * Rows: most with a reference, every seventh an unreferenced death repeated on one day (numbered across the
 * batch boundaries), every 500th naming no known service and every 997th with an impossible date.
 */
function intelligenceRows(count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    if (i % 500 === 499) return `SVC-NOPE,contract_concern,2026-10-01,,open,CC-${i},`
    if (i % 997 === 996) return `SVC-A,contract_concern,2026-02-30,,open,CC-${i},`
    const ref = REFS[i % 3] as string
    if (i % 7 === 0) return `${ref},unexpected_death,2026-09-0${1 + (i % 2)},,,,"Death ${i}, reported"`
    return `${ref},contract_concern,2026-${String(1 + (i % 10)).padStart(2, '0')}-15,,open,CC-${i},Note ${i}`
  })
}

function servicesWithRegister(): Services {
  const services = createTestServices()
  void services.serviceRepository.upsertMany(
    REFS.map((ref) => ({
      ref,
      name: `Service ${ref}`,
      providerName: `Provider of ${ref}`,
      serviceType: 'home_care',
      area: 'North',
      contractStatus: 'contracted',
    })),
  )
  return services
}

function storedObservations(services: Services): unknown[] {
  return services.db
    .prepare(
      `SELECT s.ref, o.indicator, o.natural_key, o.observed_on, o.value, o.detail, o.reference, o.notes, o.entered_by,
         o.supersedes_id IS NOT NULL AS supersedes
       FROM observations o JOIN services s ON s.id = o.service_id
       WHERE o.source = 'council_inbox' ORDER BY s.ref, o.natural_key`,
    )
    .all()
}

describe('an inbox file read in batches', () => {
  let services: Services
  let inboxDir: string

  beforeEach(() => {
    services = servicesWithRegister()
    inboxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-batches-'))
  })

  afterEach(() => {
    fs.rmSync(inboxDir, { recursive: true, force: true })
  })

  function drop(name: string, content: string): void {
    const file = path.join(inboxDir, name)
    fs.writeFileSync(file, content)
    const minuteAgo = new Date(Date.now() - 60_000)
    fs.utimesSync(file, minuteAgo, minuteAgo)
  }

  function inbox(batches: number[]): InboxService {
    return new InboxService({
      importer: services.importer,
      files: new InboxFileRepository(services.db),
      inboxDir,
      today: services.clock.today,
      recheckMs: 0,
      batchRows: 1000,
      afterBatch: async (_name, batch) => {
        batches.push(batch)
      },
    })
  }

  it('commits 1,000 good rows at a time, and lands exactly what importing the whole file at once lands', async () => {
    const content = [HEADER, ...intelligenceRows(5_500)].join('\r\n')
    drop('intelligence.csv', content)
    const batches: number[] = []
    const [outcome] = await inbox(batches).processInbox({ runId: null })

    const whole = servicesWithRegister()
    const expected = await whole.importer.importFile('auto', content, {
      actor: inboxActor('intelligence.csv'),
      source: 'council_inbox',
      fileLabel: 'intelligence.csv',
      recompute: false,
    })
    const goodRows = expected.imported + expected.duplicates
    expect(goodRows).toBeGreaterThan(5_000)
    // Full batches go through their own transactions; the last, partial one commits with the file's record.
    expect(batches).toEqual(Array.from({ length: Math.floor(goodRows / 1000) }, (_, i) => i + 1))

    expect(storedObservations(services)).toEqual(storedObservations(whole))
    expect(outcome).toMatchObject({
      outcome: 'recorded',
      file: {
        status: 'partly_rejected',
        rowsRead: expected.rowsRead,
        rowsImported: expected.imported,
        rowsDuplicate: expected.duplicates,
        rowsRejected: new Set(expected.rejects.map((reject) => reject.rowNumber)).size,
      },
    })
    expect(outcome?.outcome === 'recorded' && [...outcome.touchedServiceIds].sort()).toEqual(
      [...(expected.touchedServiceIds ?? [])].sort(),
    )
    const report = fs.readFileSync(path.join(inboxDir, 'rejected', 'intelligence.rejects.csv'), 'utf8')
    expect(report.trimEnd().split('\r\n')).toHaveLength(1 + expected.rejects.length)
    expect(report).toContain('"""SVC-NOPE"" is not a service on the register"')
  })

  it('imports nothing of a file that turns out to hold binary data after its first batches', async () => {
    const rows = intelligenceRows(4000).filter((row) => !row.startsWith('SVC-NOPE'))
    rows.splice(3500, 0, 'SVC-A,contract_concern,2026-10-01,,open,CC-binary,\u0000\u0001\u0002')
    drop('broken.csv', [HEADER, ...rows].join('\n'))
    const batches: number[] = []
    const [outcome] = await inbox(batches).processInbox({ runId: null })

    expect(batches).toEqual([])
    expect(storedObservations(services)).toEqual([])
    expect(outcome).toMatchObject({
      outcome: 'recorded',
      file: { status: 'rejected', rowsImported: 0, fileError: expect.stringMatching(/binary data \(line 3502\)/) },
    })
    expect(fs.existsSync(path.join(inboxDir, 'rejected', 'broken.csv'))).toBe(true)
    expect(fs.existsSync(path.join(inboxDir, 'processed', TEST_TODAY))).toBe(false)
  })
})
