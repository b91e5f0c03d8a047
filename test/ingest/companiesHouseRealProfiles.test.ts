import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { CompaniesHouseClient, readCompaniesHouse } from '../../src/ingest/companiesHouse/connector.js'
import { mapCompanyProfile } from '../../src/ingest/companiesHouse/profile.js'
import { readCompanyStream, type CompanyStreamBatch } from '../../src/ingest/companiesHouse/stream.js'
import { CompanyStreamServer } from '../helpers/companyStreamServer.js'
import { judgeInsolvency } from '../helpers/insolvencyJudge.js'
import { RecordedServer } from '../helpers/recordedServer.js'

/**
 * Ten real company-profile events of Companies House's streaming API (test/fixtures/real/README.md), read as the
 * REST profile and as the stream itself, through the real connectors to the insolvency indicator.
 */
const REAL = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../fixtures/real/companies-house/stream-company-profiles-2021-01-28.jsonl',
)
const ASOF = '2021-01-29'

interface RealEvent {
  resource_id: string
  data: Record<string, unknown> & { company_number: string; company_name: string; date_of_creation: string }
  event: { timepoint: number; published_at: string }
}
const lines = readFileSync(REAL, 'utf8')
  .split('\n')
  .filter((line) => line !== '')
const events = lines.map((line) => JSON.parse(line) as RealEvent)

let rest: RecordedServer | undefined
let stream: CompanyStreamServer | undefined
afterEach(async () => {
  await rest?.close()
  await stream?.close()
  rest = stream = undefined
})

describe('real company profiles through the REST connector to the indicator', () => {
  it('holds ten real profiles', () => {
    expect(events.map((e) => e.resource_id)).toEqual([
      '09940905',
      '10547255',
      '09966521',
      '11061407',
      '10502722',
      '09040685',
      '07129789',
      '09966552',
      '11819836',
      '11793514',
    ])
  })

  it('reads every profile as active, Green, with its name and date of creation and no insolvency request', async () => {
    rest = await RecordedServer.start()
    for (const { data } of events) rest.on(`/company/${data.company_number}`, { json: data })
    const client = new CompaniesHouseClient({ baseUrl: rest.baseUrl, backoffMs: 1, sleep: async () => undefined })
    const ids = events.map((e) => e.data.company_number)
    const result = await readCompaniesHouse(client, { asOf: ASOF, ids })
    expect(result.counts).toEqual({ read: 10, matched: 10, rejected: 0, notFound: 0 })
    expect(result.warnings).toEqual([])
    expect(rest.requests.every((request) => !request.path.endsWith('/insolvency'))).toBe(true)
    for (const { data } of events) {
      const record = result.records.find((r) => r.match.id === data.company_number)
      expect(record?.facts, data.company_number).toMatchObject({
        companyName: data.company_name,
        status: 'active',
        dateOfCreation: data.date_of_creation,
        hasInsolvencyHistory: false,
        accountsOverdue: false,
      })
      const indicator = judgeInsolvency(record?.observations ?? [], ASOF)
      expect([indicator.level, indicator.reason], data.company_number).toEqual([
        'green',
        'Company active at Companies House',
      ])
    }
  })
})

describe('the real events as a stream', () => {
  it('keeps all ten in timepoint order although their publication times are not in order, and rejects none', async () => {
    // 22990426 was published at 22:00:04, the two after it at 22:00:03: timepoints, not times, order the stream.
    const published = events.map((e) => e.event.published_at)
    expect([...published].sort()).not.toEqual(published)
    stream = await CompanyStreamServer.start({ dropFirstConnectionAfter: 4 })
    stream.items = events.map((e, i) => ({ timepoint: e.event.timepoint, line: lines[i] as string }))
    const batches: CompanyStreamBatch[] = []
    const summary = await readCompanyStream({
      baseUrl: stream.baseUrl,
      fromTimepoint: 22990400,
      stopAt: new Date('2021-01-29T02:00:00Z'),
      wanted: () => true,
      onBatch: async (batch) => void batches.push(batch),
      batchSize: 3,
      idleMs: 1_500,
      backoffMs: 1,
    })
    const kept = batches.flatMap((batch) => batch.events)
    expect(kept.map((e) => e.timepoint)).toEqual(events.map((e) => e.event.timepoint))
    expect(batches.flatMap((batch) => batch.rejects)).toEqual([])
    expect(summary).toMatchObject({ eventsRead: 10, eventsKept: 10, rejected: 0, lastTimepoint: 22990469 })
    expect(summary.connections).toBe(2)
    for (const event of kept) {
      expect(event.publishedOn).toBe('2021-01-28')
      const { observation } = mapCompanyProfile(event.profile!, event.publishedOn)
      expect(judgeInsolvency([observation], ASOF).level).toBe('green')
    }
  })
})
