import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CqcApiClient } from '../../src/ingest/cqc/apiClient.js'
import { readCqcApi } from '../../src/ingest/cqc/apiConnector.js'
import { assessCqcRating } from '../../src/domain/indicators/cqcRating.js'
import type { Observation } from '../../src/domain/observation.js'
import { DEFAULT_RULE_SET } from '../../src/domain/ruleSet.js'
import { RecordedServer, recordedJson, type ScriptedResponse } from '../helpers/recordedServer.js'

const LUCERNE = '1-125856395'
const ASOF = '2026-03-14'

let server: RecordedServer
let sleeps: number[]

beforeEach(async () => {
  server = await RecordedServer.start()
  sleeps = []
})
afterEach(async () => {
  await server.close()
})

function cqc(options: { maxAttempts?: number } = {}) {
  return new CqcApiClient({
    baseUrl: server.baseUrl,
    apiKey: 'test-key',
    timeoutMs: 2000,
    maxAttempts: options.maxAttempts ?? 3,
    backoffMs: 5,
    sleep: async (ms) => {
      sleeps.push(ms)
    },
  })
}

type Location = Record<string, unknown>
const lucerne = () => recordedJson<Location>('cqc-location-1-125856395.json')

/** A location of the same shape as the recorded one, changed by `changes`. */
function location(id: string, changes: Location = {}): Location {
  return { ...lucerne(), locationId: id, ...changes }
}

function serveLocation(body: Location, ...before: ScriptedResponse[]) {
  server.on(`/locations/${body.locationId as string}`, ...before, { json: body })
}

describe('readCqcApi against the recorded location', () => {
  it('maps the current rating with key questions, the rating history and the registered manager', async () => {
    serveLocation(lucerne())
    server.on('/providers/1-102642955', {
      json: {
        providerId: '1-102642955',
        name: 'Barchester Healthcare Homes Limited',
        companiesHouseNumber: '03252748',
      },
    })
    const result = await readCqcApi(cqc(), { asOf: ASOF, ids: [LUCERNE] })

    expect(result.counts).toEqual({ read: 1, matched: 1, rejected: 0, notFound: 0 })
    const [record] = result.records
    expect(record?.match).toEqual({ kind: 'cqc_location', id: LUCERNE })
    const ratings = record?.observations.filter((o) => o.indicator === 'cqc_rating') ?? []
    expect(ratings.map((o) => [o.observedOn, o.value, o.naturalKey])).toEqual([
      ['2019-10-31', 'outstanding', `cqc:${LUCERNE}:2019-10-31`],
      ['2017-02-08', 'outstanding', `cqc:${LUCERNE}:2017-02-08`],
      ['2015-01-23', 'good', `cqc:${LUCERNE}:2015-01-23`],
    ])
    expect(ratings[0]).toMatchObject({
      source: 'cqc_api',
      reference: 'a361ecb8-4b08-49b8-934c-dc578d6bff8d',
      detail: {
        registrationStatus: 'registered',
        keyQuestions: {
          safe: 'good',
          effective: 'outstanding',
          caring: 'outstanding',
          responsive: 'outstanding',
          well_led: 'outstanding',
        },
      },
    })
    expect(ratings[2]?.detail).toMatchObject({ keyQuestions: { responsive: 'requires_improvement' } })

    const managers = record?.observations.filter((o) => o.indicator === 'manager_vacancy') ?? []
    expect(managers).toEqual([
      {
        indicator: 'manager_vacancy',
        source: 'cqc_api',
        observedOn: ASOF,
        value: 'in_post',
        detail: { managerName: 'John Surel Bayliss' },
        reference: null,
        naturalKey: `cqc:${LUCERNE}:manager:in_post:john_surel_bayliss`,
        dedupe: 'latest_state',
      },
    ])

    expect(record?.facts).toMatchObject({
      locationId: LUCERNE,
      providerId: '1-102642955',
      name: 'Lucerne House',
      registrationStatus: 'registered',
      registrationDate: '2011-02-15',
      deregistrationDate: null,
      numberOfBeds: 75,
      careHome: true,
      serviceTypes: ['Care home service with nursing'],
      gacServiceTypes: [{ name: 'Nursing homes', description: 'Care home service with nursing' }],
      registeredManagers: ['John Surel Bayliss'],
      provider: { providerId: '1-102642955', companiesHouseNumber: '03252748' },
    })
  })

  it('sends the subscription key, a User-Agent and Accept: application/json', async () => {
    serveLocation(lucerne())
    await readCqcApi(cqc(), { asOf: ASOF, ids: [LUCERNE], includeProviders: false })
    const [request] = server.requestsTo(`/locations/${LUCERNE}`)
    expect(request?.headers['ocp-apim-subscription-key']).toBe('test-key')
    expect(request?.headers['user-agent']).toMatch(/provider-risk-dashboard/)
    expect(request?.headers.accept).toBe('application/json')
  })

  it('produces the same natural keys when the same payload is read again', async () => {
    serveLocation(lucerne())
    const first = await readCqcApi(cqc(), { asOf: ASOF, ids: [LUCERNE], includeProviders: false })
    const second = await readCqcApi(cqc(), { asOf: '2026-03-15', ids: [LUCERNE], includeProviders: false })
    const keys = (r: typeof first) => r.records.flatMap((record) => record.observations.map((o) => o.naturalKey))
    expect(keys(second)).toEqual(keys(first))
    expect(new Set(keys(first)).size).toBe(keys(first).length)
  })
})

