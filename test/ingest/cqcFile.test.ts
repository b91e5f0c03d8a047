import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { stringify } from 'csv-stringify/sync'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readCqcFile } from '../../src/ingest/cqc/fileConnector.js'
import { recordedPath } from '../helpers/recordedServer.js'

const ASOF = '2026-09-20'
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cqc-file-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function recordedHeader(name: string): Promise<string[]> {
  const text = await readFile(recordedPath(name), 'utf8')
  return (text.split(/\r?\n/)[0] as string).split(',')
}

/** A CSV with the real header (plus extra columns), rows given by column name, optionally after a notice block. */
async function writeCsv(
  name: string,
  header: string[],
  rows: Array<Record<string, string>>,
  preamble: string[][] = [],
): Promise<string> {
  const padded = [...header, '', '']
  const body = rows.map((row) => padded.map((column) => row[column] ?? ''))
  const file = path.join(dir, name)
  await writeFile(file, '\uFEFF' + stringify([...preamble, padded, ...body]))
  return file
}

const NOTICE = [
  ['HSCA Active Locations'],
  [''],
  ['Important: from September 2026 multi-service adult social care locations show "Not Rated".'],
  ['See the "Care directory with ratings" file for service ratings.'],
  [''],
  ['Location ID is the join key', 'see notes'],
  [''],
]

async function hscaHeader() {
  return [
    ...(await recordedHeader('cqc-hsca-active-locations-header-first36.csv')),
    'Provider Charity Number',
    'Provider ID',
    'Provider Name',
    'Provider Ownership Type',
    'Service type - Care home service with nursing',
    'Service type - Domiciliary care service',
  ]
}

function hscaRow(id: string, changes: Record<string, string> = {}): Record<string, string> {
  return {
    'Location ID': id,
    'Location HSCA start date': '2011-02-15',
    'Dormant (Y/N)': 'N',
    'Care home?': 'Y',
    'Location Name': `Home ${id}`,
    'Registered manager': 'John Bayliss',
    'Care homes beds': '75',
    'Location Latest Overall Rating': 'Good',
    'Publication Date': '2024-05-01',
    'Inherited Rating (Y/N)': 'N',
    'Location Local Authority': 'Devon',
    'Location Postal Code': 'EX2 8TU',
    'Provider Companies House Number': '06070408',
    'Provider ID': '1-102642955',
    'Provider Name': 'Barchester Healthcare Homes Limited',
    'Provider Ownership Type': 'Organisation',
    'Service type - Care home service with nursing': 'Y',
    ...changes,
  }
}

