import { createReadStream } from 'node:fs'
import type { Readable } from 'node:stream'
import { parse } from 'csv-parse'
import { normaliseWord } from '../../domain/vocabulary.js'
import {
  distinctIds,
  ResultBuilder,
  type ConnectorRequest,
  type ConnectorResult,
  type SourceObservation,
} from '../types.js'
import type { CqcLocationFacts, CqcProviderFacts } from './facts.js'
import { managerInPost, managerVacant, notRated, toCount, yesNo } from './mapLocation.js'
import { isKnownCqcRating, keyQuestionOf, normaliseCqcRating, parseCqcDate } from './ratings.js'

/**
 * The CQC's downloadable files as CSV (FORMATS §2), streamed row by row: HSCA Active Locations, Deactivated
 * Locations, the care directory, and the long-format Latest ratings "Locations" sheet. The header is found by
 * its column names (files may open with a notice block or preamble) and columns are read by name.
 */
export type CqcFileKind = 'hsca_active' | 'deactivated' | 'care_directory' | 'latest_ratings'

export interface CqcFileRequest extends ConnectorRequest {
  /** A path, or an already-open stream (tests, or a file fetched another way). */
  file: string | Readable
}

export interface CqcFileResult extends ConnectorResult<CqcLocationFacts> {
  fileKind: CqcFileKind
}

const HEADER_SEARCH_ROWS = 50
const LOCATION_ID_COLUMNS = ['Location ID', 'CQC Location ID (for office use only)']
const RATING_COLUMNS = ['Location Latest Overall Rating', 'Latest overall rating', 'Overall rating']
const RATING_DATE_COLUMNS = ['Publication Date', 'Latest rating publication date']
const MANAGER_COLUMN = 'Registered manager'
const VACANCY_NOTE = 'The CQC file lists no registered manager and gives no date: vacant since at least this date.'
const NOT_RATED_NOTE =
  'The CQC file shows no overall rating. Since September 2026 it shows "Not Rated" for multi-service locations that do hold service ratings.'

/** Column lookup by name, case- and spacing-insensitive. */
class Header {
  private readonly index = new Map<string, number>()
  readonly names: string[]

  constructor(cells: string[]) {
    this.names = cells.map((cell) => cell.trim())
    this.names.forEach((name, i) => {
      const key = headerKey(name)
      if (key !== '' && !this.index.has(key)) this.index.set(key, i)
    })
  }

  has(...names: string[]): boolean {
    return names.some((name) => this.index.has(headerKey(name)))
  }

  /** The first of `names` present in the header, read from `row` and trimmed; '' when absent. */
  get(row: string[], ...names: string[]): string {
    for (const name of names) {
      const i = this.index.get(headerKey(name))
      if (i !== undefined) return (row[i] ?? '').trim()
    }
    return ''
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

function headerKey(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase()
}

function kindOf(header: Header): CqcFileKind {
  if (header.has('CQC Location ID (for office use only)')) return 'care_directory'
  if (header.has('Domain') && header.has('Latest Rating')) return 'latest_ratings'
  if (header.has('Location HSCA End Date')) return 'deactivated'
  return 'hsca_active'
}

/** CQC publishes its monthly files as spreadsheets; this connector streams CSV (a sheet saved as CSV). */
const SPREADSHEET_EXTENSIONS = /\.(ods|xlsx|xls)$/i

export async function readCqcFile(request: CqcFileRequest): Promise<CqcFileResult> {
  if (typeof request.file === 'string' && SPREADSHEET_EXTENSIONS.test(request.file)) {
    throw new Error(
      `${request.file}: a spreadsheet, not CSV. Save its "Locations" sheet as CSV (UTF-8) and point CQC_FILE at that.`,
    )
  }
  const councilIds = new Set(distinctIds(request.ids))
  const result = new ResultBuilder<CqcLocationFacts>('cqc_file')
  const input = typeof request.file === 'string' ? createReadStream(request.file) : request.file
  const parser = input.pipe(parse({ bom: true, relax_column_count: true, relax_quotes: true, info: true }))
  const label = typeof request.file === 'string' ? request.file : 'CQC file'

  let header: Header | undefined
  let kind: CqcFileKind = 'hsca_active'
  const seen = new Set<string>()
  const longFormat = new Map<string, LongFormatLocation>()
  let rowsBeforeHeader = 0

  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!header) {
        if (record.some((cell) => LOCATION_ID_COLUMNS.some((name) => headerKey(cell) === headerKey(name)))) {
          header = new Header(record)
          kind = kindOf(header)
        } else if (++rowsBeforeHeader > HEADER_SEARCH_ROWS) {
          break
        }
        continue
      }
      if (record.every((cell) => cell.trim() === '')) continue
      const line = `line ${info.lines}`
      const id = header.get(record, ...LOCATION_ID_COLUMNS)
      if (id === '') {
        result.reject(line, 'no location id', LOCATION_ID_COLUMNS[0])
        continue
      }
      if (kind === 'latest_ratings') {
        if (!longFormat.has(id)) result.read++
        if (councilIds.has(id)) collectLongFormat(longFormat, header, record, id, line, result)
        else longFormat.set(id, longFormat.get(id) ?? SKIPPED)
        continue
      }
      result.read++
      if (!councilIds.has(id)) continue
      if (seen.has(id)) {
        result.warnings.push(`CQC file: location ${id} appears more than once; the first row (before ${line}) was used`)
        continue
      }
      seen.add(id)
      result.records.push(mapRow(header, record, id, kind, request.asOf, result))
      request.onProgress?.(seen.size, councilIds.size)
    }
  } finally {
    input.destroy()
  }
  if (!header) {
    throw new Error(
      `${label}: no header row found in the first ${HEADER_SEARCH_ROWS} rows (expected a "Location ID" column)`,
    )
  }

  if (kind === 'latest_ratings') {
    for (const [id, location] of longFormat) {
      if (location === SKIPPED) continue
      seen.add(id)
      result.records.push(mapLongFormat(id, location))
    }
  }
  for (const id of councilIds) if (!seen.has(id)) result.notFound.push(id)
  if (kind === 'care_directory' && !header.has(...RATING_COLUMNS) && !header.has(MANAGER_COLUMN)) {
    result.warnings.push(
      'CQC file: the care directory has no rating or registered manager columns, so it gives no CQC rating or manager ' +
        'for any service; only service details were read. For ratings use the HSCA Active Locations or Latest ratings ' +
        'file (as CSV) or the CQC API.',
    )
  }
  return { ...result.build(), fileKind: kind }
}