describe('readCqcApi with odder payloads', () => {
  it('reports council ids the API does not know as not found, and ignores nothing else', async () => {
    serveLocation(lucerne())
    const result = await readCqcApi(cqc(), {
      asOf: ASOF,
      ids: [LUCERNE, '1-404', ' ', LUCERNE],
      includeProviders: false,
    })
    expect(result.notFound).toEqual(['1-404'])
    expect(result.counts).toMatchObject({ read: 1, matched: 1, notFound: 1 })
  })

  it('keeps an unknown rating word for the risk engine to report instead of failing the record', async () => {
    const body = location('1-900', {
      currentRatings: {
        overall: {
          rating: 'Very Good Indeed',
          reportDate: '2025-06-01',
          keyQuestionRatings: [
            { name: 'Safe', rating: 'Inadequate' },
            { name: 'Well led', rating: 'Superb' },
            { name: 'Sustainability', rating: 'Good' },
          ],
        },
      },
      historicRatings: [],
    })
    serveLocation(body)
    const result = await readCqcApi(cqc(), { asOf: ASOF, ids: ['1-900'], includeProviders: false })
    expect(result.rejects).toEqual([])
    const [rating] = result.records[0]?.observations ?? []
    expect(rating).toMatchObject({
      indicator: 'cqc_rating',
      value: 'very_good_indeed',
      observedOn: '2025-06-01',
      detail: { sourceRating: 'Very Good Indeed', keyQuestions: { safe: 'inadequate', well_led: 'superb' } },
    })
  })

  it('maps "No published rating" and a missing rating to not_rated from the registration date', async () => {
    serveLocation(location('1-901', { registrationDate: '2025-11-02', currentRatings: {}, historicRatings: [] }))
    serveLocation(
      location('1-902', {
        registrationDate: '2025-12-01',
        currentRatings: { overall: { rating: 'No published rating' } },
        historicRatings: [],
      }),
    )
    const result = await readCqcApi(cqc(), { asOf: ASOF, ids: ['1-901', '1-902'], includeProviders: false })
    const ratingOf = (id: string) =>
      result.records.find((r) => r.match.id === id)?.observations.find((o) => o.indicator === 'cqc_rating')
    expect(ratingOf('1-901')).toMatchObject({
      value: 'not_rated',
      observedOn: '2025-11-02',
      naturalKey: 'cqc:1-901:not_rated:2025-11-02',
    })
    expect(ratingOf('1-902')).toMatchObject({ value: 'not_rated', observedOn: '2025-12-01' })
  })

  it('marks a deregistered location with an observation dated by its deregistration, and no manager signal', async () => {
    serveLocation(
      location('1-903', {
        registrationStatus: 'Deregistered',
        deregistrationDate: '2025-08-31',
        currentRatings: { overall: { rating: 'Inadequate', reportDate: '2025-02-01' } },
        historicRatings: [],
        registeredManagerAbsentDate: '2025-01-01',
      }),
    )
    const result = await readCqcApi(cqc(), { asOf: ASOF, ids: ['1-903'], includeProviders: false })
    const record = result.records[0]
    expect(record?.observations.map((o) => [o.indicator, o.observedOn, o.value, o.detail?.registrationStatus])).toEqual(
      [
        ['cqc_rating', '2025-02-01', 'inadequate', 'registered'],
        ['cqc_rating', '2025-08-31', 'inadequate', 'deregistered'],
      ],
    )
    expect(record?.observations[1]?.naturalKey).toBe('cqc:1-903:deregistered:2025-08-31')
    expect(record?.facts).toMatchObject({ registrationStatus: 'deregistered', deregistrationDate: '2025-08-31' })
  })

  it('maps registeredManagerAbsentDate to a vacancy since that date', async () => {
    serveLocation(
      location('1-904', {
        registeredManagerAbsentDate: '2025-09-15',
        regulatedActivities: [{ name: 'Personal care', code: 'RA1', contacts: [] }],
      }),
    )
    const result = await readCqcApi(cqc(), { asOf: ASOF, ids: ['1-904'], includeProviders: false })
    const vacancy = result.records[0]?.observations.filter((o) => o.indicator === 'manager_vacancy')
    expect(vacancy).toEqual([
      {
        indicator: 'manager_vacancy',
        source: 'cqc_api',
        observedOn: '2025-09-15',
        endDate: null,
        value: 'vacant',
        detail: { since: 'registeredManagerAbsentDate' },
        reference: null,
        naturalKey: 'cqc:1-904:manager:vacant:2025-09-15',
        dedupe: 'latest_state',
      },
    ])
    expect(result.records[0]?.facts?.registeredManagers).toEqual([])
  })

  it('dedupes managers listed under several activities and lists two managers once each', async () => {
    const contact = (given: string, family: string) => ({
      personGivenName: given,
      personFamilyName: family,
      personRoles: ['Registered Manager'],
    })
    const other = { personGivenName: 'Nora', personFamilyName: 'Nominated', personRoles: ['Nominated Individual'] }
    serveLocation(
      location('1-905', {
        regulatedActivities: [
          { code: 'RA1', contacts: [contact('Zoe', 'Adams'), other] },
          { code: 'RA2', contacts: [contact('Amir', 'Khan'), contact('Zoe', 'Adams')] },
        ],
      }),
    )
    const result = await readCqcApi(cqc(), { asOf: ASOF, ids: ['1-905'], includeProviders: false })
    const [manager] = result.records[0]?.observations.filter((o) => o.indicator === 'manager_vacancy') ?? []
    expect(manager?.detail).toEqual({ managerName: 'Amir Khan, Zoe Adams' })
    expect(manager?.naturalKey).toBe('cqc:1-905:manager:in_post:amir_khan+zoe_adams')
  })

  it('rejects a payload that is not a location, and a bad date field, with the field named', async () => {
    server.on('/locations/1-906', { json: { name: 'no id here' } })
    serveLocation(location('1-907', { registrationDate: 'sometime in 2011' }))
    const result = await readCqcApi(cqc(), { asOf: ASOF, ids: ['1-906', '1-907'], includeProviders: false })
    expect(result.rejects).toEqual([
      expect.objectContaining({ record: '1-906', field: 'locationId' }),
      { record: '1-907', field: 'registrationDate', reason: '"sometime in 2011" is not a date' },
    ])
    expect(result.records.map((r) => r.match.id)).toEqual(['1-907'])
  })

  it('waits out the CQC soft limit and then reads the location', async () => {
    serveLocation(lucerne(), { json: { statusCode: 429, message: 'Rate limit is exceeded. Try again in 7 seconds.' } })
    const result = await readCqcApi(cqc(), { asOf: ASOF, ids: [LUCERNE], includeProviders: false })
    expect(result.counts.matched).toBe(1)
    expect(sleeps).toEqual([7000])
  })

  it('turns a location that keeps failing into a reject while others succeed', async () => {
    serveLocation(lucerne())
    server.on('/locations/1-500', { status: 500 })
    const result = await readCqcApi(cqc(), { asOf: ASOF, ids: [LUCERNE, '1-500'], includeProviders: false })
    expect(result.records).toHaveLength(1)
    expect(result.rejects).toEqual([
      { record: '1-500', reason: 'CQC API: GET /locations/1-500 failed after 3 attempts: HTTP 500' },
    ])
  })

  it('fails the source when every request fails, or when the key is refused', async () => {
    server.on('/locations/1-500', { status: 500 })
    await expect(readCqcApi(cqc(), { asOf: ASOF, ids: ['1-500'] })).rejects.toThrow('HTTP 500')
    serveLocation(lucerne())
    server.on('/locations/1-401', { status: 401 })
    await expect(readCqcApi(cqc(), { asOf: ASOF, ids: [LUCERNE, '1-401'] })).rejects.toThrow('HTTP 401')
  })

  it('warns, without failing, when a provider is missing', async () => {
    serveLocation(lucerne())
    const result = await readCqcApi(cqc(), { asOf: ASOF, ids: [LUCERNE] })
    expect(result.warnings).toEqual(['CQC provider 1-102642955 not found'])
    expect(result.records[0]?.facts?.provider).toBeUndefined()
  })
})

