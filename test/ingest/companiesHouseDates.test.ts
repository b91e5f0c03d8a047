import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CompaniesHouseClient, readCompaniesHouse } from '../../src/ingest/companiesHouse/connector.js'
import { judgeInsolvency } from '../helpers/insolvencyJudge.js'
import { RecordedServer, recordedJson } from '../helpers/recordedServer.js'

const ASOF = '2026-12-07'
let server: RecordedServer

beforeEach(async () => {
  server = await RecordedServer.start()
})
afterEach(async () => {
  await server.close()
})

const client = () =>
  new CompaniesHouseClient({ baseUrl: server.baseUrl, apiKey: 'ch-key', backoffMs: 1, sleep: async () => undefined })
const company = (changes: Record<string, unknown>) => ({
  ...recordedJson('companies-house-company-06070408.json'),
  ...changes,
})
const insolvency = (...cases: Array<Record<string, unknown>>) => ({ etag: 'e', cases })

async function readOne(number: string) {
  const result = await readCompaniesHouse(client(), { asOf: ASOF, ids: [number] })
  const observations = result.records[0]?.observations ?? []
  return { result, observation: observations[0], indicator: judgeInsolvency(observations, ASOF) }
}

describe('Companies House statuses dated from the company’s own dates', () => {
  it('dates a dissolved company from its date_of_cessation, not the night it was read', async () => {
    server.on('/company/01234567', {
      json: company({
        company_number: '01234567',
        company_status: 'dissolved',
        date_of_cessation: '2018-06-05',
        has_insolvency_history: false,
      }),
    })
    const { observation, indicator } = await readOne('01234567')
    expect(observation).toMatchObject({ value: 'dissolved', detail: { statusSince: '2018-06-05' } })
    expect(indicator).toMatchObject({ level: 'red', date: '2018-06-05' })
    expect(indicator.reason).toBe('Company dissolved at Companies House since 2018-06-05 (date of cessation)')
    expect(server.requestsTo('/company/01234567/insolvency')).toHaveLength(0)
  })

  it('dates administration, liquidation, receivership and a voluntary arrangement from their insolvency cases', async () => {
    const profiles: Array<[string, string, Record<string, unknown>]> = [
      [
        '11111111',
        'administration',
        insolvency({
          type: 'in-administration',
          number: '1',
          dates: [{ type: 'administration-started-on', date: '2025-11-02' }],
          practitioners: [{ name: 'A Practitioner', appointed_on: '2025-11-02', role: 'practitioner' }],
        }),
      ],
      [
        '22222222',
        'liquidation',
        insolvency(
          {
            type: 'corporate-voluntary-arrangement',
            dates: [
              { type: 'voluntary-arrangement-started-on', date: '2020-01-10' },
              { type: 'voluntary-arrangement-ended-on', date: '2021-01-10' },
            ],
          },
          { type: 'creditors-voluntary-liquidation', number: 2, dates: [{ type: 'wound-up-on', date: '2024-03-12' }] },
        ),
      ],
      [
        '33333333',
        'receivership',
        insolvency({ type: 'administrative-receiver', dates: [{ type: 'instrumented-on', date: '2023-07-01' }] }),
      ],
      [
        '44444444',
        'voluntary-arrangement',
        insolvency({
          type: 'corporate-voluntary-arrangement',
          dates: [{ type: 'voluntary-arrangement-started-on', date: '2022-09-30' }],
        }),
      ],
    ]
    for (const [number, status, resource] of profiles) {
      server.on(`/company/${number}`, {
        json: company({ company_number: number, company_status: status, has_insolvency_history: true }),
      })
      server.on(`/company/${number}/insolvency`, { json: resource })
    }
    const expected = {
      '11111111': [
        'red',
        '2025-11-02',
        'Company in administration at Companies House since 2025-11-02 (in administration, administration started on 2025-11-02)',
      ],
      '22222222': [
        'red',
        '2024-03-12',
        'Company in liquidation at Companies House since 2024-03-12 (creditors voluntary liquidation, wound up on 2024-03-12)',
      ],
      '33333333': [
        'red',
        '2023-07-01',
        'Company in receivership at Companies House since 2023-07-01 (administrative receiver, instrumented on 2023-07-01)',
      ],
      '44444444': [
        'amber',
        '2022-09-30',
        'Company in a voluntary arrangement at Companies House since 2022-09-30 (corporate voluntary arrangement, voluntary arrangement started on 2022-09-30)',
      ],
    }
    for (const [number, [level, date, reason]] of Object.entries(expected)) {
      const { indicator, observation } = await readOne(number)
      expect({ number, level: indicator.level, date: indicator.date, reason: indicator.reason }).toEqual({
        number,
        level,
        date,
        reason,
      })
      expect(observation?.observedOn).toBe(ASOF)
    }
  })

  it('keeps the status when the insolvency resource is missing or failing, undated, with a warning', async () => {
    server.on('/company/55555555', {
      json: company({ company_number: '55555555', company_status: 'liquidation', has_insolvency_history: true }),
    })
    server.on('/company/66666666', {
      json: company({ company_number: '66666666', company_status: 'administration', has_insolvency_history: true }),
    })
    server.on('/company/66666666/insolvency', { status: 500 })
    const result = await readCompaniesHouse(client(), { asOf: ASOF, ids: ['55555555', '66666666'] })
    expect(result.counts).toMatchObject({ matched: 2, rejected: 0 })
    expect(result.warnings).toEqual([
      expect.stringMatching(/^55555555: Companies House has no insolvency resource/),
      expect.stringMatching(/^66666666: insolvency resource not read .*500/),
    ])
    const indicator = judgeInsolvency(result.records[0]?.observations ?? [], ASOF)
    expect(indicator).toMatchObject({ level: 'red', date: ASOF })
  })

  it('fetches the insolvency resource only when the profile says there is one', async () => {
    server.on('/company/77777777', { json: company({ company_number: '77777777', has_insolvency_history: false }) })
    const { indicator } = await readOne('77777777')
    expect(indicator.level).toBe('green')
    expect(server.requestsTo('/company/77777777/insolvency')).toHaveLength(0)
  })

  it('handles an oversea company with no status, uncoloured and with a reason; a UK company with none is rejected', async () => {
    server.on('/company/FC012345', {
      json: { company_number: 'FC012345', company_name: 'OVERSEAS HOLDINGS INC', type: 'oversea-company' },
    })
    server.on('/company/FC054321', {
      json: {
        company_number: 'FC054321',
        company_name: 'REGISTERED ABROAD SA',
        type: 'oversea-company',
        company_status: 'registered',
      },
    })
    server.on('/company/08888888', { json: { company_number: '08888888', type: 'ltd' } })
    const result = await readCompaniesHouse(client(), { asOf: ASOF, ids: ['FC012345', 'FC054321', '08888888'] })
    const byId = new Map(result.records.map((record) => [record.match.id, judgeInsolvency(record.observations, ASOF)]))
    expect(byId.get('FC012345')).toMatchObject({
      level: 'none',
      reason:
        'Companies House gives no status for this oversea company (FC012345): check it with the register of its home country',
    })
    expect(byId.get('FC054321')).toMatchObject({ level: 'green', reason: 'Company registered at Companies House' })
    expect(result.rejects).toEqual([
      { record: '08888888', field: 'company_status', reason: 'company_status: the profile has no company status' },
    ])
  })
})
