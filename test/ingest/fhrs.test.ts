import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { FhrsApiClient, readFhrsApi } from '../../src/ingest/fhrs/apiConnector.js'
import { normaliseFhrsRating } from '../../src/ingest/fhrs/establishment.js'
import { readFhrsXml } from '../../src/ingest/fhrs/xmlConnector.js'
import { RecordedServer, recordedJson, recordedPath } from '../helpers/recordedServer.js'

const ASOF = '2026-03-14'

describe('normaliseFhrsRating', () => {
  it('maps FHRS and FHIS words to one vocabulary', () => {
    expect(
      [
        '5',
        '0',
        'Exempt',
        'AwaitingInspection',
        'AwaitingPublication',
        'Awaiting Inspection',
        'Pass and Eat Safe',
        'Improvement Required',
        'Pass',
      ].map(normaliseFhrsRating),
    ).toEqual([
      '5',
      '0',
      'exempt',
      'awaiting_inspection',
      'awaiting_publication',
      'awaiting_inspection',
      'pass_and_eat_safe',
      'improvement_required',
      'pass',
    ])
    expect(normaliseFhrsRating('  ')).toBeNull()
  })
})

describe('readFhrsApi', () => {
  let server: RecordedServer
  beforeEach(async () => {
    server = await RecordedServer.start()
  })
  afterEach(async () => {
    await server.close()
  })
  const client = () => new FhrsApiClient({ baseUrl: server.baseUrl, backoffMs: 1, sleep: async () => undefined })

  it('reads recorded establishments by FHRSID, including Exempt and never-inspected ones', async () => {
    const { establishments } = recordedJson<{ establishments: Array<Record<string, unknown>> }>(
      'fhrs-establishments.json',
    )
    for (const establishment of establishments)
      server.on(`/Establishments/${establishment.FHRSID as number}`, { json: establishment })
    server.on('/Establishments/1549111', { json: recordedJson('fhrs-establishment-awaitinginspection.json') })

    const result = await readFhrsApi(client(), { asOf: ASOF, ids: ['22124', '747485', '1549111', '999'] })
    expect(result.counts).toEqual({ read: 3, matched: 3, rejected: 0, notFound: 1 })
    expect(result.notFound).toEqual(['999'])
    const byId = new Map(result.records.map((record) => [record.match.id, record]))
    expect(byId.get('22124')?.observations).toEqual([
      {
        indicator: 'food_hygiene',
        source: 'fhrs_api',
        observedOn: '2016-09-16',
        value: '5',
        detail: { fhrsId: '22124', businessName: 'A Pigs Tale' },
        reference: '22124',
        naturalKey: 'fhrs:22124:2016-09-16:5',
      },
    ])
    expect(byId.get('747485')?.observations[0]).toMatchObject({ value: 'exempt', observedOn: '2015-02-26' })
    expect(byId.get('1549111')?.observations[0]).toMatchObject({
      value: 'awaiting_inspection',
      observedOn: ASOF,
      naturalKey: 'fhrs:1549111:never:awaiting_inspection',
      detail: { neverRated: true },
    })
    expect(byId.get('22124')?.facts).toMatchObject({
      fhrsId: '22124',
      businessTypeId: 4613,
      postCode: 'DE56 2RF',
      localAuthorityCode: '062',
      scores: { hygiene: 5, structural: 0, confidenceInManagement: 0 },
    })
    const [request] = server.requestsTo('/Establishments/22124')
    expect(request?.headers['x-api-version']).toBe('2')
    expect(request?.headers.accept).toBe('application/json')
  })

  it('keeps an unknown rating value, and rejects a record with no rating or an unreadable date', async () => {
    const base = recordedJson('fhrs-establishment-awaitinginspection.json')
    server.on('/Establishments/1', {
      json: { ...base, FHRSID: 1, RatingValue: 'Gold Star', RatingDate: '2025-01-02T00:00:00' },
    })
    server.on('/Establishments/2', { json: { ...base, FHRSID: 2, RatingValue: '' } })
    server.on('/Establishments/3', { json: { ...base, FHRSID: 3, RatingValue: '4', RatingDate: 'yesterday' } })
    const result = await readFhrsApi(client(), { asOf: ASOF, ids: ['1', '2', '3'] })
    expect(result.records.find((r) => r.match.id === '1')?.observations[0]).toMatchObject({
      value: 'gold_star',
      detail: { sourceRating: 'Gold Star' },
    })
    expect(result.rejects).toEqual([
      { record: '2', field: 'RatingValue', reason: 'no rating value' },
      { record: '3', field: 'RatingDate', reason: '"yesterday" is not a date' },
    ])
  })
})

