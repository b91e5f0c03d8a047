import { normaliseWord, type Source } from '../../domain/vocabulary.js'
import type { RejectedRecord, SourceObservation } from '../types.js'
import type { CqcLocationFacts } from './facts.js'
import {
  describeUnrecognised,
  parseCqcDate,
  readCqcRatingWord,
  readKeyQuestionRatings,
  type UnrecognisedCqcRating,
} from './ratings.js'
import type { CqcLocation } from './schema.js'

export interface MappedLocation {
  observations: SourceObservation[]
  facts: CqcLocationFacts
  rejects: RejectedRecord[]
  /** Rating words flagged as not recognised, for the run log. */
  warnings: string[]
}

type Detail = Record<string, unknown>

/**
 * Maps one CQC API location to observations (src/domain/observation.ts conventions, SPEC §5):
 * - cqc_rating: today's rating is the location's currentRatings, dated by its report; each historic report is kept for
 *   the timeline only (`timelineOnly`), so a later focused inspection "Inspected but not rated" never becomes the
 *   rating; `not_rated` from the registration date when there is no current rating; for a deregistered location, a
 *   last observation dated by the deregistration. A rating carried over from a predecessor registration says so
 *   (`inheritedFrom`), a dormant location says so (`dormant`), and an unknown word in any rating field is flagged.
 * - manager_vacancy: see managerObservation.
 */
export function mapCqcLocation(location: CqcLocation, asOf: string, source: Source = 'cqc_api'): MappedLocation {
  const id = location.locationId
  const rejects: RejectedRecord[] = []
  const warnings: string[] = []
  const observations: SourceObservation[] = []
  const dateField = (field: string, raw: string | null | undefined): string | null => {
    if (raw === null || raw === undefined || raw.trim() === '') return null
    const parsed = parseCqcDate(raw)
    if (parsed === null) rejects.push({ record: id, field, reason: `"${raw}" is not a date` })
    return parsed
  }
  const flag = (where: string, unrecognised: UnrecognisedCqcRating[]) => {
    if (unrecognised.length === 0) return
    warnings.push(
      `CQC location ${id}: ${where} ${describeUnrecognised(unrecognised)} not recognised: flagged, not read as a rating`,
    )
  }

  const registrationStatus = location.registrationStatus ? normaliseWord(location.registrationStatus) : null
  const deregistered = registrationStatus === 'deregistered'
  const registrationDate = dateField('registrationDate', location.registrationDate)
  const deregistrationDate = dateField('deregistrationDate', location.deregistrationDate)
  const dormant = yesNo(location.dormancy) === true
  const dormantSince = dormant ? dateField('dormancyStartDate', location.dormancyStartDate) : null

  const overall = location.currentRatings?.overall
  const current = readReport(overall)
  flag('current', current.unrecognised)
  const currentReportDate = dateField(
    'currentRatings.overall.reportDate',
    overall?.reportDate ?? location.currentRatings?.reportDate,
  )
  const inheritedFrom = overall?.organisationId && overall.organisationId !== id ? overall.organisationId : null
  const standing = {
    registrationStatus: 'registered',
    ...(dormant ? { dormant: true, ...(dormantSince ? { dormantSince } : {}) } : {}),
  }

  const seenReportDates = new Set<string>()
  const rated = current.word !== null && current.word.kind !== 'not_rated'
  if (rated && currentReportDate !== null) {
    seenReportDates.add(currentReportDate)
    observations.push({
      indicator: 'cqc_rating',
      source,
      observedOn: currentReportDate,
      value: current.word?.value ?? 'not_rated',
      detail: { ...current.detail, ...standing, ...(inheritedFrom ? { inheritedFrom } : {}) },
      reference: overall?.reportLinkId ?? null,
      naturalKey: `cqc:${id}:${currentReportDate}`,
    })
  } else if (rated) {
    rejects.push({
      record: id,
      field: 'currentRatings.overall.reportDate',
      reason: `rating "${overall?.rating}" has no report date`,
    })
  } else if (!deregistered) {
    const observation = notRated(id, registrationDate ?? asOf, registrationDate, source)
    observation.detail = { ...observation.detail, ...current.detail, ...standing }
    observations.push(observation)
  }

  for (const historic of location.historicRatings ?? []) {
    const report = readReport(historic.overall)
    const reportDate = parseCqcDate(historic.reportDate ?? historic.overall?.reportDate)
    if (report.word === null || reportDate === null || seenReportDates.has(reportDate)) continue
    seenReportDates.add(reportDate)
    flag(`report of ${reportDate}`, report.unrecognised)
    observations.push({
      indicator: 'cqc_rating',
      source,
      observedOn: reportDate,
      value: report.word.value,
      detail: { ...report.detail, registrationStatus: 'registered', timelineOnly: true },
      reference: historic.reportLinkId ?? historic.overall?.reportLinkId ?? null,
      naturalKey: `cqc:${id}:${reportDate}`,
    })
  }

  if (deregistered) {
    const lastRating = current.word?.value ?? 'not_rated'
    observations.push({
      indicator: 'cqc_rating',
      source,
      observedOn: deregistrationDate ?? asOf,
      value: lastRating,
      detail: { ...current.detail, registrationStatus: 'deregistered' },
      reference: null,
      naturalKey: `cqc:${id}:deregistered:${deregistrationDate ?? 'undated'}`,
      ...(deregistrationDate ? {} : { dedupe: 'first_seen' as const }),
    })
  }

  const managers = registeredManagerNames(location)
  if (!deregistered) {
    const absentSince = dateField('registeredManagerAbsentDate', location.registeredManagerAbsentDate)
    observations.push(managerObservation(id, managers, absentSince, asOf, source))
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
  return { observations, facts, rejects, warnings }
}

type OverallRating = NonNullable<NonNullable<CqcLocation['currentRatings']>['overall']>

/**
 * One report's overall rating and key questions, read by the shared rating-word reading. The detail keeps CQC's own
 * words where they are not a rating: `sourceRating` for an unknown overall word, `ratingText` for a "no rating"
 * phrase such as "Inspected but not rated", and `unrecognisedRatings` for unknown key question words.
 */
function readReport(overall: OverallRating | null | undefined) {
  const word = readCqcRatingWord(overall?.rating)
  const { keyQuestions, unrecognised } = readKeyQuestionRatings(overall?.keyQuestionRatings)
  const detail: Detail = {
    ...(Object.keys(keyQuestions).length > 0 ? { keyQuestions } : {}),
    ...(word?.kind === 'unknown' ? { sourceRating: word.raw } : {}),
    ...(word?.kind === 'not_rated' ? { ratingText: word.raw } : {}),
    ...(unrecognised.length > 0 ? { unrecognisedRatings: unrecognised } : {}),
  }
  const flagged = word?.kind === 'unknown' ? [{ field: 'Overall', word: word.raw }, ...unrecognised] : unrecognised
  return { word, detail, unrecognised: flagged }
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
    // Dated the night it was read when CQC gives no date: a later night's date is no correction.
    ...(registrationDate ? {} : { dedupe: 'first_seen' as const }),
  }
}

