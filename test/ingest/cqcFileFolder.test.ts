import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { stringify } from 'csv-stringify/sync'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readCqcFile } from '../../src/ingest/cqc/fileConnector.js'
import { dateInName, readCqcSource } from '../../src/ingest/cqc/fileSource.js'

/**
 * The CQC ratings file as councils download it: header spellings from 2019 on, many rows per location, malformed
 * rows, and CQC_FILE as a folder of the monthly files.
 */
const ASOF = '2026-09-20'
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cqc-folder-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Header rows of real Latest ratings "Locations" sheets: the 2019-2021 layout ("Key Question") and today's. */
const RATINGS_2019 = [
  'Location ID', 'Location Name', 'Care Home?', 'Location Type', 'Location Primary Inspection Category',
  'Location Street Address', 'Location Address Line 2', 'Location City', 'Location Post Code',
  'Location Local Authority', 'Location Region', 'Location ONSPD CCG Code', 'Location ONSPD CCG',
  'Location Commissioning CCG Code', 'Location Commissioning CCG Name', 'Service / Population Group', 'Key Question',
  'Latest Rating', 'Publication Date', 'Report Type', 'URL', 'Provider ID', 'Provider Name', 'Brand ID', 'Brand Name',
] // prettier-ignore
const RATINGS_2026 = [
  'Location ID', 'Location ODS Code', 'Location Name', 'Care Home?', 'Location Type',
  'Location Primary Inspection Category', 'Location Street Address', 'Location Address Line 2', 'Location City',
  'Location Post Code', 'Location Local Authority', 'Location Region', 'Location NHS Region', 'Location ONSPD CCG Code',
  'Location ONSPD CCG', 'Location Commissioning CCG Code', 'Location Commissioning CCG Name',
  'Service / Population Group', 'Domain', 'Latest Rating', 'Publication Date', 'Report Type', 'Inherited Rating (Y/N)',
  'URL', 'Provider ID', 'Provider Name', 'Brand ID', 'Brand Name',
] // prettier-ignore
const PROVIDERS_2019 = [
  'Provider ID', 'Provider Name', 'Provider Type', 'Provider Primary Inspection Category', 'Provider Street Address',
  'Provider Address Line 2', 'Provider City', 'Provider Post Code', 'Provider Local Authority', 'Provider Region',
  'Service / Population Group', 'Key Question', 'Latest Rating', 'Publication Date', 'Report Type', 'URL', 'Brand ID',
  'Brand Name',
] // prettier-ignore
const HSCA = [
  'Location ID', 'Location HSCA start date', 'Dormant (Y/N)', 'Care home?', 'Location Name', 'Registered manager',
  'Care homes beds', 'Location Latest Overall Rating', 'Publication Date', 'Inherited Rating (Y/N)',
  'Location Local Authority', 'Location Postal Code', 'Provider ID', 'Provider Name', 'Provider Companies House Number',
] // prettier-ignore

async function csv(name: string, header: string[], rows: Array<Record<string, string>>, folder = dir) {
  const file = path.join(folder, name)
  await writeFile(file, stringify([header, ...rows.map((row) => header.map((column) => row[column] ?? ''))]))
  return file
}

/** The rows CQC publishes for one location: Overall and the five key questions, for each group given. */
function ratingRows(
  id: string,
  ratings: Record<string, string>,
  options: { date?: string; group?: string; domainColumn?: string } = {},
) {
  return Object.entries(ratings).map(([domain, rating]) => ({
    'Location ID': id,
    'Location Name': `Home ${id}`,
    'Service / Population Group': options.group ?? 'Overall',
    [options.domainColumn ?? 'Domain']: domain,
    'Latest Rating': rating,
    'Publication Date': options.date ?? '12/03/2025',
    'Provider ID': '1-900',
    'Provider Name': 'Acme Care Ltd',
  }))
}

const FIVE_GOOD = { Safe: 'Good', Effective: 'Good', Caring: 'Good', Responsive: 'Good', 'Well-led': 'Good' }

