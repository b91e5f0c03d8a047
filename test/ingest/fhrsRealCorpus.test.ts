import { readdirSync } from 'node:fs'
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { assessFoodHygiene } from '../../src/domain/indicators/foodHygiene.js'
import type { Observation } from '../../src/domain/observation.js'
import { DEFAULT_RULE_SET } from '../../src/domain/ruleSet.js'
import { FhrsApiClient, readFhrsApi } from '../../src/ingest/fhrs/apiConnector.js'
import { readFhrsXml } from '../../src/ingest/fhrs/xmlConnector.js'
import type { ConnectorResult } from '../../src/ingest/types.js'
import { RecordedServer, recordedJson } from '../helpers/recordedServer.js'

/**
 * Real FSA payloads from other public projects (test/fixtures/real/README.md) through the real connectors — the XML
 * folder read from disk, the API served on 127.0.0.1 — to the food hygiene indicator's level and reason (SPEC §3:
 * 3-5 and the Scottish "Pass" Green, 2 and "Improvement Required" Amber, 0-1 Red; Exempt and awaiting inspection
 * known but no rating: no data, with the reason).
 */
const REAL = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/real/fhrs')
const ASOF = '2026-09-20'

function judge(result: ConnectorResult<unknown>, id: string) {
  const record = result.records.find((r) => r.match.id === id)
  expect(record, `FHRSID ${id} read`).toBeDefined()
  const observations: Observation[] = record!.observations.map((o, i) => ({
    ...o,
    id: i + 1,
    detail: o.detail ?? {},
    reference: o.reference ?? null,
    endDate: o.endDate ?? null,
    notes: null,
    enteredBy: null,
    recordedAt: `${ASOF}T02:00:00.000Z`,
  }))
  const { level, reason } = assessFoodHygiene(observations, { ruleSet: DEFAULT_RULE_SET, asOf: ASOF })
  return { level, reason }
}

it('reads every file of the FHRS corpus in one of the tests below', () => {
  expect(readdirSync(REAL).sort()).toEqual([
    'fsa-data-pipeline-bath-aberdeen-2026-08.xml',
    'go-fhrs-establishment-82940-portsmouth.json',
    'ipedrazas-caerphilly-welsh-establishment-40772.xml',
    'pigdogbay-establishments-stoke-newcastle-2017.json',
    'rawtoast-establishments-aberdeen-city-fhis.json',
    'rawtoast-establishments-amber-valley.json',
  ])
})

describe('real FHRS open-data XML (FHRS_XML_DIR)', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fhrs-real-'))
    const real = 'fsa-data-pipeline-bath-aberdeen-2026-08.xml'
    await copyFile(path.join(REAL, real), path.join(dir, real))
    // Derived, not real: the Aberdeen FHIS record with the Scottish scheme's other outcome, "Pass".
    const text = await readFile(path.join(REAL, real), 'utf8')
    await writeFile(
      path.join(dir, 'derived-aberdeen-pass.xml'),
      text
        .replace(
          /<EstablishmentDetail>[\s\S]*?<\/EstablishmentDetail>\s*<EstablishmentDetail>[\s\S]*?<\/EstablishmentDetail>/,
          '',
        ) // prettier-ignore
        .replace('<ItemCount>3</ItemCount>', '<ItemCount>1</ItemCount>')
        .replace('<FHRSID>1608170</FHRSID>', '<FHRSID>91608170</FHRSID>')
        .replace('<RatingValue>Improvement Required</RatingValue>', '<RatingValue>Pass</RatingValue>')
        .replace('fhis_improvement_required_en-GB', 'fhis_pass_en-GB'),
    )
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('gives each establishment its level and reason: English FHRS, Exempt, Scottish FHIS', async () => {
    const ids = ['1889918', '1777436', '1608170', '91608170']
    const result = await readFhrsXml({ path: dir, asOf: ASOF, ids })
    expect(result.counts).toEqual({ read: 4, matched: 4, rejected: 0, notFound: 0 })
    expect(result.warnings).toEqual([])
    expect(judge(result, '1889918')).toEqual({ level: 'green', reason: 'Food hygiene rating 4 on 2025-11-05' })
    expect(judge(result, '1777436')).toEqual({ level: 'none', reason: `Food hygiene: exempt (${ASOF})` })
    expect(judge(result, '1608170')).toEqual({
      level: 'amber',
      reason: 'Food hygiene rating Improvement required on 2023-07-28 (stale: over 2 years old)',
    })
    expect(judge(result, '91608170')).toEqual({
      level: 'green',
      reason: 'Food hygiene rating Pass on 2023-07-28 (stale: over 2 years old)',
    })
  })
})

describe('a real Welsh authority record (cy-GB) in the open-data XML', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fhrs-welsh-'))
    const welsh = 'ipedrazas-caerphilly-welsh-establishment-40772.xml'
    await copyFile(path.join(REAL, welsh), path.join(dir, welsh))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reads the Welsh rating key and Welsh authority name like the English ones', async () => {
    const result = await readFhrsXml({ path: dir, asOf: ASOF, ids: ['40772'] })
    expect(result.counts).toEqual({ read: 1, matched: 1, rejected: 0, notFound: 0 })
    expect(result.warnings).toEqual([])
    expect(result.records[0]?.facts).toMatchObject({ localAuthorityName: 'Caerffili', localAuthorityCode: '555' })
    expect(judge(result, '40772')).toEqual({
      level: 'green',
      reason: 'Food hygiene rating 3 on 2014-02-10 (stale: over 2 years old)',
    })
  })
})

