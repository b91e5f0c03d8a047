import type { Observation } from '../observation.js'
import type { RuleSet } from '../ruleSet.js'
import { normaliseWord, type Level, type Rag } from '../vocabulary.js'
import {
  compactWord,
  indicatorResult,
  isListed,
  isWithinWindow,
  levelOfValue,
  newestFirst,
  noDataResult,
  quoted,
  stringField,
  wordLabel,
  worseLevel,
  type IndicatorAssessor,
  type IndicatorContext,
} from './common.js'

type CqcRules = RuleSet['indicators']['cqc_rating']

const KEY_QUESTION_LABELS: Record<string, string> = {
  safe: 'Safe',
  effective: 'Effective',
  caring: 'Caring',
  responsive: 'Responsive',
  well_led: 'Well-led',
}
/** Better ratings rank higher; only these four can be compared for a downgrade. */
const RATING_RANK: Record<string, number> = { outstanding: 4, good: 3, requiresimprovement: 2, inadequate: 1 }

export function cqcRatingLabel(rating: string): string {
  return compactWord(rating) === 'notrated' ? 'Not yet rated' : wordLabel(rating)
}

/**
 * A location the latest record calls deregistered keeps the rule set's `deregisteredLevel` (default Amber): it
 * is no longer a rated, registered service, which usually means it closed or re-registered under a new location
 * ID, and either way the council's record needs a person to look. Red would bar it from every DPS on a
 * paperwork change; no data would hide it.
 */
export function isDeregistered(observation: Observation): boolean {
  return compactWord(stringField(observation.detail, 'registrationStatus') ?? '') === 'deregistered'
}

function keyQuestionRatings(observation: Observation): Array<[question: string, rating: string]> {
  const raw = observation.detail.keyQuestions
  if (typeof raw !== 'object' || raw === null) return []
  return Object.entries(raw).flatMap(([question, rating]) =>
    typeof rating === 'string' ? [[normaliseWord(question), rating] as [string, string]] : [],
  )
}

interface CqcJudgement {
  /** null: neither the overall rating nor any key question rule is recognised. */
  level: Rag | null
  overallLevel: Rag | null
  /** Key questions that forced the level up, with their rating: [['safe', 'inadequate']]. */
  forcing: Array<[string, string]>
}

/** Judges one CQC record on its own (no history): overall rating and key question rules. */
export function judgeCqcRecord(observation: Observation, rules: CqcRules): CqcJudgement {
  const overallLevel = levelOfValue(observation.value, rules.overall)
  let keyQuestionLevel: Rag | null = null
  let forcing: Array<[string, string]> = []
  for (const level of ['red', 'amber'] as const) {
    const rule = rules.keyQuestions[level]
    const hits = keyQuestionRatings(observation).filter(
      ([question, rating]) =>
        (rule.questions as readonly string[]).includes(question) && isListed(rating, rule.ratings),
    )
    if (hits.length > 0) {
      keyQuestionLevel = level
      forcing = hits
      break
    }
  }
  const level =
    overallLevel === null
      ? keyQuestionLevel
      : keyQuestionLevel === null
        ? overallLevel
        : (worseLevel(overallLevel, keyQuestionLevel) as Rag)
  // Only mention key questions when they made the level worse than the overall rating alone.
  const keyQuestionsDecided = keyQuestionLevel !== null && level !== overallLevel
  return { level, overallLevel, forcing: keyQuestionsDecided ? forcing : [] }
}

function describeForcing(forcing: Array<[string, string]>): string {
  const byRating = new Map<string, string[]>()
  for (const [question, rating] of forcing) {
    const label = cqcRatingLabel(rating)
    byRating.set(label, [...(byRating.get(label) ?? []), KEY_QUESTION_LABELS[question] ?? wordLabel(question)])
  }
  return [...byRating].map(([rating, questions]) => `${questions.join(' and ')} rated ${rating}`).join('; ')
}

/** A past CQC report kept for the timeline: never today's rating (SPEC §5). */
export function isTimelineOnly(observation: Observation): boolean {
  return observation.detail.timelineOnly === true
}

const isRated = (observation: Observation) => RATING_RANK[compactWord(observation.value)] !== undefined
const isNotRated = (observation: Observation) => compactWord(observation.value) === 'notrated'

export interface CurrentCqcRecord {
  /** The record today's rating is read from. */
  record: Observation
  /** A newer "no rating" record ("Inspected but not rated", "No published rating") that did not replace it. */
  unratedSince?: Observation
}

/**
 * Today's CQC record (SPEC §5): the newest record that is not report history; a "no rating" record never replaces an
 * earlier rating, so then the newest rated record before it stands. Ties go to the later row.
 */
export function currentCqcRecord(observations: readonly Observation[]): CurrentCqcRecord | undefined {
  const ordered = newestFirst(observations)
  const latest = ordered.find((observation) => !isTimelineOnly(observation)) ?? ordered[0]
  if (!latest) return undefined
  if (isNotRated(latest) && !isDeregistered(latest)) {
    const earlier = ordered.find(
      (observation) =>
        isRated(observation) && !isDeregistered(observation) && observation.observedOn <= latest.observedOn,
    )
    if (earlier) return { record: earlier, unratedSince: latest }
  }
  const laterUnrated = isRated(latest)
    ? ordered.find((observation) => isNotRated(observation) && observation.observedOn > latest.observedOn)
    : undefined
  return laterUnrated ? { record: latest, unratedSince: laterUnrated } : { record: latest }
}

interface UnrecognisedField {
  field: string
  word: string
}