describe('the Latest ratings Locations sheet in every spelling since 2019', () => {
  it.each([
    ['2019 ("Key Question")', RATINGS_2019, 'Key Question'],
    ['2026 ("Domain")', RATINGS_2026, 'Domain'],
    ['respelled ("LocationID", "Location Id", "KEY QUESTION")', respell(RATINGS_2019), 'KEY QUESTION'],
  ])('%s: only the location-level Overall and key-question rows count', async (_, header, domainColumn) => {
    const rows = [
      ...ratingRows('1-10', { ...FIVE_GOOD, Safe: 'Inadequate', Overall: 'Inadequate' }, { domainColumn }),
      // Service and population group rows never replace the location's own rating.
      ...ratingRows('1-10', { Overall: 'Outstanding', Safe: 'Outstanding' }, { group: 'Older people', domainColumn }),
      ...ratingRows('1-11', { ...FIVE_GOOD, Overall: 'Good' }, { date: '2024-01-05', domainColumn }),
      ...ratingRows('1-99', { Overall: 'Good' }, { domainColumn }),
    ]
    const file = await csv(
      `ratings-${domainColumn}.csv`,
      header,
      rows.map((row) => renameKeys(row, header)),
    )
    const result = await readCqcFile({ file, asOf: ASOF, ids: ['1-10', '1-11', '1-12'] })
    expect(result.fileKind).toBe('latest_ratings')
    expect(result.counts).toEqual({ read: 3, matched: 2, rejected: 0, notFound: 1 })
    const byId = new Map(result.records.map((record) => [record.match.id, record.observations]))
    expect(byId.get('1-10')).toEqual([
      expect.objectContaining({
        value: 'inadequate',
        observedOn: '2025-03-12',
        detail: expect.objectContaining({
          keyQuestions: { safe: 'inadequate', effective: 'good', caring: 'good', responsive: 'good', well_led: 'good' },
        }) as unknown,
      }),
    ])
    expect(byId.get('1-11')).toEqual([expect.objectContaining({ value: 'good', observedOn: '2024-01-05' })])
  })

  it('rejects each malformed row with its line and reason, and keeps the rest of the file', async () => {
    const header = RATINGS_2026.join(',')
    const at = (values: Record<string, string>) => RATINGS_2026.map((column) => values[column] ?? '').join(',')
    const good = (id: string, domain: string, rating: string, date = '01/02/2025') =>
      at({ 'Location ID': id, 'Service / Population Group': 'Overall', Domain: domain, 'Latest Rating': rating, 'Publication Date': date }) // prettier-ignore
    const lines = [
      header,
      good('1-20', 'Overall', 'Good'),
      good('1-20', 'Safe', 'Requires improvement'),
      good('', 'Overall', 'Good'), // line 4: no location id
      good('1-20', 'Overall', 'Good') + ',stray,cells', // line 5: shifted by a comma outside quotes
      good('1-21', 'Overall', 'Outstanding', '31/02/2025'), // line 6: not a date
      good('1-21', 'Use of resources', 'Good'), // line 7: not a key question
      good('1-22', 'Overall', 'Requires improvement'),
      at({ 'Location ID': '1-23', 'Location Name': '"Home 23', Domain: 'Overall' }), // line 9: a quote never closed
    ]
    const file = path.join(dir, 'malformed.csv')
    await writeFile(file, lines.join('\n') + '\n')
    const result = await readCqcFile({ file, asOf: ASOF, ids: ['1-20', '1-21', '1-22', '1-23'] })
    expect(result.notFound).toEqual(['1-23'])
    expect(result.rejects).toEqual(
      expect.arrayContaining([
        { record: 'line 4', field: 'Location ID', reason: 'no location id' },
        { record: 'line 5', reason: expect.stringMatching(/^30 cells where the header names 28/) as unknown },
        { record: '1-21', field: 'Publication Date', reason: 'line 6: "31/02/2025" is not a date' },
        { record: '1-21', field: 'Domain', reason: 'line 7: "Use of resources" is not a CQC key question' },
        { record: 'line 9', reason: expect.stringMatching(/^not readable as CSV: Quote Not Closed/) as unknown },
      ]),
    )
    const byId = new Map(result.records.map((record) => [record.match.id, record.observations]))
    expect(byId.get('1-20')?.[0]).toMatchObject({ value: 'good', detail: { keyQuestions: { safe: 'requires_improvement' } } }) // prettier-ignore
    expect(byId.get('1-21')).toEqual([])
    expect(byId.get('1-22')?.[0]).toMatchObject({ value: 'requires_improvement' })
  })

  it('flags an unknown word in any rating row (overall or key question) with the word, never reading it as a rating', async () => {
    const rows = [
      ...ratingRows('1-50', { ...FIVE_GOOD, Safe: 'No action', Overall: 'Good' }),
      ...ratingRows('1-51', { Overall: 'Beyond Outstanding' }),
    ]
    const file = await csv('unknown-words.csv', RATINGS_2026, rows)
    const result = await readCqcFile({ file, asOf: ASOF, ids: ['1-50', '1-51'] })
    const byId = new Map(result.records.map((record) => [record.match.id, record.observations]))
    expect(byId.get('1-50')?.[0]?.detail).toMatchObject({
      keyQuestions: { safe: 'no_action', effective: 'good' },
      unrecognisedRatings: [{ field: 'Safe', word: 'No action' }],
    })
    expect(byId.get('1-51')?.[0]).toMatchObject({ value: 'beyond_outstanding', detail: { sourceRating: 'Beyond Outstanding' } }) // prettier-ignore
    expect(result.warnings).toEqual([
      'CQC location 1-50: Safe rating "No action" not recognised: flagged, not read as a rating',
      'CQC location 1-51: Overall rating "Beyond Outstanding" not recognised: flagged, not read as a rating',
    ])
  })

  it('refuses the Providers sheet alone with the reason', async () => {
    const file = await csv('providers.csv', PROVIDERS_2019, [{ 'Provider ID': '1-900', 'Latest Rating': 'Good' }])
    await expect(readCqcFile({ file, asOf: ASOF, ids: ['1-10'] })).rejects.toThrow(/rates providers, not locations/)
  })
})