describe('real FSA API search pages: Amber Valley (FHRS) and Aberdeen City (FHIS)', () => {
  let server: RecordedServer
  beforeEach(async () => {
    server = await RecordedServer.start()
  })
  afterEach(async () => {
    await server.close()
  })

  /** Each establishment of both pages, level and reason, as SPEC §3 gives it. */
  const EXPECTED: Record<string, { level: string; reason: string }> = {
    '22124': { level: 'green', reason: 'Food hygiene rating 5 on 2016-09-16 (stale: over 2 years old)' },
    '811509': { level: 'green', reason: 'Food hygiene rating 5 on 2016-11-11 (stale: over 2 years old)' },
    // RatingValue "Exempt" with RatingKey fhrs_5_en-gb: the value decides, the key is not read as a rating.
    '747485': { level: 'none', reason: 'Food hygiene: exempt (2015-02-26)' },
    '906411': { level: 'green', reason: 'Food hygiene rating Pass on 2016-06-30 (stale: over 2 years old)' },
    '593681': { level: 'none', reason: 'Food hygiene: awaiting inspection (2015-10-12)' },
    '593037': {
      level: 'amber',
      reason: 'Food hygiene rating Improvement required on 2014-03-11 (stale: over 2 years old)',
    },
    '593038': { level: 'none', reason: 'Food hygiene: awaiting publication (2014-03-11)' },
    '593689': { level: 'none', reason: 'Food hygiene: exempt (2015-10-12)' },
  }

  it('gives every establishment of both pages its level and reason', async () => {
    const pages = ['rawtoast-establishments-amber-valley.json', 'rawtoast-establishments-aberdeen-city-fhis.json']
    const all: Array<Record<string, unknown>> = []
    for (const page of pages) {
      const body = JSON.parse(await readFile(path.join(REAL, page), 'utf8')) as {
        establishments: Array<Record<string, unknown>>
      }
      all.push(...body.establishments)
    }
    expect(all.map((e) => String(e.FHRSID as number)).sort()).toEqual(Object.keys(EXPECTED).sort())
    for (const establishment of all) {
      server.on(`/Establishments/${establishment.FHRSID as number}`, { json: establishment })
    }
    const client = new FhrsApiClient({ baseUrl: server.baseUrl, backoffMs: 1, sleep: async () => undefined })
    const ids = Object.keys(EXPECTED)
    const result = await readFhrsApi(client, { asOf: ASOF, ids })
    expect(result.counts).toEqual({ read: ids.length, matched: ids.length, rejected: 0, notFound: 0 })
    expect(result.warnings).toEqual([])
    for (const [id, expected] of Object.entries(EXPECTED)) {
      expect(judge(result, id), `FHRSID ${id}`).toEqual(expected)
    }
  })
})

describe('real FSA API payloads (FHRS_API_BASE)', () => {
  let server: RecordedServer
  beforeEach(async () => {
    server = await RecordedServer.start()
  })
  afterEach(async () => {
    await server.close()
  })

  it('gives each establishment its level and reason, including one never inspected', async () => {
    const portsmouth = JSON.parse(
      await readFile(path.join(REAL, 'go-fhrs-establishment-82940-portsmouth.json'), 'utf8'),
    ) as Record<string, unknown>
    const stoke = JSON.parse(
      await readFile(path.join(REAL, 'pigdogbay-establishments-stoke-newcastle-2017.json'), 'utf8'),
    ) as { establishments: Array<Record<string, unknown>> }
    const awaiting = recordedJson<Record<string, unknown>>('fhrs-establishment-awaitinginspection.json')
    const all = [portsmouth, ...stoke.establishments, awaiting]
    for (const establishment of all) {
      server.on(`/Establishments/${establishment.FHRSID as number}`, { json: establishment })
    }
    const client = new FhrsApiClient({ baseUrl: server.baseUrl, backoffMs: 1, sleep: async () => undefined })
    const ids = all.map((e) => String(e.FHRSID as number))
    const result = await readFhrsApi(client, { asOf: ASOF, ids })
    expect(result.counts).toEqual({ read: ids.length, matched: ids.length, rejected: 0, notFound: 0 })

    expect(judge(result, '82940')).toEqual({
      level: 'green',
      reason: 'Food hygiene rating 3 on 2019-08-06 (stale: over 2 years old)',
    })
    const expected: Record<string, string> = {
      '915255': '2016-09-28',
      '113715': '2017-01-05',
      '681056': '2014-05-06',
      '117436': '2010-09-15',
      '143088': '2016-11-30',
      '846727': '2016-03-31',
      '769719': '2015-05-07',
    }
    for (const [id, date] of Object.entries(expected)) {
      // Rated 5 years ago: still Green, and said to be stale (the rule set's 730 days).
      expect(judge(result, id)).toEqual({
        level: 'green',
        reason: `Food hygiene rating 5 on ${date} (stale: over 2 years old)`,
      })
    }
    const neverInspected = String(awaiting.FHRSID as number)
    expect(judge(result, neverInspected)).toEqual({
      level: 'none',
      reason: `Food hygiene: awaiting inspection (${ASOF})`,
    })
  })
})
