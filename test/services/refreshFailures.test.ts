import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Services } from '../../src/services/container.js'
import { RefreshService, type RefreshSummary } from '../../src/services/refreshService.js'
import { buildSourceSteps } from '../../src/services/sources/index.js'
import { appWithAllRoutes, createTestServices, signIn } from '../helpers/appHarness.js'
import { SourceServer, type ScriptedAnswer } from '../helpers/sourceServer.js'
import request from 'supertest'

/**
 * The failure matrix at the level of the overnight run: one source at a time answers 429 then recovers, 500 on every
 * attempt, too slowly, with malformed JSON, or with a rating word never seen before. The run always completes, the
 * other sources are read, a failed source is recorded with its clear error (run log, freshness, /health), and the
 * data it gave before stays in use.
 */
const TIMEOUT_MS = 200
const SOURCES = [
  // After the first (full) load, CQC is read through its changes feed: that is the first request to fail.
  { source: 'cqc', prefix: '/cqc', name: 'CQC API', path: /\/changes\/location\?startTimestamp=/ },
  { source: 'fhrs', prefix: '/fhrs', name: 'FSA food hygiene API', path: /\/Establishments\/3000[12]/ },
  { source: 'companies_house', prefix: '/ch', name: 'Companies House', path: /\/company\/3000000[12]/ },
] as const
const INDICATOR = { cqc: 'cqc_rating', fhrs: 'food_hygiene', companies_house: 'insolvency' } as const
const RUN_LABEL = { cqc: 'CQC', fhrs: 'Food hygiene (FSA)', companies_house: 'Companies House' } as const
const SOURCE_OF_DATA = { cqc: 'cqc_api', fhrs: 'fhrs_api', companies_house: 'companies_house' } as const

let server: SourceServer
let services: Services

beforeEach(async () => {
  server = await SourceServer.start()
  services = createTestServices({ env: server.env() })
  await services.serviceRepository.upsertMany(
    [1, 2].map((n) => ({
      ref: `SVC-${n}`,
      name: `Home ${n}`,
      providerName: `Provider ${n} Ltd`,
      companiesHouseNumber: `3000000${n}`,
      cqcLocationId: `1-30000000${n}`,
      fhrsId: `3000${n}`,
      serviceType: 'care_home_residential' as const,
      area: 'North',
      contractStatus: 'contracted' as const,
    })),
  )
  server.cqcRatings.set('1-300000001', { rating: 'Requires improvement', reportDate: '2026-06-01' })
  server.fhrsRatings.set('30001', { value: '2', date: '2026-05-01' })
})

afterEach(async () => {
  await server.close()
})

function refresh(): Promise<RefreshSummary> {
  const steps = buildSourceSteps(services, {
    http: { backoffMs: 1, maxBackoffMs: 5, maxAttempts: 3, timeoutMs: TIMEOUT_MS },
  })
  return new RefreshService(services, steps).run({ trigger: 'test' })
}

const statuses = (summary: RefreshSummary) =>
  Object.fromEntries(summary.sources.filter((s) => s.status !== 'not_configured').map((s) => [s.source, s.status]))

async function indicatorOf(ref: string, key: string) {
  const service = await services.serviceRepository.findByRef(ref)
  return (await services.runs.current(service!.id))?.result.indicators.find((i) => i.key === key)
}

/** Every request to the source, for as long as a run lasts. */
const always = (answer: ScriptedAnswer) => Array.from({ length: 50 }, () => answer)

const FAILURES: Array<[string, (prefix: string) => void, RegExp]> = [
  ['500 on every attempt', (prefix) => server.fail(prefix, 500), /failed after 3 attempts: HTTP 500$/],
  [
    'no answer within the timeout',
    (prefix) => server.delay(prefix, TIMEOUT_MS * 5),
    new RegExp(`failed after 3 attempts: no response within ${TIMEOUT_MS} ms$`),
  ],
  [
    'malformed JSON',
    (prefix) => server.script(prefix, ...always({ body: '{"oops": ' })),
    /failed after 1 attempt: malformed JSON .*body starts "\{"oops":"$/,
  ],
]

describe.each(SOURCES)('the overnight run when $name fails', ({ source, prefix, name, path }) => {
  it.each(FAILURES)('%s: the run completes, the others are read, its last good data stays', async (_, fail, error) => {
    const first = await refresh()
    expect(statuses(first)).toEqual({ cqc: 'succeeded', fhrs: 'succeeded', companies_house: 'succeeded' })
    const before = await indicatorOf('SVC-1', INDICATOR[source])
    expect(before?.source).toBe(SOURCE_OF_DATA[source])

    fail(prefix)
    const summary = await refresh()
    const failed = summary.sources.find((s) => s.source === source)!
    expect(failed.status).toBe('failed')
    expect(failed.error).toMatch(new RegExp(`^${name}: GET ${path.source}`))
    expect(failed.error).toMatch(error)
    for (const other of SOURCES.filter((s) => s.source !== source)) {
      expect(statuses(summary)[other.source]).toBe('succeeded')
    }
    expect((await services.runs.getRun(summary.runId))?.status).toBe('completed')

    // Last good data: the same indicator, value, date and source as before the failure.
    expect(await indicatorOf('SVC-1', INDICATOR[source])).toEqual(before)
    // Recorded for the run log, the dashboard's freshness line and /health.
    const stored = (await services.runs.listSourceRuns(summary.runId)).find((s) => s.source === source)
    expect(stored).toMatchObject({ status: 'failed', error: failed.error })
    // The service page marks that data stale, saying the source's last refresh failed.
    const { agent } = await signIn(appWithAllRoutes(services), services, 'assessor')
    const page = await agent.get('/services/SVC-1')
    const row = new RegExp(`<tr[^>]*data-indicator="${INDICATOR[source]}"[^>]*>([\\s\\S]*?)</tr>`).exec(page.text)?.[1]
    expect(row?.replace(/\s+/g, ' ')).toMatch(
      new RegExp(`Stale.*Not refreshed: the last ${RUN_LABEL[source].replace(/[()]/g, '\\$&')} refresh failed on`),
    )
    expect(await services.runs.sourceFreshness()).toContainEqual(
      expect.objectContaining({
        source,
        lastAttemptStatus: 'failed',
        lastError: failed.error,
        lastSuccessAt: expect.any(String) as unknown,
      }),
    )
    // /health tells anyone only that the source is DOWN: the error text is for the admin run page.
    const health = await request(appWithAllRoutes(services)).get('/health')
    expect(health.body.sources[source]).toBe('DOWN')
    expect(health.text).not.toContain(failed.error)
  })

  it('429 with Retry-After, then an answer: the source is read as usual', async () => {
    server.script(prefix, { status: 429, headers: { 'Retry-After': '0' } })
    const summary = await refresh()
    expect(statuses(summary)[source]).toBe('succeeded')
    expect(summary.sources.find((s) => s.source === source)?.result).toMatchObject({ matched: 2, rejected: 0 })
  })
})