describe('CQC_FILE as a folder of the monthly files', () => {
  it('reads the newest file of each kind and merges them per location', async () => {
    const folder = path.join(dir, 'monthly')
    await mkdir(folder)
    const hscaRow = (id: string, rating: string, date: string) => ({
      'Location ID': id,
      'Location HSCA start date': '2012-04-01',
      'Location Name': `Home ${id}`,
      'Registered manager': 'Grace Hopper',
      'Location Latest Overall Rating': rating,
      'Publication Date': date,
      'Provider Companies House Number': '01234567',
    })
    await csv('HSCA_Active_Locations_1_August_2026.csv', HSCA, [hscaRow('1-10', 'Good', '01/06/2023')], folder)
    await csv('HSCA_Active_Locations_1_September_2026.csv', HSCA, [hscaRow('1-10', 'Inadequate', '12/03/2025')], folder)
    await csv('01_September_2026_Latest_ratings_Locations.csv', RATINGS_2026, ratingRows('1-10', { ...FIVE_GOOD, Safe: 'Inadequate', Overall: 'Inadequate' }), folder) // prettier-ignore
    await csv('01_September_2026_Latest_ratings_Providers.csv', PROVIDERS_2019, [{ 'Provider ID': '1-900' }], folder)
    await writeFile(path.join(folder, 'notes.csv'), 'Note,Value\nnothing,here\n')
    await writeFile(path.join(folder, 'HSCA_Active_Locations.ods'), 'a spreadsheet')

    const result = await readCqcSource({ path: folder, asOf: ASOF, ids: ['1-10', '1-11'] })
    expect(result.files.map(({ file, kind }) => [path.basename(file), kind])).toEqual([
      ['01_September_2026_Latest_ratings_Locations.csv', 'latest_ratings'],
      ['HSCA_Active_Locations_1_September_2026.csv', 'hsca_active'],
    ])
    expect(result.notFound).toEqual(['1-11'])
    expect(result.warnings).toEqual([
      '01_September_2026_Latest_ratings_Providers.csv: the Latest ratings Providers sheet rates providers, not locations; not used',
    ])
    const [record] = result.records
    // One rating observation (the ratings sheet's, with its key questions), the manager from the HSCA file.
    expect(record?.observations.filter((o) => o.indicator === 'cqc_rating')).toEqual([
      expect.objectContaining({ value: 'inadequate', observedOn: '2025-03-12', detail: expect.objectContaining({ keyQuestions: expect.objectContaining({ safe: 'inadequate' }) as unknown }) as unknown }), // prettier-ignore
    ])
    expect(record?.observations.map((o) => o.indicator)).toContain('manager_vacancy')
    expect(record?.facts).toMatchObject({
      registrationStatus: 'registered',
      registrationDate: '2012-04-01',
      provider: { companiesHouseNumber: '01234567' },
    })
  })

  it('takes the newest by modification time when the names carry no date', async () => {
    const folder = path.join(dir, 'undated')
    await mkdir(folder)
    const older = await csv('a-locations.csv', HSCA, [{ 'Location ID': '1-30', 'Location Latest Overall Rating': 'Good', 'Publication Date': '01/01/2024' }], folder) // prettier-ignore
    const newer = await csv('b-locations.csv', HSCA, [{ 'Location ID': '1-30', 'Location Latest Overall Rating': 'Inadequate', 'Publication Date': '01/01/2025' }], folder) // prettier-ignore
    await utimes(older, new Date('2026-09-02'), new Date('2026-09-02'))
    await utimes(newer, new Date('2026-08-02'), new Date('2026-08-02'))
    const result = await readCqcSource({ path: folder, asOf: ASOF, ids: ['1-30'] })
    expect(result.files.map(({ file }) => path.basename(file))).toEqual(['a-locations.csv'])
    expect(result.records[0]?.observations[0]).toMatchObject({ value: 'good' })
  })

  it.each([
    ['HSCA_Active_Locations_1_September_2026.csv', '2026-09-01'],
    ['01_December_2021_Latest_ratings.csv', '2021-12-01'],
    ['ratings-2025-07-01.csv', '2025-07-01'],
    ['Care directory with ratings October 2026.csv', '2026-10-01'],
    ['locations.csv', null],
  ])('reads the date in the name %s', (name, date) => {
    expect(dateInName(name)).toBe(date)
  })
})

/** The same columns as older and odd exports spell them. */
function respell(header: string[]): string[] {
  return header.map((name) =>
    name === 'Location ID' ? 'LocationID' : name === 'Provider ID' ? 'Provider Id' : name.toUpperCase(),
  )
}

/** A row keyed by the canonical names, rekeyed to the header's spelling (matched on letters and digits). */
function renameKeys(row: Record<string, string>, header: string[]): Record<string, string> {
  const key = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '')
  const renamed: Record<string, string> = {}
  for (const [name, value] of Object.entries(row)) {
    const target = header.find((column) => key(column) === key(name))
    if (target) renamed[target] = value
  }
  return renamed
}