/**
 * The registered manager is state, not a dated event: stored when it differs from the last state CQC gave (so a post
 * that falls vacant again, or a manager who comes back, is recorded each time), and not again while it stays the same.
 * Natural keys alone would drop the second vacancy of a file with no dates ("undated") or the return of a manager.
 */
const MANAGER_DEDUPE: NonNullable<SourceObservation['dedupe']> = 'latest_value'

/**
 * The registered manager reading of SPEC §5: a registered manager named on any regulated activity is in post (with
 * CQC's manager-absent date kept beside it when CQC gives both, so the page shows the disagreement); an absent date with
 * no named manager is a vacancy from that date; neither, on a registered location, is flagged for review.
 */
export function managerObservation(
  id: string,
  managers: string[],
  absentSince: string | null,
  asOf: string,
  source: Source,
): SourceObservation {
  // The detail is part of the API's state: an absent date appearing beside a named manager is a change.
  const dedupe = { dedupe: 'latest_state' as const }
  if (managers.length > 0) return { ...managerInPost(id, managers, asOf, source, absentSince), ...dedupe }
  if (absentSince !== null)
    return { ...managerVacant(id, absentSince, source, { since: 'registeredManagerAbsentDate' }), ...dedupe }
  return {
    indicator: 'manager_vacancy',
    source,
    observedOn: asOf,
    value: 'not_named',
    detail: {},
    reference: null,
    naturalKey: `cqc:${id}:manager:not_named`,
    ...dedupe,
  }
}

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
export function managerInPost(
  id: string,
  names: string[],
  asOf: string,
  source: Source,
  absentDate: string | null = null,
): SourceObservation {
  const key = names.map((name) => normaliseWord(name)).join('+')
  return {
    indicator: 'manager_vacancy',
    source,
    observedOn: asOf,
    value: 'in_post',
    detail: { managerName: names.join(', '), ...(absentDate ? { absentDate } : {}) },
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
