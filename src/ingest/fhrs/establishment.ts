import { parseCouncilDate } from '../../domain/dates.js'
import { normaliseWord, type Source } from '../../domain/vocabulary.js'
import type { RejectedRecord, SourceObservation } from '../types.js'

/** One FHRS establishment, the same whether it came from the API (JSON) or the open-data XML. */
export interface FhrsEstablishment {
  fhrsId: string
  businessName: string | null
  businessType: string | null
  businessTypeId: number | null
  postCode: string | null
  ratingValue: string | null
  ratingDate: string | null
  localAuthorityCode: string | null
  localAuthorityName: string | null
  schemeType: string | null
  newRatingPending: boolean | null
  scores: { hygiene: number | null; structural: number | null; confidenceInManagement: number | null }
}

export type FhrsFacts = Omit<FhrsEstablishment, 'ratingValue' | 'ratingDate'>

/** FHRS and FHIS (Scotland) rating values as observation values. */
export const FOOD_HYGIENE_VALUES = [
  '0',
  '1',
  '2',
  '3',
  '4',
  '5',
  'exempt',
  'awaiting_inspection',
  'awaiting_publication',
  'pass',
  'pass_and_eat_safe',
  'improvement_required',
] as const

/** FHRS "AwaitingInspection" and FHIS "Awaiting Inspection" both become `awaiting_inspection`. */
export function normaliseFhrsRating(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined || raw.trim() === '') return null
  return normaliseWord(raw.trim().replace(/([a-z])([A-Z])/g, '$1 $2'))
}

/** FHRS uses 1901-01-01 (and the XML an empty element) for "never rated". */
const NEVER_RATED = '1901-01-01'

/** Canonical FHRSID for matching: FHRS ids are integers, so "01583332" and "1583332" are the same. */
export function canonicalFhrsId(id: string): string {
  const trimmed = id.trim()
  return /^\d+$/.test(trimmed) ? String(Number(trimmed)) : trimmed
}

export function mapFhrsEstablishment(
  establishment: FhrsEstablishment,
  asOf: string,
  source: Source,
): { observations: SourceObservation[]; facts: FhrsFacts; rejects: RejectedRecord[] } {
  const { ratingValue, ratingDate, ...facts } = establishment
  const id = establishment.fhrsId
  const rejects: RejectedRecord[] = []
  const observations: SourceObservation[] = []
  const value = normaliseFhrsRating(ratingValue)
  const ratedOn = ratingDate === null || ratingDate.trim() === '' ? NEVER_RATED : parseCouncilDate(ratingDate)

  if (value === null) {
    rejects.push({ record: id, field: 'RatingValue', reason: 'no rating value' })
  } else if (ratedOn === null) {
    rejects.push({ record: id, field: 'RatingDate', reason: `"${ratingDate}" is not a date` })
  } else {
    const never = ratedOn === NEVER_RATED
    observations.push({
      indicator: 'food_hygiene',
      source,
      observedOn: never ? asOf : ratedOn,
      value,
      detail: {
        fhrsId: id,
        businessName: establishment.businessName,
        ...(never ? { neverRated: true } : {}),
        ...((FOOD_HYGIENE_VALUES as readonly string[]).includes(value) ? {} : { sourceRating: ratingValue }),
      },
      reference: id,
      naturalKey: `fhrs:${id}:${never ? 'never' : ratedOn}:${value}`,
    })
  }
  return { observations, facts, rejects }
}
