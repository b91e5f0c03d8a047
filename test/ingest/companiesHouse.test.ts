import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  CompaniesHouseClient,
  normaliseCompanyNumber,
  readCompaniesHouse,
} from '../../src/ingest/companiesHouse/connector.js'
import { SlidingWindowRateLimiter } from '../../src/ingest/rateLimiter.js'
import { RecordedServer, recordedJson } from '../helpers/recordedServer.js'

const ASOF = '2026-03-14'
let server: RecordedServer

beforeEach(async () => {
  server = await RecordedServer.start()
})
afterEach(async () => {
  await server.close()
})

const client = (options: { rateLimiter?: SlidingWindowRateLimiter } = {}) =>
  new CompaniesHouseClient({
    baseUrl: server.baseUrl,
    apiKey: 'ch-key',
    backoffMs: 1,
    sleep: async () => undefined,
    ...options,
  })
const company = (changes: Record<string, unknown> = {}) => ({
  ...recordedJson('companies-house-company-06070408.json'),
  ...changes,
})

describe('readCompaniesHouse', () => {
  it('maps the recorded active company, with HTTP Basic auth (key as username, blank password)', async () => {
    server.on('/company/06070408', { json: company() })
    const result = await readCompaniesHouse(client(), { asOf: ASOF, ids: ['6070408'] })
    expect(result.counts).toEqual({ read: 1, matched: 1, rejected: 0, notFound: 0 })
    expect(result.records[0]).toEqual({
      match: { kind: 'company', id: '6070408' },
      observations: [
        {
          indicator: 'insolvency',
          source: 'companies_house',
          observedOn: ASOF,
          value: 'active',
          detail: {
            companyNumber: '06070408',
            companyName: 'TIBBS AND SIMMONS LIMITED',
            hasInsolvencyHistory: false,
            accountsOverdue: false,
          },
          reference: '06070408',
          naturalKey: 'ch:06070408:active',
        },
      ],
      facts: {
        companyNumber: '06070408',
        companyName: 'TIBBS AND SIMMONS LIMITED',
        status: 'active',
        statusDetail: null,
        type: 'ltd',
        dateOfCreation: '2007-01-26',
        dateOfCessation: null,
        hasInsolvencyHistory: false,
        accountsOverdue: false,
        confirmationStatementOverdue: false,
      },
    })
    const [request] = server.requestsTo('/company/06070408')
    expect(request?.headers.authorization).toBe(`Basic ${Buffer.from('ch-key:').toString('base64')}`)
  })

  it('maps a company in administration, a dissolved one and a proposal to strike off', async () => {
    server.on('/company/11111111', {
      json: company({ company_number: '11111111', company_status: 'administration', has_insolvency_history: true }),
    })
    server.on('/company/SC123456', {
      json: company({ company_number: 'SC123456', company_status: 'dissolved', date_of_cessation: '2025-10-01' }),
    })
    server.on('/company/22222222', {
      json: company({
        company_number: '22222222',
        company_status_detail: 'active-proposal-to-strike-off',
        accounts: { overdue: true },
      }),
    })
    const result = await readCompaniesHouse(client(), { asOf: ASOF, ids: ['11111111', 'sc123456', '22222222'] })
    const byId = new Map(result.records.map((record) => [record.match.id, record.observations[0]]))
    expect(byId.get('11111111')).toMatchObject({
      value: 'administration',
      naturalKey: 'ch:11111111:administration',
      detail: { hasInsolvencyHistory: true },
    })
    expect(byId.get('sc123456')).toMatchObject({
      value: 'dissolved',
      observedOn: ASOF,
      detail: { dateOfCessation: '2025-10-01' },
    })
    expect(byId.get('22222222')).toMatchObject({
      value: 'active',
      naturalKey: 'ch:22222222:active:active-proposal-to-strike-off',
      detail: { statusDetail: 'active-proposal-to-strike-off', accountsOverdue: true },
    })
  })

  it('reports a 404 as not found, rejects a malformed number and a status-less profile', async () => {
    server.on('/company/33333333', { json: company({ company_number: '33333333', company_status: undefined }) })
    const result = await readCompaniesHouse(client(), { asOf: ASOF, ids: ['00000404', 'not a number!', '33333333'] })
    expect(result.notFound).toEqual(['00000404'])
    expect(result.rejects).toEqual([
      { record: 'not a number!', field: 'companies_house_number', reason: '"not a number!" is not a company number' },
      expect.objectContaining({ record: '33333333', field: 'company_status' }),
    ])
    expect(result.counts).toMatchObject({ matched: 0, rejected: 2, notFound: 1 })
  })

  it('marks a status outside the published list as unrecognised rather than failing', async () => {
    server.on('/company/44444444', {
      json: company({ company_number: '44444444', company_status: 'Struck-Off-Pending' }),
    })
    const result = await readCompaniesHouse(client(), { asOf: ASOF, ids: ['44444444'] })
    expect(result.records[0]?.observations[0]).toMatchObject({
      value: 'struck-off-pending',
      detail: { unrecognisedStatus: true },
    })
  })

  it('goes through the rate limiter for every request', async () => {
    let now = 0
    const waits: number[] = []
    const limiter = new SlidingWindowRateLimiter({
      limit: 2,
      windowMs: 300_000,
      clock: {
        now: () => now,
        sleep: async (ms) => {
          waits.push(ms)
          now += ms
        },
      },
    })
    for (const n of ['1', '2', '3'])
      server.on(`/company/0000000${n}`, { json: company({ company_number: `0000000${n}` }) })
    const result = await readCompaniesHouse(client({ rateLimiter: limiter }), { asOf: ASOF, ids: ['1', '2', '3'] })
    expect(result.counts.matched).toBe(3)
    expect(waits).toEqual([300_000])
  })
})

describe('normaliseCompanyNumber', () => {
  it('pads and upper-cases company numbers', () => {
    expect(normaliseCompanyNumber(' 6070408 ')).toBe('06070408')
    expect(normaliseCompanyNumber('sc12345')).toBe('SC012345')
    expect(normaliseCompanyNumber('OC301234')).toBe('OC301234')
    expect(normaliseCompanyNumber('123456789')).toBeNull()
    expect(normaliseCompanyNumber('')).toBeNull()
  })
})
