import { isIsoDate } from '../dates.js'
import type { Observation } from '../observation.js'
import type { RuleSet } from '../ruleSet.js'
import { compactWord, type IndicatorAssessor } from './common.js'
import { assessWindowedCount, type CountedEntry } from './windowedCount.js'

/** A row of kind `safeguarding_counts`: decisions to proceed to enquiry in a period (SPEC §6). */
export interface SafeguardingCount {
  observation: Observation
  periodStart: string
  periodEnd: string
  decisions: number
}

export function isSafeguardingDecision(observation: Observation): boolean {
  return compactWord(observation.value) === 'decision'
}

/** Reads a count row; null when it is not a count or its detail is malformed (it is then ignored). */
export function readSafeguardingCount(observation: Observation): SafeguardingCount | null {
  if (compactWord(observation.value) !== 'count') return null
  const { periodStart, periodEnd, decisions } = observation.detail
  const end = typeof periodEnd === 'string' && isIsoDate(periodEnd) ? periodEnd : observation.observedOn
  const start = typeof periodStart === 'string' && isIsoDate(periodStart) ? periodStart : end
  if (typeof decisions !== 'number' || !Number.isInteger(decisions) || decisions < 0 || start > end) return null
  return { observation, periodStart: start, periodEnd: end, decisions }
}

function covers(count: SafeguardingCount, isoDate: string): boolean {
  return count.periodStart <= isoDate && isoDate <= count.periodEnd
}

function overlaps(a: SafeguardingCount, b: SafeguardingCount): boolean {
  return a.periodStart <= b.periodEnd && b.periodStart <= a.periodEnd
}

/**
 * Counts whose periods overlap cannot all be right: the newer extract (recorded later) stands for the days it covers,
 * and an older count overlapping it is dropped. So a rolling extract ("the last 30 days", sent every night) or a
 * quarter re-sent after its months is counted once, not once per night.
 */
function latestCounts(counts: readonly SafeguardingCount[]): SafeguardingCount[] {
  const newestFirst = [...counts].sort(
    (a, b) => b.observation.recordedAt.localeCompare(a.observation.recordedAt) || b.observation.id - a.observation.id,
  )
  const kept: SafeguardingCount[] = []
  for (const count of newestFirst) if (!kept.some((newer) => overlaps(count, newer))) kept.push(count)
  return kept
}

/**
 * The entries that count toward the window once counts and events are reconciled under the rule set's
 * `countsAndEvents` policy. A count is counted by its period end (SPEC §6).
 */
export function safeguardingEntries(observations: readonly Observation[], ruleSet: RuleSet): CountedEntry[] {
  const decisions = observations.filter(isSafeguardingDecision)
  const counts = latestCounts(observations.map(readSafeguardingCount).filter((count) => count !== null))
  const policy = ruleSet.indicators.safeguarding.countsAndEvents
  const keptDecisions =
    policy === 'counts_replace_events'
      ? decisions.filter((decision) => !counts.some((count) => covers(count, decision.observedOn)))
      : decisions
  const keptCounts =
    policy === 'events_replace_counts'
      ? counts.filter((count) => !decisions.some((decision) => covers(count, decision.observedOn)))
      : counts
  return [
    ...keptDecisions.map((decision) => ({ date: decision.observedOn, count: 1, source: decision.source })),
    ...keptCounts.map((count) => ({ date: count.periodEnd, count: count.decisions, source: count.observation.source })),
  ]
}

export const assessSafeguarding: IndicatorAssessor = (observations, { ruleSet, asOf }) =>
  assessWindowedCount({
    key: 'safeguarding',
    entries: safeguardingEntries(observations, ruleSet),
    rules: ruleSet.indicators.safeguarding,
    asOf,
    noun: ['safeguarding decision', 'safeguarding decisions'],
  })
