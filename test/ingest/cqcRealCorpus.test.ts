import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assessCqcRating } from '../../src/domain/indicators/cqcRating.js'
import { assessManagerVacancy } from '../../src/domain/indicators/managerVacancy.js'
import type { Observation } from '../../src/domain/observation.js'
import { DEFAULT_RULE_SET } from '../../src/domain/ruleSet.js'
import { CqcApiClient } from '../../src/ingest/cqc/apiClient.js'
import { readCqcApi } from '../../src/ingest/cqc/apiConnector.js'
import type { SourceObservation } from '../../src/ingest/types.js'
import { RecordedServer } from '../helpers/recordedServer.js'

/**
 * Every real CQC API location payload of test/fixtures/real/cqc (provenance in its README), served on 127.0.0.1
 * as GET /locations/{id} and read by the real connector to the CQC rating and registered manager indicators.
 * Each location is named by its id with the level and reason SPEC §3 gives from its current rating.
 */
const REAL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/real/cqc')
const ASOF = '2020-03-01'

const EXPECTED: Record<string, { rating: [string, string]; manager: [string, string] }> = {
  // A care home rated Outstanding on 2019-10-31 (Good in 2015): history feeds the timeline, not today's rating.
  '1-125856395': {
    rating: ['green', 'CQC rated Outstanding on 2019-10-31'],
    manager: ['green', 'Registered manager John Surel Bayliss in post'],
  },
}

const files = readdirSync(REAL).filter((name) => name.endsWith('.json'))
let server: RecordedServer
beforeAll(async () => {
  server = await RecordedServer.start()
})
afterAll(async () => {
  await server.close()
})

function stored(observations: readonly SourceObservation[]): Observation[] {
  return observations.map((o, i) => ({
    ...o,
    id: i + 1,
    detail: o.detail ?? {},
    reference: o.reference ?? null,
    endDate: o.endDate ?? null,
    notes: null,
    enteredBy: null,
    recordedAt: `${o.observedOn}T02:00:00.000Z`,
  }))
}

describe('real CQC API locations through the connector to the indicators', () => {
  it('has an expectation for every location in the corpus', () => {
    const ids = files.map(
      (name) => (JSON.parse(readFileSync(path.join(REAL, name), 'utf8')) as { locationId: string }).locationId,
    )
    expect(ids.sort()).toEqual(Object.keys(EXPECTED).sort())
  })

  it.each(Object.entries(EXPECTED))('location %s gets its level and reason', async (id, expected) => {
    const file = files.find((name) => name.includes(id)) as string
    const body = JSON.parse(readFileSync(path.join(REAL, file), 'utf8')) as Record<string, unknown>
    server.on(`/locations/${id}`, { json: body })
    const client = new CqcApiClient({
      baseUrl: server.baseUrl,
      apiKey: 'test-key',
      backoffMs: 1,
      sleep: async () => undefined,
    })
    const result = await readCqcApi(client, { asOf: ASOF, ids: [id], includeProviders: false })
    expect(result.counts).toMatchObject({ read: 1, matched: 1, rejected: 0 })
    expect(result.warnings).toEqual([])
    const observations = stored(result.records[0]?.observations ?? [])
    const context = { ruleSet: DEFAULT_RULE_SET, asOf: ASOF }
    const rating = assessCqcRating(
      observations.filter((o) => o.indicator === 'cqc_rating'),
      context,
    )
    const manager = assessManagerVacancy(
      observations.filter((o) => o.indicator === 'manager_vacancy'),
      context,
    )
    expect([rating.level, rating.reason]).toEqual(expected.rating)
    expect([manager.level, manager.reason]).toEqual(expected.manager)
  })
})