function mapRow(
  header: Header,
  row: string[],
  id: string,
  kind: CqcFileKind,
  asOf: string,
  result: ResultBuilder<CqcLocationFacts>,
) {
  const deregistered = kind === 'deactivated'
  const date = (column: string) => {
    const raw = header.get(row, column)
    const parsed = parseCqcDate(raw)
    if (raw !== '' && parsed === null) result.reject(id, `"${raw}" is not a date`, column)
    return parsed
  }
  const registrationDate = date('Location HSCA start date')
  const deregistrationDate = deregistered ? date('Location HSCA End Date') : null
  const observations: SourceObservation[] = []
  const registrationStatus = deregistered ? 'deregistered' : 'registered'

  if (header.has(...RATING_COLUMNS)) {
    const rawRating = header.get(row, ...RATING_COLUMNS)
    const rating = normaliseCqcRating(rawRating)
    const ratingDateColumn = RATING_DATE_COLUMNS.find((column) => header.has(column)) ?? RATING_DATE_COLUMNS[0]!
    const rawDate = header.get(row, ...RATING_DATE_COLUMNS)
    const publishedOn = parseCqcDate(rawDate)
    if (rating !== null && rating !== 'not_rated') {
      if (publishedOn === null) {
        result.reject(
          id,
          rawDate === '' ? `rating "${rawRating}" has no publication date` : `"${rawDate}" is not a date`,
          ratingDateColumn,
        )
      } else {
        const inherited = yesNo(header.get(row, 'Inherited Rating (Y/N)'))
        observations.push({
          indicator: 'cqc_rating',
          source: 'cqc_file',
          observedOn: publishedOn,
          value: rating,
          detail: {
            registrationStatus: 'registered',
            ...(inherited ? { inherited: true } : {}),
            ...(isKnownCqcRating(rating) ? {} : { sourceRating: rawRating }),
          },
          reference: null,
          naturalKey: `cqc:${id}:${publishedOn}`,
        })
      }
    } else if (!deregistered) {
      // Dated at registration, so any real rating (from the API or a later file) is more recent and wins.
      const observation = notRated(id, registrationDate ?? asOf, registrationDate, 'cqc_file')
      observation.detail = { ...observation.detail, note: NOT_RATED_NOTE }
      observations.push(observation)
    }
    if (deregistered) {
      observations.push({
        indicator: 'cqc_rating',
        source: 'cqc_file',
        observedOn: deregistrationDate ?? asOf,
        value: rating ?? 'not_rated',
        detail: { registrationStatus: 'deregistered' },
        reference: null,
        naturalKey: `cqc:${id}:deregistered:${deregistrationDate ?? 'undated'}`,
      })
    }
  }

  const manager = header.get(row, MANAGER_COLUMN)
  if (!deregistered && header.has(MANAGER_COLUMN)) {
    observations.push(
      manager === ''
        ? managerVacant(id, asOf, 'cqc_file', { sinceUnknown: true, note: VACANCY_NOTE }, 'undated')
        : managerInPost(id, [manager], asOf, 'cqc_file'),
    )
  }

  const providerId = header.get(row, 'Provider ID', 'CQC Provider ID (for office use only)')
  const provider: CqcProviderFacts = {
    providerId: providerId || null,
    name: header.get(row, 'Provider Name') || null,
    companiesHouseNumber: header.get(row, 'Provider Companies House Number') || null,
    charityNumber: header.get(row, 'Provider Charity Number') || null,
    ownershipType: header.get(row, 'Provider Ownership Type') || null,
  }
  const hasProvider = Object.values(provider).some((value) => value !== null)
  const directoryTypes = header
    .get(row, 'Service types')
    .split('|')
    .map((type) => type.trim())
    .filter((type) => type !== '')

  const facts: CqcLocationFacts = {
    locationId: id,
    providerId: providerId || null,
    name: header.get(row, 'Location Name', 'Name') || null,
    registrationStatus: kind === 'care_directory' ? null : registrationStatus,
    registrationDate,
    deregistrationDate,
    numberOfBeds: toCount(header.get(row, 'Care homes beds', 'Care homes beds at point location de-activated')),
    careHome: yesNo(header.get(row, 'Care home?')),
    dormant: yesNo(header.get(row, 'Dormant (Y/N)')),
    serviceTypes: [...header.flagged(row, 'Service type - '), ...directoryTypes],
    localAuthority: header.get(row, 'Location Local Authority', 'Local authority') || null,
    postalCode: header.get(row, 'Location Postal Code', 'Postcode') || null,
    registeredManagers: manager === '' ? [] : [manager],
    ...(hasProvider ? { provider } : {}),
    ...(header.has('Date of latest check') ? { lastCheckedOn: date('Date of latest check') } : {}),
  }
  return { match: { kind: 'cqc_location' as const, id }, observations, facts }
}

