import { afterEach, describe, expect, it } from 'vitest'
import { CompaniesHouseStreamRepository } from '../../src/data/companiesHouseStream.js'
import { ObservationRepository } from '../../src/data/observations.js'
import { readCompanyStream, type CompanyStreamBatch } from '../../src/ingest/companiesHouse/stream.js'
import type { Services } from '../../src/services/container.js'
import { runCompaniesHouseStep } from '../../src/services/sources/companiesHouse.js'
import { createTestServices } from '../helpers/appHarness.js'
import { CompanyStreamServer, companyEvent, type StreamItem } from '../helpers/companyStreamServer.js'
import { RecordedServer, recordedJson } from '../helpers/recordedServer.js'

const NIGHT = '2026-12-07'
const RUN_START = new Date('2026-12-07T02:00:00Z')
const profile = (number: string, changes: Record<string, unknown> = {}) => ({
  ...recordedJson('companies-house-company-06070408.json'),
  company_number: number,
  ...changes,
})

let stream: CompanyStreamServer | undefined
let rest: RecordedServer | undefined
afterEach(async () => {
  await stream?.close()
  await rest?.close()
  stream = rest = undefined
})

/** Ten events (timepoints 101-110), a line that is not JSON after 103 and an event without published_at at 105. */
function nightItems(): StreamItem[] {
  const numbers = [
    '01111111',
    '09000001',
    '02222222',
    '09000002',
    '09000003',
    '03333333',
    '09000004',
    '01111111',
    '09000005',
    '09000006',
  ]
  const items: StreamItem[] = []
  numbers.forEach((number, i) => {
    const timepoint = 101 + i
    if (timepoint === 105) {
      items.push({
        timepoint,
        line: JSON.stringify({ resource_id: number, data: {}, event: { timepoint, type: 'changed' } }),
      })
      return
    }
    const status = number === '01111111' && timepoint === 108 ? 'liquidation' : 'active'
    items.push(
      companyEvent(
        timepoint,
        number,
        `2026-12-06T1${i}:00:00`,
        profile(number, { company_status: status, has_insolvency_history: status !== 'active' }),
      ),
    )
    if (timepoint === 103) items.push({ timepoint: null, line: '{"resource_id": "0900' })
  })
  return items
}

describe('readCompanyStream against a local streaming API', () => {
  it('resumes a dropped connection from the timepoint: nothing lost or doubled, bad lines rejected with a reason', async () => {
    stream = await CompanyStreamServer.start({ apiKey: 'stream-key', dropFirstConnectionAfter: 4 })
    stream.items = nightItems()
    const batches: CompanyStreamBatch[] = []
    const summary = await readCompanyStream({
      baseUrl: stream.baseUrl,
      apiKey: 'stream-key',
      fromTimepoint: 100,
      stopAt: RUN_START,
      wanted: (number) => ['01111111', '02222222', '03333333'].includes(number),
      onBatch: async (batch) => void batches.push(batch),
      batchSize: 2,
      idleMs: 1_500,
      backoffMs: 1,
    })
    const kept = batches.flatMap((batch) => batch.events.map((event) => `${event.timepoint}:${event.companyNumber}`))
    expect(kept).toEqual(['101:01111111', '103:02222222', '106:03333333', '108:01111111'])
    expect(batches.flatMap((batch) => batch.rejects)).toEqual([
      { record: 'stream line after timepoint 103', reason: expect.stringMatching(/^not JSON: /) },
      {
        record: 'stream line after timepoint 104',
        field: 'event.published_at',
        reason: expect.stringContaining('event.published_at'),
      },
    ])
    expect(stream.requests.map((request) => request.timepoint)).toEqual([100, 103])
    expect(stream.requests[0]?.authorization).toBe(`Basic ${Buffer.from('stream-key:').toString('base64')}`)
    expect(summary).toMatchObject({
      eventsRead: 9,
      eventsKept: 4,
      rejected: 2,
      connections: 2,
      lastTimepoint: 110,
      stoppedBy: 'idle',
    })
    const stored = batches.map((batch) => batch.timepoint ?? 0)
    expect(stored).toEqual([...stored].sort((a, b) => a - b))
    expect(stored.at(-1)).toBe(110)
  })

  it('stops once an event published at or after the run start is read', async () => {
    stream = await CompanyStreamServer.start()
    stream.items = [
      companyEvent(1, '01111111', '2026-12-07T01:59:59', profile('01111111')),
      companyEvent(2, '01111111', '2026-12-07T02:00:01', profile('01111111', { company_status: 'administration' })),
      companyEvent(3, '01111111', '2026-12-07T02:00:02', profile('01111111', { company_status: 'dissolved' })),
    ]
    const batches: CompanyStreamBatch[] = []
    const summary = await readCompanyStream({
      baseUrl: stream.baseUrl,
      fromTimepoint: 0,
      stopAt: RUN_START,
      wanted: () => true,
      onBatch: async (batch) => void batches.push(batch),
      idleMs: 5_000,
    })
    expect(summary).toMatchObject({ stoppedBy: 'caught-up', lastTimepoint: 2, eventsRead: 2 })
    expect(batches.flatMap((batch) => batch.events.map((event) => event.profile?.company_status))).toEqual([
      'active',
      'administration',
    ])
  })
})