describe('readFhrsXml', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fhrs-xml-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  async function xmlFile(name: string, establishments: string[], itemCount = establishments.length) {
    const envelope = await readFile(recordedPath('fhrs-opendata-envelope.xml'), 'utf8')
    const text = envelope
      .replace('<!-- Establishment details go here -->', establishments.join('\n'))
      .replace('<ItemCount>1354</ItemCount>', `<ItemCount>${itemCount}</ItemCount>`)
    await writeFile(path.join(dir, name), `<?xml version="1.0" encoding="utf-8"?>\n${text}`)
  }
  const recorded = () => readFile(recordedPath('fhrs-opendata-establishmentdetail-1583332-caring-premises.xml'), 'utf8')
  const variant = (xml: string, id: number, replacements: Array<[RegExp, string]> = []) =>
    replacements.reduce(
      (text, [pattern, value]) => text.replace(pattern, value),
      xml.replace('<FHRSID>1583332</FHRSID>', `<FHRSID>${id}</FHRSID>`),
    )

  it('streams a folder of files and keeps only the council establishments', async () => {
    const detail = await recorded()
    const others = Array.from({ length: 500 }, (_, i) => variant(detail, 5_000_000 + i))
    await xmlFile('FHRS501en-GB.xml', [detail, ...others])
    await xmlFile(
      'FHRS502en-GB.xml',
      [
        variant(detail, 42, [
          [/<RatingValue>4<\/RatingValue>/, '<RatingValue>AwaitingInspection</RatingValue>'],
          [/<RatingDate>2024-03-13<\/RatingDate>/, '<RatingDate />'],
          [/<BusinessName>[^<]*<\/BusinessName>/, '<BusinessName>Rose &amp; Crown Care Home</BusinessName>'],
        ]),
      ],
      7,
    )
    await writeFile(path.join(dir, 'notes.txt'), 'not xml')

    const progress: number[] = []
    const result = await readFhrsXml({
      path: dir,
      asOf: ASOF,
      ids: ['1583332', '0042', '77'],
      onProgress: (done) => progress.push(done),
    })
    expect(result.counts).toEqual({ read: 502, matched: 2, rejected: 0, notFound: 1 })
    expect(result.notFound).toEqual(['77'])
    expect(progress).toEqual([1, 2])
    expect(result.warnings).toEqual(['FHRS502en-GB.xml: header says 7 establishments but the file holds 1'])
    const byId = new Map(result.records.map((record) => [record.match.id, record]))
    expect(byId.get('1583332')?.observations).toEqual([
      {
        indicator: 'food_hygiene',
        source: 'fhrs_xml',
        observedOn: '2024-03-13',
        value: '4',
        detail: { fhrsId: '1583332', businessName: '1st Steps Day Nursery LTD' },
        reference: '1583332',
        naturalKey: 'fhrs:1583332:2024-03-13:4',
      },
    ])
    expect(byId.get('1583332')?.facts).toMatchObject({
      businessTypeId: 5,
      businessType: 'Hospitals/Childcare/Caring Premises',
      postCode: 'RM10 7UP',
      newRatingPending: false,
      scores: { hygiene: 0, structural: 10, confidenceInManagement: 10 },
    })
    expect(byId.get('0042')?.observations[0]).toMatchObject({
      value: 'awaiting_inspection',
      observedOn: ASOF,
      naturalKey: 'fhrs:42:never:awaiting_inspection',
      detail: { businessName: 'Rose & Crown Care Home' },
    })
  })

  it('reports a broken file as a warning and fails only when no file can be read', async () => {
    const broken = await mkdtemp(path.join(tmpdir(), 'fhrs-broken-'))
    try {
      await writeFile(path.join(broken, 'a.xml'), '<FHRSEstablishment><EstablishmentCollection><EstablishmentDetail>')
      await expect(readFhrsXml({ path: broken, asOf: ASOF, ids: ['1'] })).rejects.toThrow(/no file could be read/)
      await writeFile(path.join(broken, 'b.xml'), `<FHRSEstablishment>${await recorded()}</FHRSEstablishment>`)
      const result = await readFhrsXml({ path: broken, asOf: ASOF, ids: ['1583332'] })
      expect(result.counts.matched).toBe(1)
      expect(result.warnings).toEqual([expect.stringMatching(/^a\.xml could not be read/)])
    } finally {
      await rm(broken, { recursive: true, force: true })
    }
  })
})