describe('CQC paging and the changes feed', () => {
  it('pages through /locations until the last page', async () => {
    const page1 = recordedJson<Location>('cqc-locations-list-page.json')
    const page = (n: number, ids: string[]) => ({
      ...page1,
      page: n,
      totalPages: 3,
      locations: ids.map((locationId) => ({ locationId, locationName: `Home ${locationId}`, postalCode: 'EX1 1AA' })),
    })
    server.on('/locations', (request) => {
      const n = Number(request.query.get('page'))
      if (n === 1) return { json: { ...page1, totalPages: 3 } }
      return { json: n === 2 ? page(2, ['1-6', '1-7']) : page(3, ['1-8']) }
    })
    const ids: string[] = []
    for await (const summary of cqc().listLocations({ localAuthority: 'Devon' }, 5)) ids.push(summary.locationId)
    expect(ids).toEqual([
      '1-1000210669',
      '1-1000270393',
      '1-1000312641',
      '1-1000401911',
      '1-1000587219',
      '1-6',
      '1-7',
      '1-8',
    ])
    const requests = server.requestsTo('/locations')
    expect(requests.map((r) => r.query.get('page'))).toEqual(['1', '2', '3'])
    expect(requests[0]?.query.get('perPage')).toBe('5')
    expect(requests[0]?.query.get('localAuthority')).toBe('Devon')
  })

  it('fetches only changed council locations, skips changed ids that 404, and returns the window', async () => {
    server.on('/changes/location', (request) => {
      const n = Number(request.query.get('page'))
      const changes = n === 1 ? ['1-900', '1-gone', '1-other'] : ['1-901']
      return { json: { changes, page: n, totalPages: 2, total: 4 } }
    })
    serveLocation(location('1-900'))
    serveLocation(location('1-901'))
    serveLocation(location('1-new'))
    const result = await readCqcApi(cqc(), {
      asOf: ASOF,
      ids: ['1-900', '1-901', '1-902', '1-gone', '1-new'],
      alwaysFetch: ['1-new'],
      changedSince: '2026-03-13T02:00:00Z',
      now: () => new Date('2026-03-14T02:00:00Z'),
      includeProviders: false,
    })
    const changeRequests = server.requestsTo('/changes/location')
    expect(changeRequests.map((r) => r.query.get('page'))).toEqual(['1', '2'])
    expect(changeRequests[0]?.query.get('startTimestamp')).toBe('2026-03-13T02:00:00Z')
    expect(changeRequests[0]?.query.get('endTimestamp')).toBe('2026-03-14T02:00:00.000Z')
    expect(result.records.map((r) => r.match.id).sort()).toEqual(['1-900', '1-901', '1-new'])
    expect(server.requestsTo('/locations/1-902')).toHaveLength(0)
    expect(server.requestsTo('/locations/1-other')).toHaveLength(0)
    expect(result.notFound).toEqual([])
    expect(result.warnings).toEqual(['CQC location 1-gone is in the changes feed but returned 404: skipped'])
    expect(result.changesWindow).toEqual({ start: '2026-03-13T02:00:00Z', end: '2026-03-14T02:00:00.000Z', changed: 4 })
    expect(result.unchanged).toBe(1)
  })

  it('reports progress as locations are fetched', async () => {
    serveLocation(lucerne())
    const progress: Array<[number, number]> = []
    await readCqcApi(cqc(), {
      asOf: ASOF,
      ids: [LUCERNE, '1-404'],
      includeProviders: false,
      onProgress: (done, total) => progress.push([done, total]),
    })
    expect(progress.map(([, total]) => total)).toEqual([2, 2])
    expect(progress.map(([done]) => done).sort()).toEqual([1, 2])
  })
})

