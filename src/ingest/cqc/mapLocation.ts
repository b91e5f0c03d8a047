import { normaliseWord, type Source } from '../../domain/vocabulary.js'
import type { RejectedRecord, SourceObservation } from '../types.js'
import type { CqcLocationFacts } from './facts.js'
import { isKnownCqcRating, keyQuestionsOf, normaliseCqcRating, parseCqcDate } from './ratings.js'
import type { CqcLocation } from './schema.js'

export interface MappedLocation {
  observations: SourceObservation[]
  facts: CqcLocationFacts
  rejects: RejectedRecord[]
}

/**
 * Maps one CQC API location to observations (src/domain/observation.ts conventions):
 * - cqc_rating: the current overall rating (key questions in detail) dated by its report, each historic rating
 *   (so a downgrade is visible from the first load), `not_rated` from the registration date when there is no
 *   rating, and, for a deregistered location, a last observation dated by the deregistration.
 * - manager_vacancy: `vacant` from registeredManagerAbsentDate, else `in_post` with the registered manager name(s).
 */
export function mapCqcLocation(location: CqcLocation, asOf: string, source: Source = 'cqc_api'): MappedLocation {
  const id = location.locationId
  const rejects: RejectedRecord[] = []
  const observations: SourceObservation[] = []
  const dateField = (field: string, raw: string | null | undefined): string | null => {
    if (raw === null || raw === undefined || raw.trim() === '') return null
    const parsed = parseCqcDate(raw)
    if (parsed === null) rejects.push({ record: id, field, reason: `"${raw}" is not a date` })
    return parsed
  }

  const registrationStatus = location.registrationStatus ? normaliseWord(location.registrationStatus) : null
  const deregistered = registrationStatus === 'deregistered'
  const registrationDate = dateField('registrationDate', location.registrationDate)
  const deregistrationDate = dateField('deregistrationDate', location.deregistrationDate)

  const overall = location.currentRatings?.overall
  const currentRating = normaliseCqcRating(overall?.rating)
  const currentReportDate = dateField(
    'currentRatings.overall.reportDate',
    overall?.reportDate ?? location.currentRatings?.reportDate,
  )
  const currentKeyQuestions = keyQuestionsOf(overall?.keyQuestionRatings)
  /** An unrecognised rating keeps CQC's own words beside the normalised value, for the risk engine to report. */
  const ratingDetail = (rating: string, raw: string | null | undefined, keyQuestions: object, status: string) => ({
    ...(Object.keys(keyQuestions).length > 0 ? { keyQuestions } : {}),
    registrationStatus: status,
    ...(isKnownCqcRating(rating) ? {} : { sourceRating: raw }),
  })

  const seenReportDates = new Set<string>()
  if (currentRating !== null && currentReportDate !== null) {
    seenReportDates.add(currentReportDate)
    observations.push({
      indicator: 'cqc_rating',
      source,
      observedOn: currentReportDate,
      value: currentRating,
      detail: {
        ...ratingDetail(currentRating, overall?.rating, currentKeyQuestions, 'registered'),
        ...(overall?.organisationId ? { inheritedFrom: overall.organisationId } : {}),
      },
      reference: overall?.reportLinkId ?? null,
      naturalKey: `cqc:${id}:${currentReportDate}`,
    })
  } else if (currentRating !== null && currentRating !== 'not_rated') {
    rejects.push({
      record: id,
      field: 'currentRatings.overall.reportDate',
      reason: `rating "${overall?.rating}" has no report date`,
    })
  } else if (!deregistered) {
    observations.push(notRated(id, registrationDate ?? asOf, registrationDate, source))
  }

  for (const historic of location.historicRatings ?? []) {
    const rating = normaliseCqcRating(historic.overall?.rating)
    const reportDate = parseCqcDate(historic.reportDate ?? historic.overall?.reportDate)
    if (rating === null || reportDate === null || seenReportDates.has(reportDate)) continue
    seenReportDates.add(reportDate)
    observations.push({
      indicator: 'cqc_rating',
      source,
      observedOn: reportDate,
      value: rating,
      detail: {
        ...ratingDetail(
          rating,
          historic.overall?.rating,
          keyQuestionsOf(historic.overall?.keyQuestionRatings),
          'registered',
        ),
      },
      reference: historic.reportLinkId ?? historic.overall?.reportLinkId ?? null,
      naturalKey: `cqc:${id}:${reportDate}`,
    })
  }

  if (deregistered) {
    const lastRating = currentRating ?? 'not_rated'
    const on = deregistrationDate ?? asOf
    observations.push({
      indicator: 'cqc_rating',
      source,
      observedOn: on,
      value: lastRating,
      detail: ratingDetail(lastRating, overall?.rating, currentKeyQuestions, 'deregistered'),
      reference: null,
      naturalKey: `cqc:${id}:deregistered:${deregistrationDate ?? 'undated'}`,
    })
  }

  const managers = registeredManagerNames(location)
  if (!deregistered) {
    const absentSince = dateField('registeredManagerAbsentDate', location.registeredManagerAbsentDate)
    if (absentSince !== null) {
      observations.push(managerVacant(id, absentSince, source, { since: 'registeredManagerAbsentDate' }))
    } else if (managers.length > 0) {
      observations.push(managerInPost(id, managers, asOf, source))
    }
  }

  const facts: CqcLocationFacts = {
    locationId: id,
    providerId: location.providerId ?? null,
    name: location.name ?? null,
    registrationStatus,
    registrationDate,
    deregistrationDate,
    numberOfBeds: toCount(location.numberOfBeds),
    careHome: yesNo(location.careHome),
    dormant: yesNo(location.dormancy),
    serviceTypes: (location.gacServiceTypes ?? [])
      .map((type) => type.description ?? type.name ?? '')
      .filter((type) => type !== ''),
    gacServiceTypes: (location.gacServiceTypes ?? []).map((type) => ({
      name: type.name ?? null,
      description: type.description ?? null,
    })),
    localAuthority: location.localAuthority ?? null,
    postalCode: location.postalCode ?? null,
    registeredManagers: managers,
    predecessorLocationIds: (location.relationships ?? [])
      .filter((relation) => normaliseWord(relation.type ?? '') === 'hsca_predecessor' && relation.relatedLocationId)
      .map((relation) => relation.relatedLocationId as string),
  }
  return { observations, facts, rejects }
}

