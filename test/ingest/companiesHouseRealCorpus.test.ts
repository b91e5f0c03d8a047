import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CompaniesHouseClient, readCompaniesHouse } from '../../src/ingest/companiesHouse/connector.js'
import { judgeInsolvency } from '../helpers/insolvencyJudge.js'
import { RecordedServer } from '../helpers/recordedServer.js'

const REAL_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/real/companies-house')
const ASOF = '2026-12-07'

/** Each real insolvency resource (test/fixtures/real/README.md): the date and case its liquidation is dated by. */
const EXPECTED: Record<string, { date: string; dateFrom: string | null }> = {
  '03896740': { date: '2021-01-18', dateFrom: 'creditors voluntary liquidation, wound up on 2021-01-18' },
  '04271746': { date: '2015-12-31', dateFrom: 'creditors voluntary liquidation, wound up on 2015-12-31' },
  '04914631': { date: '2015-11-16', dateFrom: 'creditors voluntary liquidation, wound up on 2015-11-16' },
  '07974731': { date: '2019-11-28', dateFrom: 'members voluntary liquidation, wound up on 2019-11-28' },
  '08981025': { date: '2018-11-28', dateFrom: 'members voluntary liquidation, wound up on 2018-11-28' },
  '09686507': { date: '2019-09-23', dateFrom: 'creditors voluntary liquidation, wound up on 2019-09-23' },
  '10762530': { date: '2021-01-18', dateFrom: 'members voluntary liquidation, wound up on 2021-01-18' },
  '10962870': { date: '2021-01-06', dateFrom: 'members voluntary liquidation, wound up on 2021-01-06' },
  // No dates and no practitioners yet: the status stands, dated from the night it was read.
  '12325716': { date: ASOF, dateFrom: null },
}

const files = readdirSync(REAL_DIR).filter((name) => /^insolvency-\w+\.json$/.test(name))
let server: RecordedServer
beforeAll(async () => {
  server = await RecordedServer.start()
})
afterAll(async () => {
  await server.close()
})

describe('real Companies House insolvency resources through the connector to the indicator', () => {
  it('has an expectation for every file in the corpus', () => {
    expect(files.map((name) => name.slice('insolvency-'.length, -'.json'.length)).sort()).toEqual(
      Object.keys(EXPECTED).sort(),
    )
  })

  it.each(Object.entries(EXPECTED))(
    'company %s in liquidation is Red, dated from its own case',
    async (number, expected) => {
      const resource = JSON.parse(readFileSync(path.join(REAL_DIR, `insolvency-${number}.json`), 'utf8')) as unknown
      server.on(`/company/${number}`, {
        json: { company_number: number, company_status: 'liquidation', has_insolvency_history: true, type: 'ltd' },
      })
      server.on(`/company/${number}/insolvency`, { json: resource })
      const client = new CompaniesHouseClient({ baseUrl: server.baseUrl, backoffMs: 1, sleep: async () => undefined })
      const result = await readCompaniesHouse(client, { asOf: ASOF, ids: [number] })
      expect(result.warnings).toEqual([])
      const indicator = judgeInsolvency(result.records[0]?.observations ?? [], ASOF)
      expect(indicator.level).toBe('red')
      expect(indicator.date).toBe(expected.date)
      expect(indicator.reason).toBe(
        `Company in liquidation at Companies House since ${expected.date}${expected.dateFrom ? ` (${expected.dateFrom})` : ''}`,
      )
    },
  )
})
