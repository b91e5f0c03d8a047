import { yesNo } from './mapLocation.js'

/**
 * The header row of a CQC file and the kind of file it announces. CQC has respelled its columns over the years
 * ("Location ID", "LocationID", "Location Id"; "Key Question" before "Domain"; "Care Home?" and "Care home?";
 * "Location Post Code" in the ratings file, "Location Postal Code" in the HSCA file), so columns are matched on their
 * letters and digits only, case-insensitively, and each field lists every spelling seen.
 */
export type CqcFileKind =
  | 'hsca_active'
  | 'deactivated'
  | 'care_directory'
  | 'latest_ratings'
  /** The ratings workbook's "Providers" sheet: ratings of providers, not of locations. */
  | 'latest_ratings_providers'

export const COLUMNS = {
  locationId: ['Location ID', 'CQC Location ID (for office use only)'],
  providerId: ['Provider ID', 'CQC Provider ID (for office use only)'],
  locationName: ['Location Name', 'Name'],
  providerName: ['Provider Name'],
  overallRating: ['Location Latest Overall Rating', 'Latest overall rating', 'Overall rating'],
  ratingDate: ['Publication Date', 'Latest rating publication date', 'Date of publication'],
  group: ['Service / Population Group', 'Population Group', 'Service Group'],
  domain: ['Domain', 'Key Question'],
  latestRating: ['Latest Rating'],
  inherited: ['Inherited Rating (Y/N)', 'Inherited Rating'],
  manager: ['Registered manager', 'Registered Manager Name'],
  registrationDate: ['Location HSCA start date', 'HSCA start date', 'Registration date'],
  deregistrationDate: ['Location HSCA End Date', 'HSCA End Date', 'Deregistration date'],
  beds: ['Care homes beds', 'Care homes beds at point location de-activated', 'Number of beds'],
  careHome: ['Care home?'],
  dormant: ['Dormant (Y/N)', 'Dormant'],
  localAuthority: ['Location Local Authority', 'Local authority'],
  postalCode: ['Location Postal Code', 'Location Post Code', 'Postcode', 'Post code'],
  companiesHouseNumber: ['Provider Companies House Number'],
  charityNumber: ['Provider Charity Number'],
  ownershipType: ['Provider Ownership Type'],
  lastCheckedOn: ['Date of latest check'],
  directoryServiceTypes: ['Service types'],
} as const satisfies Record<string, readonly string[]>

export type Column = keyof typeof COLUMNS

/** Letters and digits only, lower case: "Location ID", "LocationID", "location_id" and "Location Id" are one column. */
export function headerKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '')
}

/** Column lookup by name, whatever the spelling of the year. */
export class Header {
  private readonly index = new Map<string, number>()
  /** Each column's position, resolved once: a national file is read a few hundred thousand rows at a time. */
  private readonly positions = new Map<Column, number | null>()
  readonly names: string[]
  /** Cells up to the last named column. */
  readonly width: number

  constructor(cells: string[]) {
    this.names = cells.map((cell) => cell.trim())
    this.names.forEach((name, i) => {
      const key = headerKey(name)
      if (key !== '' && !this.index.has(key)) this.index.set(key, i)
    })
    let last = this.names.length
    while (last > 0 && this.names[last - 1] === '') last--
    this.width = last
  }

  private position(column: Column): number | null {
    let position = this.positions.get(column)
    if (position === undefined) {
      position = null
      for (const name of COLUMNS[column]) {
        const i = this.index.get(headerKey(name))
        if (i !== undefined) {
          position = i
          break
        }
      }
      this.positions.set(column, position)
    }
    return position
  }

  has(column: Column): boolean {
    return this.position(column) !== null
  }

  /** The header's own spelling of a column (for reject messages), or its first known spelling. */
  nameOf(column: Column): string {
    const i = this.position(column)
    return i === null ? COLUMNS[column][0] : (this.names[i] as string)
  }

  /** The column read from `row` and trimmed; '' when the header has no such column. */
  get(row: string[], column: Column): string {
    const i = this.position(column)
    return i === null ? '' : (row[i] ?? '').trim()
  }

  /** Names of `Service type - X` style flag columns that are set (Y) in `row`. */
  flagged(row: string[], prefix: string): string[] {
    const wanted = headerKey(prefix)
    const result: string[] = []
    this.names.forEach((name, i) => {
      if (!headerKey(name).startsWith(wanted)) return
      if (yesNo(row[i] ?? '') === true) result.push(name.slice(name.indexOf('-') + 1).trim())
    })
    return result
  }
}

/** A row is the header when one of its cells is exactly a location-id column, or a providers sheet's columns. */
export function looksLikeHeader(cells: string[]): boolean {
  const keys = new Set(cells.map(headerKey))
  const any = (column: Column) => COLUMNS[column].some((name) => keys.has(headerKey(name)))
  return any('locationId') || (any('providerId') && any('latestRating'))
}

export function kindOf(header: Header): CqcFileKind {
  if (!header.has('locationId')) return 'latest_ratings_providers'
  if (header.names.some((name) => headerKey(name) === headerKey('CQC Location ID (for office use only)'))) {
    return 'care_directory'
  }
  if (header.has('domain') && header.has('latestRating')) return 'latest_ratings'
  if (header.names.some((name) => headerKey(name) === headerKey('Location HSCA End Date'))) return 'deactivated'
  return 'hsca_active'
}

export const FILE_KIND_LABELS: Record<CqcFileKind, string> = {
  hsca_active: 'HSCA Active Locations',
  deactivated: 'Deactivated Locations',
  care_directory: 'care directory',
  latest_ratings: 'Latest ratings (Locations sheet)',
  latest_ratings_providers: 'Latest ratings (Providers sheet)',
}