describe('readCqcFile: HSCA Active Locations', () => {
  it('finds the header after the notice block and maps the council rows by column name', async () => {
    const file = await writeCsv(
      'hsca.csv',
      await hscaHeader(),
      [
        hscaRow('1-1'),
        hscaRow('1-2', { 'Location Latest Overall Rating': 'Requires improvement', 'Publication Date': '14/03/2026' }),
        hscaRow('1-not-ours'),
        hscaRow('1-3', { 'Registered manager': '', 'Service type - Domiciliary care service': 'Y' }),
      ],
      NOTICE,
    )
    const result = await readCqcFile({ file, asOf: ASOF, ids: ['1-1', '1-2', '1-3', '1-missing'] })

    expect(result.fileKind).toBe('hsca_active')
    expect(result.counts).toEqual({ read: 4, matched: 3, rejected: 0, notFound: 1 })
    expect(result.notFound).toEqual(['1-missing'])
    const byId = new Map(result.records.map((record) => [record.match.id, record]))
    expect(byId.get('1-1')?.observations).toEqual([
      {
        indicator: 'cqc_rating',
        source: 'cqc_file',
        observedOn: '2024-05-01',
        value: 'good',
        detail: { registrationStatus: 'registered' },
        reference: null,
        naturalKey: 'cqc:1-1:2024-05-01',
      },
      {
        indicator: 'manager_vacancy',
        source: 'cqc_file',
        observedOn: ASOF,
        value: 'in_post',
        detail: { managerName: 'John Bayliss' },
        reference: null,
        naturalKey: 'cqc:1-1:manager:in_post:john_bayliss',
        dedupe: 'latest_value',
      },
    ])
    expect(byId.get('1-1')?.facts).toMatchObject({
      name: 'Home 1-1',
      registrationStatus: 'registered',
      registrationDate: '2011-02-15',
      numberOfBeds: 75,
      careHome: true,
      dormant: false,
      serviceTypes: ['Care home service with nursing'],
      provider: {
        providerId: '1-102642955',
        companiesHouseNumber: '06070408',
        name: 'Barchester Healthcare Homes Limited',
        ownershipType: 'Organisation',
      },
    })
    expect(byId.get('1-2')?.observations[0]).toMatchObject({ value: 'requires_improvement', observedOn: '2026-03-14' })
    expect(byId.get('1-3')?.facts?.serviceTypes).toEqual(['Care home service with nursing', 'Domiciliary care service'])
  })

  it('treats a blank Registered manager as a vacancy with no known start, and says so', async () => {
    const file = await writeCsv('vacant.csv', await hscaHeader(), [hscaRow('1-9', { 'Registered manager': '' })])
    const result = await readCqcFile({ file, asOf: ASOF, ids: ['1-9'] })
    const vacancy = result.records[0]?.observations.find((o) => o.indicator === 'manager_vacancy')
    expect(vacancy).toMatchObject({
      value: 'vacant',
      observedOn: ASOF,
      endDate: null,
      naturalKey: 'cqc:1-9:manager:vacant:undated',
      detail: { sinceUnknown: true },
    })
    expect(String(vacancy?.detail?.note)).toMatch(/gives no date/)
  })

  it('dates "Not Rated" and blank ratings at registration so a real rating always wins', async () => {
    const file = await writeCsv('notrated.csv', await hscaHeader(), [
      hscaRow('1-10', { 'Location Latest Overall Rating': 'Not Rated', 'Publication Date': '' }),
      hscaRow('1-11', { 'Location Latest Overall Rating': '', 'Location HSCA start date': '2026-01-05' }),
    ])
    const result = await readCqcFile({ file, asOf: ASOF, ids: ['1-10', '1-11'] })
    const [a, b] = result.records.map((record) => record.observations[0])
    expect(a).toMatchObject({
      value: 'not_rated',
      observedOn: '2011-02-15',
      naturalKey: 'cqc:1-10:not_rated:2011-02-15',
    })
    expect(b).toMatchObject({ value: 'not_rated', observedOn: '2026-01-05' })
  })

  it('keeps an unknown rating word and rejects unreadable dates with the column named', async () => {
    const file = await writeCsv('odd.csv', await hscaHeader(), [
      hscaRow('1-12', { 'Location Latest Overall Rating': 'Exemplary' }),
      hscaRow('1-13', { 'Publication Date': '05/31/2024' }),
      hscaRow('1-14', { 'Location HSCA start date': 'long ago' }),
      { 'Location Name': 'A row with no id' },
    ])
    const result = await readCqcFile({ file, asOf: ASOF, ids: ['1-12', '1-13', '1-14'] })
    expect(result.records.find((r) => r.match.id === '1-12')?.observations[0]).toMatchObject({
      value: 'exemplary',
      detail: { sourceRating: 'Exemplary' },
    })
    expect(result.rejects).toEqual([
      { record: '1-13', field: 'Publication Date', reason: '"05/31/2024" is not a date' },
      { record: '1-14', field: 'Location HSCA start date', reason: '"long ago" is not a date' },
      { record: 'line 5', field: 'Location ID', reason: 'no location id' },
    ])
    expect(result.records.find((r) => r.match.id === '1-13')?.observations.map((o) => o.indicator)).toEqual([
      'manager_vacancy',
    ])
  })

  it('fails clearly when no header row can be found', async () => {
    const file = path.join(dir, 'not-cqc.csv')
    await writeFile(file, 'a,b,c\n1,2,3\n')
    await expect(readCqcFile({ file, asOf: ASOF, ids: ['1-1'] })).rejects.toThrow(/no header row found/)
  })

  it('reads a stream as well as a path', async () => {
    const header = await hscaHeader()
    const text = stringify([header, header.map((column) => hscaRow('1-20')[column] ?? '')])
    const result = await readCqcFile({ file: Readable.from([text]), asOf: ASOF, ids: ['1-20'] })
    expect(result.counts.matched).toBe(1)
  })
})

