import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CompaniesHouseClient, readCompaniesHouse } from '../../src/ingest/companiesHouse/connector.js'
import { CqcApiClient } from '../../src/ingest/cqc/apiClient.js'
import { readCqcApi } from '../../src/ingest/cqc/apiConnector.js'
import { FhrsApiClient, readFhrsApi } from '../../src/ingest/fhrs/apiConnector.js'
import { SourceUnavailableError } from '../../src/ingest/http.js'
import type { ConnectorResult } from '../../src/ingest/types.js'
import { RecordedServer, recordedJson, type ScriptedResponse } from '../helpers/recordedServer.js'

/**
 * The failure matrix, for each HTTP connector against a local server answering with the recorded real
 * payloads: 429 then success, 500 on every attempt, a timeout, malformed JSON, and a payload whose schema changed
 * (a rating word never seen before, a field of another type). Each gives its clear error for that identifier and the
 * connector goes on with the others; a source that keeps failing is given up as unavailable.
 */
const ASOF = '2026-03-14'
const TIMEOUT_MS = 150

let server: RecordedServer
let sleeps: number[]

beforeEach(async () => {
  server = await RecordedServer.start()
  sleeps = []
})
afterEach(async () => {
  await server.close()
})

const http = () => ({
  baseUrl: server.baseUrl,
  timeoutMs: TIMEOUT_MS,
  maxAttempts: 3,
  backoffMs: 5,
  random: () => 0.5,
  sleep: async (ms: number) => {
    sleeps.push(ms)
  },
})

interface ConnectorCase {
  name: string
  /** How error messages name the source. */
  sourceName: string
  /** Request path for an identifier. */
  path: (id: string) => string
  /** Two identifiers, and the recorded payload re-labelled for each. */
  ids: [string, string]
  recorded: (id: string) => Record<string, unknown>
  /** The recorded payload with a rating/status word the connector has never seen. */
  unknownWord: (id: string) => Record<string, unknown>
  /** The value the connector keeps for that word, and how it flags it. */
  unknownWordObservation: Record<string, unknown>
  /** The recorded payload with a field of another type; the field the reject names. */
  changedShape: (id: string) => Record<string, unknown>
  changedField: string
  read: (ids: string[], maxConsecutiveFailures?: number, concurrency?: number) => Promise<ConnectorResult<unknown>>
}

const lucerne = (id: string) => ({ ...recordedJson('cqc-location-1-125856395.json'), locationId: id })
const establishment = (id: string) => {
  const { establishments } = recordedJson<{ establishments: Array<Record<string, unknown>> }>(
    'fhrs-establishments.json',
  )
  return { ...establishments[0]!, FHRSID: Number(id) }
}
const company = (id: string) => ({ ...recordedJson('companies-house-company-06070408.json'), company_number: id })

const CASES: ConnectorCase[] = [
  {
    name: 'CQC API',
    sourceName: 'CQC API',
    path: (id) => `/locations/${id}`,
    ids: ['1-101', '1-102'],
    recorded: lucerne,
    unknownWord: (id) => ({
      ...lucerne(id),
      currentRatings: { overall: { rating: 'Exceptional Plus', reportDate: '2026-01-05', keyQuestionRatings: [] } },
      historicRatings: [],
    }),
    unknownWordObservation: {
      indicator: 'cqc_rating',
      value: 'exceptional_plus',
      detail: expect.objectContaining({ sourceRating: 'Exceptional Plus' }) as unknown,
    },
    changedShape: (id) => ({ ...lucerne(id), currentRatings: { overall: { rating: { value: 'Good' } } } }),
    changedField: 'currentRatings.overall.rating',
    read: (ids, maxConsecutiveFailures, concurrency) =>
      readCqcApi(new CqcApiClient({ ...http(), apiKey: 'k' }), {
        asOf: ASOF,
        ids,
        includeProviders: false,
        maxConsecutiveFailures,
        concurrency,
      }),
  },
  {
    name: 'FSA food hygiene API',
    sourceName: 'FSA food hygiene API',
    path: (id) => `/Establishments/${id}`,
    ids: ['201', '202'],
    recorded: establishment,
    unknownWord: (id) => ({ ...establishment(id), RatingValue: 'Platinum' }),
    unknownWordObservation: {
      indicator: 'food_hygiene',
      value: 'platinum',
      detail: expect.objectContaining({ sourceRating: 'Platinum' }) as unknown,
    },
    changedShape: (id) => ({ ...establishment(id), FHRSID: { id } }),
    changedField: 'FHRSID',
    read: (ids, maxConsecutiveFailures, concurrency) =>
      readFhrsApi(new FhrsApiClient(http()), { asOf: ASOF, ids, maxConsecutiveFailures, concurrency }),
  },
  {
    name: 'Companies House',
    sourceName: 'Companies House',
    path: (id) => `/company/${id}`,
    ids: ['00000301', '00000302'],
    recorded: company,
    unknownWord: (id) => ({ ...company(id), company_status: 'in-special-measures' }),
    unknownWordObservation: {
      indicator: 'insolvency',
      value: 'in-special-measures',
      detail: expect.objectContaining({ unrecognisedStatus: true }) as unknown,
    },
    changedShape: (id) => ({ ...company(id), company_status: ['active'] }),
    changedField: 'company_status',
    read: (ids, maxConsecutiveFailures, concurrency) =>
      readCompaniesHouse(new CompaniesHouseClient({ ...http(), apiKey: 'k' }), {
        asOf: ASOF,
        ids,
        maxConsecutiveFailures,
        concurrency,
      }),
  },
]