interface LongFormatLocation {
  name: string | null
  providerId: string | null
  providerName: string | null
  overall?: { rating: string; raw: string; publishedOn: string | null; inherited: boolean }
  keyQuestions: Record<string, string>
}
const SKIPPED: LongFormatLocation = { name: null, providerId: null, providerName: null, keyQuestions: {} }

/** Latest ratings has one row per location x service/population group x domain: keep the location's Overall group. */
function collectLongFormat(
  locations: Map<string, LongFormatLocation>,
  header: Header,
  row: string[],
  id: string,
  line: string,
  result: ResultBuilder<CqcLocationFacts>,
) {
  const location = locations.get(id) ?? {
    name: header.get(row, 'Location Name') || null,
    providerId: header.get(row, 'Provider ID') || null,
    providerName: header.get(row, 'Provider Name') || null,
    keyQuestions: {},
  }
  locations.set(id, location)
  const group = normaliseWord(header.get(row, 'Service / Population Group'))
  if (group !== 'overall' && group !== '') return
  const rawRating = header.get(row, 'Latest Rating')
  const rating = normaliseCqcRating(rawRating)
  if (rating === null) return
  const domain = normaliseWord(header.get(row, 'Domain'))
  if (domain === 'overall') {
    const rawDate = header.get(row, 'Publication Date')
    const publishedOn = parseCqcDate(rawDate)
    if (publishedOn === null && rating !== 'not_rated') {
      result.reject(
        id,
        rawDate === '' ? `${line}: no publication date` : `${line}: "${rawDate}" is not a date`,
        'Publication Date',
      )
    }
    location.overall = {
      rating,
      raw: rawRating,
      publishedOn,
      inherited: yesNo(header.get(row, 'Inherited Rating (Y/N)')) === true,
    }
  } else {
    const question = keyQuestionOf(domain)
    if (question) location.keyQuestions[question] = rating
  }
}

function mapLongFormat(id: string, location: LongFormatLocation) {
  const observations: SourceObservation[] = []
  const overall = location.overall
  if (overall && overall.rating !== 'not_rated' && overall.publishedOn) {
    observations.push({
      indicator: 'cqc_rating',
      source: 'cqc_file',
      observedOn: overall.publishedOn,
      value: overall.rating,
      detail: {
        ...(Object.keys(location.keyQuestions).length > 0 ? { keyQuestions: location.keyQuestions } : {}),
        registrationStatus: 'registered',
        ...(overall.inherited ? { inherited: true } : {}),
        ...(isKnownCqcRating(overall.rating) ? {} : { sourceRating: overall.raw }),
      },
      reference: null,
      naturalKey: `cqc:${id}:${overall.publishedOn}`,
    })
  }
  const facts: CqcLocationFacts = {
    locationId: id,
    providerId: location.providerId,
    name: location.name,
    registrationStatus: null,
    registrationDate: null,
    deregistrationDate: null,
    numberOfBeds: null,
    careHome: null,
    dormant: null,
    serviceTypes: [],
    localAuthority: null,
    postalCode: null,
    registeredManagers: [],
    ...(location.providerId
      ? {
          provider: {
            providerId: location.providerId,
            name: location.providerName,
            companiesHouseNumber: null,
            charityNumber: null,
            ownershipType: null,
          },
        }
      : {}),
  }
  return { match: { kind: 'cqc_location' as const, id }, observations, facts }
}
