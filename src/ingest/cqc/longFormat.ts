import { normaliseWord } from '../../domain/vocabulary.js'
import type { ResultBuilder, SourceObservation } from '../types.js'
import type { CqcLocationFacts } from './facts.js'
import type { Header } from './fileHeader.js'
import { yesNo } from './mapLocation.js'
import {
  describeUnrecognised,
  keyQuestionOf,
  parseCqcDate,
  readCqcRatingWord,
  readKeyQuestionRatings,
} from './ratings.js'

/**
 * The Latest ratings "Locations" sheet: one row per location x service/population group x key question. Only the
 * location-level rows (group "Overall", or blank in older files) count: their "Overall" row is the location's rating
 * and the five key questions go with it. Rows for a service or population group (e.g. "Older people") are ignored.
 */
export interface LongFormatLocation {
  name: string | null
  providerId: string | null
  providerName: string | null
  overall?: { rating: string; raw: string; publishedOn: string | null; inherited: boolean }
  /** The key questions' rows as CQC wrote them, read by the shared rating-word reading once the file is read. */
  keyQuestions: Array<{ name: string; rating: string }>
}

/** Rows of a location the council does not hold: counted, not kept. */
export const SKIPPED: LongFormatLocation = Object.freeze({
  name: null,
  providerId: null,
  providerName: null,
  keyQuestions: Object.freeze([]) as unknown as LongFormatLocation['keyQuestions'],
}) as LongFormatLocation

const LOCATION_GROUP = new Set(['overall', ''])

export function collectLongFormat(
  locations: Map<string, LongFormatLocation>,
  header: Header,
  row: string[],
  id: string,
  line: string,
  result: ResultBuilder<CqcLocationFacts>,
): void {
  const location = locations.get(id) ?? {
    name: header.get(row, 'locationName') || null,
    providerId: header.get(row, 'providerId') || null,
    providerName: header.get(row, 'providerName') || null,
    keyQuestions: [],
  }
  locations.set(id, location)
  if (!LOCATION_GROUP.has(normaliseWord(header.get(row, 'group')))) return
  const rawDomain = header.get(row, 'domain')
  const domain = normaliseWord(rawDomain)
  const rawRating = header.get(row, 'latestRating')
  const word = readCqcRatingWord(rawRating)
  if (word === null) return
  const rating = word.value
  if (domain === 'overall') {
    const rawDate = header.get(row, 'ratingDate')
    const publishedOn = parseCqcDate(rawDate)
    if (publishedOn === null && rating !== 'not_rated') {
      result.reject(
        id,
        rawDate === '' ? `${line}: no publication date` : `${line}: "${rawDate}" is not a date`,
        header.nameOf('ratingDate'),
      )
      return
    }
    location.overall = {
      rating,
      raw: rawRating,
      publishedOn,
      inherited: yesNo(header.get(row, 'inherited')) === true,
    }
    return
  }
  if (keyQuestionOf(domain)) location.keyQuestions.push({ name: rawDomain, rating: rawRating })
  else result.reject(id, `${line}: "${rawDomain}" is not a CQC key question`, header.nameOf('domain'))
}

export function mapLongFormat(id: string, location: LongFormatLocation, warnings: string[]) {
  const observations: SourceObservation[] = []
  const overall = location.overall
  const { keyQuestions, unrecognised } = readKeyQuestionRatings(location.keyQuestions)
  const overallWord = overall ? readCqcRatingWord(overall.raw) : null
  const flagged = [
    ...(overallWord?.kind === 'unknown' ? [{ field: 'Overall', word: overallWord.raw }] : []),
    ...unrecognised,
  ]
  if (flagged.length > 0) {
    warnings.push(`CQC location ${id}: ${describeUnrecognised(flagged)} not recognised: flagged, not read as a rating`)
  }
  if (overall && overall.rating !== 'not_rated' && overall.publishedOn) {
    observations.push({
      indicator: 'cqc_rating',
      source: 'cqc_file',
      observedOn: overall.publishedOn,
      value: overall.rating,
      detail: {
        ...(Object.keys(keyQuestions).length > 0 ? { keyQuestions } : {}),
        registrationStatus: 'registered',
        ...(overall.inherited ? { inherited: true } : {}),
        ...(overallWord?.kind === 'unknown' ? { sourceRating: overallWord.raw } : {}),
        ...(unrecognised.length > 0 ? { unrecognisedRatings: unrecognised } : {}),
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