function unrecognisedKeyQuestions(observation: Observation): UnrecognisedField[] {
  const raw = observation.detail.unrecognisedRatings
  if (!Array.isArray(raw)) return []
  return raw.flatMap((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return []
    const { field, word } = entry as { field?: unknown; word?: unknown }
    return typeof field === 'string' && typeof word === 'string' ? [{ field, word }] : []
  })
}

/** The notes a person needs beside the rating: carried over, dormant, a later report not rated, words not known. */
function standingNotes(current: CurrentCqcRecord): string[] {
  const { record, unratedSince } = current
  const notes: string[] = []
  const inheritedFrom = stringField(record.detail, 'inheritedFrom')
  if (inheritedFrom) notes.push(`carried over from its previous registration ${inheritedFrom}`)
  else if (record.detail.inherited === true) notes.push('carried over from its previous registration')
  if (unratedSince) {
    const phrase = stringField(unratedSince.detail, 'ratingText') ?? 'not rated'
    notes.push(`a later report on ${unratedSince.observedOn} was ${quoted(phrase)}, which does not replace the rating`)
  }
  const standing = unratedSince ?? record
  if (standing.detail.dormant === true || record.detail.dormant === true) {
    const since = stringField(standing.detail, 'dormantSince') ?? stringField(record.detail, 'dormantSince')
    notes.push(`location dormant${since ? ` since ${since}` : ''} (not providing care)`)
  }
  const unknown = unrecognisedKeyQuestions(record)
  if (unknown.length > 0) {
    notes.push(
      `${unknown.map(({ field, word }) => `${field} rating ${quoted(word)}`).join(', ')} not recognised (flagged, not read as a rating)`,
    )
  }
  return notes
}

/** Whether today's CQC record says the location is dormant (the DPS gate reads it from the indicator value). */
export function isDormant(current: CurrentCqcRecord): boolean {
  return current.record.detail.dormant === true || current.unratedSince?.detail.dormant === true
}

export const assessCqcRating: IndicatorAssessor = (observations, { ruleSet, asOf }) => {
  const rules = ruleSet.indicators.cqc_rating
  const key = 'cqc_rating'
  const current = currentCqcRecord(observations)
  if (!current) return noDataResult(key, 'No CQC record')
  const latest = current.record
  const base = { key, date: latest.observedOn, source: latest.source } as const

  if (isDeregistered(latest)) {
    const level: Level = rules.deregisteredLevel
    const deregisteredOn = stringField(latest.detail, 'deregistrationDate')
    const when = deregisteredOn ? ` on ${deregisteredOn}` : ` (seen ${latest.observedOn})`
    return { ...base, level, value: 'Deregistered', reason: `CQC registration cancelled${when}`, stale: false }
  }
  const notes = standingNotes(current)
  const withNotes = (text: string) => (notes.length > 0 ? `${text} (${notes.join('; ')})` : text)
  const dormantSuffix = isDormant(current) ? ' - dormant' : ''
  const judgement = judgeCqcRecord(latest, rules)
  if (judgement.level === null) {
    return {
      ...base,
      level: 'none',
      value: `${latest.value}${dormantSuffix}`,
      reason: withNotes(
        `CQC rating ${quoted(stringField(latest.detail, 'sourceRating') ?? latest.value)} on ${latest.observedOn} is not recognised`,
      ),
      stale: false,
    }
  }
  const label = cqcRatingLabel(latest.value)
  const overallText =
    judgement.overallLevel === null
      ? `CQC overall rating ${quoted(stringField(latest.detail, 'sourceRating') ?? latest.value)} not recognised on ${latest.observedOn}`
      : compactWord(latest.value) === 'notrated'
        ? `Registered with CQC but not yet rated (since ${latest.observedOn})`
        : `CQC rated ${label} on ${latest.observedOn}`
  const reason = withNotes(
    judgement.forcing.length > 0 ? `${overallText}, but ${describeForcing(judgement.forcing)}` : overallText,
  )
  const value = `${judgement.forcing.length > 0 ? `${label} (${describeForcing(judgement.forcing)})` : label}${dormantSuffix}`
  return indicatorResult({ ...base, level: judgement.level, value, reason }, asOf, rules.staleAfterDays)
}

export interface CqcDowngrade {
  from: string
  to: string
  on: string
}

/**
 * The latest CQC rating, if it is worse than the rating before it and was published within the rule set's
 * recent-downgrade window (inclusive: 90 days old is recent, 91 is not).
 */
export function findRecentDowngrade(
  observations: readonly Observation[],
  { ruleSet, asOf }: IndicatorContext,
): CqcDowngrade | null {
  const latest = currentCqcRecord(observations)?.record
  if (!latest || isDeregistered(latest)) return null
  const latestRank = RATING_RANK[compactWord(latest.value)]
  const previous = newestFirst(observations).find(
    (observation) =>
      observation.id !== latest.id &&
      observation.observedOn <= latest.observedOn &&
      !isDeregistered(observation) &&
      RATING_RANK[compactWord(observation.value)] !== undefined,
  )
  if (latestRank === undefined || !previous) return null
  const previousRank = RATING_RANK[compactWord(previous.value)] as number
  if (latestRank >= previousRank) return null
  if (!isWithinWindow(latest.observedOn, asOf, ruleSet.recentDowngrade.windowDays)) return null
  return { from: cqcRatingLabel(previous.value), to: cqcRatingLabel(latest.value), on: latest.observedOn }
}

export function describeDowngrade(downgrade: CqcDowngrade): string {
  return `Recently downgraded by CQC from ${downgrade.from} to ${downgrade.to} on ${downgrade.on}`
}
