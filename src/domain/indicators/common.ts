import { daysBetween } from '../dates.js'
import type { Observation } from '../observation.js'
import type { IndicatorResult } from '../riskResult.js'
import type { RuleSet } from '../ruleSet.js'
import { normaliseWord, type IndicatorKey, type Level, type Rag } from '../vocabulary.js'

/** What every indicator rule gets besides its observations: the rules and the date the judgement is made as of. */
export interface IndicatorContext {
  ruleSet: RuleSet
  asOf: string
}

/** Assesses one indicator from its observations, all already dated on or before `asOf`. */
export type IndicatorAssessor = (observations: readonly Observation[], ctx: IndicatorContext) => IndicatorResult

export function ageInDays(isoDate: string, asOf: string): number {
  return daysBetween(isoDate, asOf)
}

/** Inclusive window: an entry exactly `windowDays` old is inside, one a day older is outside. */
export function isWithinWindow(isoDate: string, asOf: string, windowDays: number): boolean {
  const age = ageInDays(isoDate, asOf)
  return age >= 0 && age <= windowDays
}

/** "12 months", "3 years", "90 days". */
export function describePeriod(days: number): string {
  if (days % 365 === 0) {
    const years = days / 365
    return years === 1 ? '12 months' : `${years} years`
  }
  return plural(days, 'day')
}

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`
}

export function isStale(isoDate: string | null, asOf: string, staleAfterDays: number | null): boolean {
  return isoDate !== null && staleAfterDays !== null && ageInDays(isoDate, asOf) > staleAfterDays
}

/** Builds a result, appending "(stale: over 3 years old)" to the reason when the deciding input is too old. */
export function indicatorResult(
  fields: Omit<IndicatorResult, 'stale'>,
  asOf: string,
  staleAfterDays: number | null,
): IndicatorResult {
  const stale = fields.level !== 'none' && isStale(fields.date, asOf, staleAfterDays)
  const reason =
    stale && staleAfterDays !== null
      ? `${fields.reason} (stale: over ${describePeriod(staleAfterDays)} old)`
      : fields.reason
  return { ...fields, reason, stale }
}

export function noDataResult(key: IndicatorKey, reason: string): IndicatorResult {
  return { key, level: 'none', value: null, date: null, source: null, reason, stale: false }
}

/** Compares vocabulary words ignoring case and separators, so "AwaitingInspection" matches "awaiting_inspection". */
export function compactWord(raw: string): string {
  return normaliseWord(raw).replace(/_/g, '')
}

/** The level a value is listed under, or null when it is in no list (not recognised). */
export function levelOfValue(value: string, lists: { green: string[]; amber: string[]; red: string[] }): Rag | null {
  const wanted = compactWord(value)
  for (const level of ['red', 'amber', 'green'] as const) {
    if (lists[level].some((listed) => compactWord(listed) === wanted)) return level
  }
  return null
}

export function isListed(value: string, list: readonly string[]): boolean {
  const wanted = compactWord(value)
  return list.some((listed) => compactWord(listed) === wanted)
}

const LEVEL_ORDER: Record<Level, number> = { none: -1, green: 0, amber: 1, red: 2 }
export function worseLevel(a: Level, b: Level): Level {
  return LEVEL_ORDER[a] >= LEVEL_ORDER[b] ? a : b
}

/** Newest first: by observedOn, then by id (the later row wins a tie). */
export function newestFirst(observations: readonly Observation[]): Observation[] {
  return [...observations].sort((a, b) =>
    a.observedOn === b.observedOn ? b.id - a.id : a.observedOn < b.observedOn ? 1 : -1,
  )
}

/** "requires_improvement" -> "Requires improvement". */
export function wordLabel(raw: string): string {
  const text = normaliseWord(raw).replace(/_/g, ' ')
  return text.charAt(0).toUpperCase() + text.slice(1)
}

/** A value shown back to a person in a "not recognised" reason: trimmed and cut short. */
export function quoted(raw: string): string {
  const text = raw.trim()
  return `"${text.length > 40 ? `${text.slice(0, 40)}...` : text}"`
}

export function stringField(detail: Record<string, unknown>, name: string): string | null {
  const value = detail[name]
  return typeof value === 'string' ? value : null
}