describe.each(CASES)('$name connector failures', (c) => {
  const [first, second] = c.ids
  const serve = (id: string, ...answers: ScriptedResponse[]) => server.on(c.path(id), ...answers)
  const matchedIds = (result: ConnectorResult<unknown>) => result.records.map((r) => r.match.id).sort()

  it('reads the recorded real payload', async () => {
    serve(first, { json: c.recorded(first) })
    const result = await c.read([first])
    expect(result.counts).toMatchObject({ read: 1, matched: 1, rejected: 0 })
    expect(result.records[0]?.observations.length).toBeGreaterThan(0)
  })

  it('429 then success: waits as Retry-After says and reads the record', async () => {
    serve(first, { status: 429, headers: { 'Retry-After': '4' } }, { json: c.recorded(first) })
    const result = await c.read([first])
    expect(matchedIds(result)).toEqual([first])
    expect(result.rejects).toEqual([])
    expect(sleeps).toEqual([4000])
    expect(server.requestsTo(c.path(first))).toHaveLength(2)
  })

  it('500 three times: that record fails with a clear error, the others are read', async () => {
    serve(first, { status: 500 })
    serve(second, { json: c.recorded(second) })
    const result = await c.read([first, second])
    expect(server.requestsTo(c.path(first))).toHaveLength(3)
    expect(result.rejects).toEqual([
      { record: first, reason: `${c.sourceName}: GET ${c.path(first)} failed after 3 attempts: HTTP 500` },
    ])
    expect(matchedIds(result)).toEqual([second])
  })

  it('500 three times for every record: the source fails with that error', async () => {
    serve(first, { status: 500 })
    serve(second, { status: 503 })
    await expect(c.read([first, second])).rejects.toThrow(
      new RegExp(`^${c.sourceName}: GET /[^ ]+ failed after 3 attempts: HTTP 50[03]$`),
    )
  })

  it('a timeout: that record fails saying so, the others are read', async () => {
    serve(first, { delayMs: TIMEOUT_MS * 6, json: c.recorded(first) })
    serve(second, { json: c.recorded(second) })
    const result = await c.read([first, second])
    expect(result.rejects).toEqual([
      {
        record: first,
        reason: `${c.sourceName}: GET ${c.path(first)} failed after 3 attempts: no response within ${TIMEOUT_MS} ms`,
      },
    ])
    expect(matchedIds(result)).toEqual([second])
  })

  it('malformed JSON: that record fails saying so (not retried), the others are read', async () => {
    serve(first, { body: '{"truncated": tr' })
    serve(second, { json: c.recorded(second) })
    const result = await c.read([first, second])
    expect(server.requestsTo(c.path(first))).toHaveLength(1)
    expect(result.rejects).toHaveLength(1)
    expect(result.rejects[0]).toMatchObject({ record: first })
    expect(result.rejects[0]?.reason).toMatch(
      new RegExp(`^${c.sourceName}: GET ${c.path(first)} failed after 1 attempt: malformed JSON .*body starts`),
    )
    expect(matchedIds(result)).toEqual([second])
  })

  it('schema change: a word never seen before is kept and flagged for the risk engine, not dropped', async () => {
    serve(first, { json: c.unknownWord(first) })
    const result = await c.read([first])
    expect(result.rejects).toEqual([])
    expect(result.records[0]?.observations).toContainEqual(expect.objectContaining(c.unknownWordObservation))
  })

  it('schema change: a field of another type rejects that record with the field named', async () => {
    serve(first, { json: c.changedShape(first) })
    serve(second, { json: c.recorded(second) })
    const result = await c.read([first, second])
    expect(result.rejects).toEqual([expect.objectContaining({ record: first, field: c.changedField })])
    expect(matchedIds(result)).toEqual([second])
  })

  it('a source that keeps failing is given up after the set number of failures in a row', async () => {
    const ids = Array.from({ length: 40 }, (_, i) =>
      c.name === 'CQC API' ? `1-9${i}` : c.name === 'Companies House' ? `0000${String(900 + i)}0` : String(900 + i),
    )
    for (const id of ids) serve(id, { status: 502 })
    const error = await c.read(ids, 5).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SourceUnavailableError)
    expect((error as Error).message).toMatch(
      new RegExp(`^${c.sourceName}: gave up after 5 requests in a row failed .*Last: .*HTTP 502`),
    )
    // Stopped early: only the failures in the streak (and those already in flight) were asked for.
    const asked = ids.filter((id) => server.requestsTo(c.path(id)).length > 0)
    expect(asked.length).toBeLessThan(10)
  })

  it('one answer in between resets the count: scattered failures do not give the source up', async () => {
    const ids = Array.from({ length: 8 }, (_, i) =>
      c.name === 'CQC API' ? `1-8${i}` : c.name === 'Companies House' ? `0000${String(800 + i)}0` : String(800 + i),
    )
    ids.forEach((id, i) => serve(id, i % 3 === 2 ? { json: c.recorded(id) } : { status: 500 }))
    // One at a time, so the order of answers is the order of the identifiers.
    const result = await c.read(ids, 3, 1)
    expect(result.records).toHaveLength(2)
    expect(result.rejects).toHaveLength(6)
  })
})
