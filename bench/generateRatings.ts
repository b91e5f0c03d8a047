import path from 'node:path'
import { ChunkWriter, csvCell, ukDate } from './generate.js'
import { NATIONAL, type Location, type Model } from './model.js'

/**
 * The CQC Latest ratings workbook's "Locations" sheet saved as CSV, as councils download it monthly: the 2026 header,
 * one row per rated location x service/population group x key question. Every rated location has its location-level
 * rows (group "Overall": Overall and the five key questions); health care locations also have population-group rows
 * (GP practices' six groups), spread over them until the sheet holds NATIONAL.ratingsRows rows at scale 1 (about
 * 324,000), the size of the real national file.
 */
export const RATINGS_HEADER = [
  'Location ID', 'Location ODS Code', 'Location Name', 'Care Home?', 'Location Type',
  'Location Primary Inspection Category', 'Location Street Address', 'Location Address Line 2', 'Location City',
  'Location Post Code', 'Location Local Authority', 'Location Region', 'Location NHS Region', 'Location ONSPD CCG Code',
  'Location ONSPD CCG', 'Location Commissioning CCG Code', 'Location Commissioning CCG Name',
  'Service / Population Group', 'Domain', 'Latest Rating', 'Publication Date', 'Report Type', 'Inherited Rating (Y/N)',
  'URL', 'Provider ID', 'Provider Name', 'Brand ID', 'Brand Name',
] // prettier-ignore

const POPULATION_GROUPS = [
  'Older people',
  'People with long term conditions',
  'Families, children and young people',
  'Working age people (including those recently retired and students)',
  'People whose circumstances may make them vulnerable',
  'People experiencing poor mental health (including people with dementia)',
]
const DOMAINS = ['Overall', 'Safe', 'Effective', 'Caring', 'Responsive', 'Well-led']
const ROWS_PER_GROUP = DOMAINS.length

export interface GeneratedRatings {
  ratingsFile: string
  ratingsRows: number
  bytes: number
}

export async function generateRatingsSheet(model: Model, cqcDir: string): Promise<GeneratedRatings> {
  const rated = model.locations.filter((l) => l.rating !== null && l.ratingDate !== null)
  const health = rated.filter((l) => l.kind === 'other')
  const target = Math.round(NATIONAL.ratingsRows * model.scale)
  const extraGroups = Math.max(0, Math.ceil((target - rated.length * ROWS_PER_GROUP) / ROWS_PER_GROUP))
  const groupsOf = new Map<number, number>()
  health.forEach((l, i) => {
    const groups = Math.floor(extraGroups / health.length) + (i < extraGroups % health.length ? 1 : 0)
    groupsOf.set(l.index, Math.min(groups, POPULATION_GROUPS.length))
  })

  const ratingsFile = path.join(cqcDir, '01_September_2026_Latest_ratings_Locations.csv')
  const out = ChunkWriter.open(ratingsFile)
  await out.write(`${RATINGS_HEADER.map(csvCell).join(',')}\r\n`)
  let rows = 0
  for (const location of rated) {
    await out.write(groupRows(model, location, 'Overall', location.rating as string))
    rows += ROWS_PER_GROUP
    for (let g = 0; g < (groupsOf.get(location.index) ?? 0); g++) {
      // A population group's ratings differ from the location's: they must never replace it.
      await out.write(groupRows(model, location, POPULATION_GROUPS[g]!, g % 2 === 0 ? 'Outstanding' : 'Inadequate'))
      rows += ROWS_PER_GROUP
    }
  }
  await out.close()
  return { ratingsFile, ratingsRows: rows, bytes: out.bytes }
}

function groupRows(model: Model, l: Location, group: string, overall: string): string {
  const provider = model.providers[l.providerIndex]!
  const careHome = l.kind === 'care_home_nursing' || l.kind === 'care_home_residential'
  const lines: string[] = []
  for (const domain of DOMAINS) {
    const rating = domain === 'Overall' ? overall : group === 'Overall' ? (l.keyQuestions[domain] ?? overall) : overall
    const cells = [
      l.id,
      null,
      l.name,
      careHome ? 'Y' : 'N',
      l.asc ? 'Social Care Org' : 'Primary Medical Services',
      l.asc ? (careHome ? 'Residential social care' : 'Community based adult social care services') : 'GP Practices',
      `${l.index} High Street`,
      null,
      l.localAuthority,
      l.postcode,
      l.localAuthority,
      l.region,
      `NHS England ${l.region}`,
      `E3800${String(l.authorityIndex).padStart(4, '0')}`,
      `NHS ${l.localAuthority} CCG`,
      `E3800${String(l.authorityIndex).padStart(4, '0')}`,
      `NHS ${l.localAuthority} ICB`,
      group,
      domain,
      rating,
      ukDate(l.ratingDate as string),
      'Location',
      'N',
      `https://www.cqc.org.uk/location/${l.id}`,
      provider.id,
      provider.name,
      '-',
      '-',
    ]
    lines.push(`${cells.map(csvCell).join(',')}\r\n`)
  }
  return lines.join('')
}