describe('a payload whose schema changed', () => {
  it('an unknown rating word reaches the service as "not recognised", and the run goes on', async () => {
    server.cqcRatings.set('1-300000001', { rating: 'Beyond Outstanding', reportDate: '2026-07-01' })
    server.fhrsRatings.set('30001', { value: 'Six Stars', date: '2026-07-02' })
    server.companyStatuses.set('30000001', 'under-review')
    const summary = await refresh()
    expect(statuses(summary)).toEqual({ cqc: 'succeeded', fhrs: 'succeeded', companies_house: 'succeeded' })
    expect(await indicatorOf('SVC-1', 'cqc_rating')).toMatchObject({
      level: 'none',
      reason: expect.stringMatching(/not recognised/) as unknown,
    })
    expect(await indicatorOf('SVC-1', 'food_hygiene')).toMatchObject({
      level: 'none',
      reason: expect.stringMatching(/not recognised/) as unknown,
    })
    expect(await indicatorOf('SVC-1', 'insolvency')).toMatchObject({
      level: 'none',
      reason: expect.stringMatching(/not recognised/) as unknown,
    })
  })

  it('a field of another type rejects that record in the run log with the field named', async () => {
    server.script('/fhrs', { json: (normal) => ({ ...(normal as object), RatingDate: { day: 1 } }) })
    const summary = await refresh()
    const fhrs = summary.sources.find((s) => s.source === 'fhrs')
    expect(fhrs?.status).toBe('succeeded')
    expect(fhrs?.result).toMatchObject({ matched: 1, rejected: 1 })
    expect(fhrs?.result?.rejects).toContainEqual(expect.objectContaining({ field: 'RatingDate' }))
  })
})

describe('a source that is down', () => {
  it('is given up after failures in a row instead of trying every identifier', async () => {
    await services.serviceRepository.upsertMany(
      Array.from({ length: 30 }, (_, i) => ({
        ref: `SVC-X${i}`,
        name: `Extra ${i}`,
        providerName: 'Extra Ltd',
        fhrsId: String(40000 + i),
        serviceType: 'care_home_residential' as const,
        area: 'North',
        contractStatus: 'contracted' as const,
      })),
    )
    server.fail('/fhrs', 503)
    const steps = buildSourceSteps(services, {
      http: { backoffMs: 1, maxBackoffMs: 5, maxAttempts: 3, timeoutMs: TIMEOUT_MS },
      maxConsecutiveFailures: 4,
      concurrency: 2,
    })
    const summary = await new RefreshService(services, steps).run({ trigger: 'test' })
    const fhrs = summary.sources.find((s) => s.source === 'fhrs')
    expect(fhrs?.status).toBe('failed')
    expect(fhrs?.error).toMatch(/^FSA food hygiene API: gave up after 4 requests in a row failed/)
    expect(server.requestsTo('/fhrs').length).toBeLessThanOrEqual(5 * 3)
    expect(statuses(summary)).toMatchObject({ cqc: 'succeeded', companies_house: 'succeeded' })
  })
})

describe('a long source', () => {
  it("beats the run's heartbeat as it makes progress, so the run is not taken for dead", async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(new Date('2026-12-04T02:00:00Z'))
      const heartbeats: string[] = []
      const heartbeatOf = (runId: number) =>
        (
          services.db.prepare('SELECT heartbeat_at FROM refresh_runs WHERE id = ?').get(runId) as {
            heartbeat_at: string
          }
        ).heartbeat_at
      const step = {
        source: 'slow',
        label: 'Slow source',
        configured: true,
        run: async ({ runId, progress }: { runId: number; progress: (done: number, total: number) => void }) => {
          for (let minute = 1; minute <= 3; minute++) {
            vi.setSystemTime(new Date(Date.parse('2026-12-04T02:00:00Z') + minute * 61_000))
            progress(minute, 3)
            // The beat is written without holding the source up: let it land before reading it.
            await new Promise((resolve) => setImmediate(resolve))
            heartbeats.push(heartbeatOf(runId))
          }
          return { read: 3, matched: 0, changed: 0, unchanged: 0, rejected: 0, rejects: [] }
        },
      }
      await new RefreshService(services, [step]).run({ trigger: 'test' })
      expect(heartbeats).toEqual(['2026-12-04T02:01:01.000Z', '2026-12-04T02:02:02.000Z', '2026-12-04T02:03:03.000Z'])
    } finally {
      vi.useRealTimers()
    }
  })
})