export function notRated(
  id: string,
  observedOn: string,
  registrationDate: string | null,
  source: Source,
): SourceObservation {
  return {
    indicator: 'cqc_rating',
    source,
    observedOn,
    value: 'not_rated',
    detail: { registrationStatus: 'registered' },
    reference: null,
    naturalKey: `cqc:${id}:not_rated:${registrationDate ?? 'undated'}`,
  }
}

/**
 * The registered manager is state, not a dated event: stored when it differs from the last state CQC gave (so a post
 * that falls vacant again, or a manager who comes back, is recorded each time), and not again while it stays the same.
 * Natural keys alone would drop the second vacancy of a file with no dates ("undated") or the return of a manager.
 */
const MANAGER_DEDUPE = 'latest_value' as const

export function managerVacant(
  id: string,
  since: string,
  source: Source,
  detail: Record<string, unknown>,
  keySuffix: string = since,
): SourceObservation {
  return {
    indicator: 'manager_vacancy',
    source,
    observedOn: since,
    endDate: null,
    value: 'vacant',
    detail,
    reference: null,
    naturalKey: `cqc:${id}:manager:vacant:${keySuffix}`,
    dedupe: MANAGER_DEDUPE,
  }
}

/** In post, dated the day first seen; keyed by the name(s) so the same manager is recorded once. */
export function managerInPost(id: string, names: string[], asOf: string, source: Source): SourceObservation {
  const key = names.map((name) => normaliseWord(name)).join('+')
  return {
    indicator: 'manager_vacancy',
    source,
    observedOn: asOf,
    value: 'in_post',
    detail: { managerName: names.join(', ') },
    reference: null,
    naturalKey: `cqc:${id}:manager:in_post:${key}`,
    dedupe: MANAGER_DEDUPE,
  }
}

/** The contact list repeats per regulated activity: one name per person. */
function registeredManagerNames(location: CqcLocation): string[] {
  const names = new Map<string, string>()
  for (const activity of location.regulatedActivities ?? []) {
    for (const contact of activity.contacts ?? []) {
      const isManager = (contact.personRoles ?? []).some((role) => normaliseWord(role) === 'registered_manager')
      if (!isManager) continue
      const name = [contact.personGivenName, contact.personFamilyName]
        .map((part) => (part ?? '').trim())
        .filter((part) => part !== '')
        .join(' ')
      if (name !== '' && !names.has(normaliseWord(name))) names.set(normaliseWord(name), name)
    }
  }
  return [...names.values()].sort((a, b) => a.localeCompare(b))
}

export function yesNo(raw: string | boolean | null | undefined): boolean | null {
  if (typeof raw === 'boolean') return raw
  const word = (raw ?? '').trim().toLowerCase()
  if (word === 'y' || word === 'yes' || word === 'true') return true
  if (word === 'n' || word === 'no' || word === 'false') return false
  return null
}

export function toCount(raw: number | string | null | undefined): number | null {
  if (raw === null || raw === undefined || raw === '') return null
  const value = typeof raw === 'number' ? raw : Number(raw.trim())
  return Number.isInteger(value) && value >= 0 ? value : null
}