describe('CQC standing: a rating carried over, a dormant location', () => {
  it('says a rating carried over from a previous registration and a dormant location so', async () => {
    const body = location('1-910', {
      dormancy: 'Y',
      dormancyStartDate: '2025-04-01',
      relationships: [{ relatedLocationId: '1-100', type: 'HSCA Predecessor', reason: 'Location Move' }],
      currentRatings: {
        overall: { rating: 'Good', reportDate: '2023-06-01', organisationId: '1-100', keyQuestionRatings: [] },
        reportDate: '2023-06-01',
      },
      historicRatings: [],
    })
    serveLocation(body)
    const result = await readCqcApi(cqc(), { asOf: ASOF, ids: ['1-910'], includeProviders: false })
    const [rating] = result.records[0]?.observations ?? []
    expect(rating?.detail).toMatchObject({ inheritedFrom: '1-100', dormant: true, dormantSince: '2025-04-01' })
    expect(result.records[0]?.facts?.predecessorLocationIds).toEqual(['1-100'])

    const stored = [
      { ...rating, id: 1, endDate: null, notes: null, enteredBy: null, recordedAt: ASOF },
    ] as Observation[]
    const judged = assessCqcRating(stored, { ruleSet: DEFAULT_RULE_SET, asOf: ASOF })
    expect(judged.level).toBe('green')
    expect(judged.value).toBe('Good - dormant')
    expect(judged.reason).toContain('carried over from its previous registration 1-100')
    expect(judged.reason).toContain('location dormant since 2025-04-01')
  })

  it('does not call a rating carried over when organisationId is the location itself', async () => {
    serveLocation(lucerne())
    const result = await readCqcApi(cqc(), { asOf: ASOF, ids: [LUCERNE], includeProviders: false })
    expect(result.records[0]?.observations[0]?.detail).not.toHaveProperty('inheritedFrom')
  })
})