describe('a Companies House night with the stream', () => {
  async function setUp(options: { dropFirstConnectionAfter?: number } = {}) {
    stream = await CompanyStreamServer.start({ apiKey: 'stream-key', ...options })
    stream.items = nightItems()
    rest = await RecordedServer.start()
    for (const number of ['01111111', '02222222', '03333333', '04444444'])
      rest.on(`/company/${number}`, { json: profile(number) })
    rest.on('/company/01111111/insolvency', {
      json: {
        etag: 'x',
        cases: [{ type: 'creditors-voluntary-liquidation', dates: [{ type: 'wound-up-on', date: '2026-12-01' }] }],
      },
    })
    const services = createTestServices({
      today: NIGHT,
      env: {
        COMPANIES_HOUSE_API_BASE: rest.baseUrl,
        COMPANIES_HOUSE_API_KEY: 'rest-key',
        COMPANIES_HOUSE_STREAM_URL: stream.baseUrl,
        COMPANIES_HOUSE_STREAM_KEY: 'stream-key',
      },
    })
    await services.serviceRepository.upsertMany(
      ['01111111', '02222222', '03333333', '4444444'].map((number, i) => ({
        ref: `SVC-${i}`,
        name: `Service ${i}`,
        providerName: `Provider ${i} Ltd`,
        companiesHouseNumber: number,
        serviceType: 'home_care',
        area: 'North',
        contractStatus: 'contracted',
      })),
    )
    // Night 0 stored the stream's place and read these three companies by REST; 04444444 was never seen.
    const repository = new CompaniesHouseStreamRepository(services.db)
    await repository.recordBatch({
      timepoint: 100,
      seen: ['01111111', '02222222', '03333333'],
      seenOn: '2026-12-06',
    })
    return { services, repository }
  }
  const night = (services: Services) =>
    runCompaniesHouseStep(
      services,
      { runId: 1, asOf: NIGHT, progress: () => undefined },
      {
        http: { backoffMs: 1, sleep: async () => undefined },
        companiesHouseStream: { idleMs: 1_500, batchSize: 2, backoffMs: 1, stopAt: () => RUN_START },
      },
    )
  async function insolvencyRows(services: Services) {
    const rows: string[] = []
    for (const service of await services.serviceRepository.listAll()) {
      for (const o of await services.observations.listLive(service.id)) {
        if (o.indicator === 'insolvency')
          rows.push(`${service.ref}:${o.value}:${o.observedOn}:${String(o.detail.statusSince ?? '-')}`)
      }
    }
    return rows.sort()
  }

  it('keeps the register’s events, stores the timepoint, reads by REST only the company never seen; a rerun adds nothing', async () => {
    const { services, repository } = await setUp({ dropFirstConnectionAfter: 5 })
    const first = await night(services)
    const rows = await insolvencyRows(services)
    expect(rows).toEqual([
      'SVC-0:active:2026-12-06:-',
      'SVC-0:liquidation:2026-12-06:2026-12-01',
      'SVC-1:active:2026-12-06:-',
      'SVC-2:active:2026-12-06:-',
      'SVC-3:active:2026-12-07:-',
    ])
    expect(await repository.timepoint()).toBe(110)
    expect(rest?.requests.map((request) => request.path)).toEqual(['/company/01111111/insolvency', '/company/04444444'])
    expect(first.rejects.filter((reject) => reject.record.startsWith('stream line'))).toHaveLength(2)
    expect(first.rejects.find((reject) => reject.record === 'warning')?.reason).toMatch(
      /^stream: 9 events from timepoint 100 to 110 over 2 connection/,
    )

    const rerun = await night(services)
    expect(await insolvencyRows(services)).toEqual(rows)
    expect(rerun).toMatchObject({ changed: 0, changedServiceIds: [] })
    expect(rest?.requests).toHaveLength(2)
    expect(stream?.requests.at(-1)?.timepoint).toBe(110)
  })

  it('a crash part-way keeps the batches stored with their timepoint; the next run neither loses nor doubles', async () => {
    const { services, repository } = await setUp()
    // Every observation repository (one per transaction): the batch's append fails wherever it is made.
    const append = ObservationRepository.prototype.append
    let calls = 0
    ObservationRepository.prototype.append = async function (this: ObservationRepository, observations) {
      if (++calls === 2) throw new Error('killed mid-batch')
      return append.call(this, observations)
    }
    try {
      await expect(night(services)).rejects.toThrow('killed mid-batch')
    } finally {
      ObservationRepository.prototype.append = append
    }
    const afterCrash = await repository.timepoint()
    expect(afterCrash).not.toBe(110)
    expect(afterCrash).toBeGreaterThan(100)
    await night(services)
    expect(await insolvencyRows(services)).toEqual([
      'SVC-0:active:2026-12-06:-',
      'SVC-0:liquidation:2026-12-06:2026-12-01',
      'SVC-1:active:2026-12-06:-',
      'SVC-2:active:2026-12-06:-',
      'SVC-3:active:2026-12-07:-',
    ])
    expect(await repository.timepoint()).toBe(110)
  })
})