describe('readCqcFile: other CQC files', () => {
  it('reads the recorded care directory sample (preamble, | lists, dd/Mon/yyyy dates)', async () => {
    const result = await readCqcFile({
      file: recordedPath('cqc-care-directory-sample.csv'),
      asOf: ASOF,
      ids: ['1-10553191017', '1-999'],
    })
    expect(result.fileKind).toBe('care_directory')
    expect(result.counts).toEqual({ read: 2, matched: 1, rejected: 0, notFound: 1 })
    const [record] = result.records
    expect(record?.observations).toEqual([])
    expect(record?.facts).toMatchObject({
      locationId: '1-10553191017',
      providerId: '1-101671690',
      name: 'Helping Hands Mansfield',
      serviceTypes: ['Homecare agencies'],
      localAuthority: 'Nottinghamshire',
      postalCode: 'NG18 2AE',
      lastCheckedOn: '2022-05-19',
      registrationStatus: null,
      provider: { providerId: '1-101671690' },
    })
    // Nothing to judge from: the run log says so rather than reporting a silent success.
    expect(result.warnings).toEqual([expect.stringMatching(/care directory has no rating or registered manager/)])
  })

  it('refuses a spreadsheet with a clear instruction (the monthly files are .ods)', async () => {
    await expect(
      readCqcFile({ file: path.join(dir, '01_September_2026_HSCA_Active_Locations.ods'), asOf: ASOF, ids: ['1-1'] }),
    ).rejects.toThrow(/a spreadsheet, not CSV\. Save its "Locations" sheet as CSV/)
  })

  it('reads a deactivated locations file as deregistrations', async () => {
    const header = await recordedHeader('cqc-deactivated-locations-header-first34.csv')
    const file = await writeCsv('deactivated.csv', header, [
      {
        'Location ID': '1-30',
        'Location Status': 'Deactivated',
        'Location HSCA start date': '2015-04-01',
        'Location HSCA End Date': '2026-08-31',
        'Care homes beds at point location de-activated': '40',
        'Location Latest Overall Rating': 'Inadequate',
        'Publication Date': '2026-02-10',
      },
    ])
    const result = await readCqcFile({ file, asOf: ASOF, ids: ['1-30'] })
    expect(result.fileKind).toBe('deactivated')
    expect(result.records[0]?.observations.map((o) => [o.observedOn, o.value, o.detail?.registrationStatus])).toEqual([
      ['2026-02-10', 'inadequate', 'registered'],
      ['2026-08-31', 'inadequate', 'deregistered'],
    ])
    expect(result.records[0]?.facts).toMatchObject({
      registrationStatus: 'deregistered',
      deregistrationDate: '2026-08-31',
      numberOfBeds: 40,
    })
  })

  it('reads the long-format Latest ratings sheet, keeping the Overall group and key questions', async () => {
    const header = await recordedHeader('cqc-latest-ratings-locations-header.csv')
    const row = (id: string, group: string, domain: string, rating: string, date = '2025-07-01') => ({
      'Location ID': id,
      'Location Name': `Home ${id}`,
      'Service / Population Group': group,
      Domain: domain,
      'Latest Rating': rating,
      'Publication Date': date,
      'Provider ID': '1-777',
      'Provider Name': 'Acme Care Ltd',
    })
    const file = await writeCsv('ratings.csv', header, [
      row('1-40', 'Overall', 'Safe', 'Inadequate'),
      row('1-40', 'Overall', 'Well-led', 'Requires improvement'),
      row('1-41', 'Overall', 'Overall', 'Good'),
      row('1-40', 'Overall', 'Overall', 'Requires improvement'),
      row('1-40', 'Older people', 'Overall', 'Good'),
    ])
    const result = await readCqcFile({ file, asOf: ASOF, ids: ['1-40'] })
    expect(result.fileKind).toBe('latest_ratings')
    expect(result.counts).toMatchObject({ read: 2, matched: 1 })
    expect(result.records[0]?.observations).toEqual([
      {
        indicator: 'cqc_rating',
        source: 'cqc_file',
        observedOn: '2025-07-01',
        value: 'requires_improvement',
        detail: {
          keyQuestions: { safe: 'inadequate', well_led: 'requires_improvement' },
          registrationStatus: 'registered',
        },
        reference: null,
        naturalKey: 'cqc:1-40:2025-07-01',
      },
    ])
    expect(result.records[0]?.facts).toMatchObject({
      name: 'Home 1-40',
      provider: { providerId: '1-777', name: 'Acme Care Ltd' },
    })
  })
})
