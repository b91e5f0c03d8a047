import type { Observation } from '../observation.js'
import {
  ageInDays,
  compactWord,
  describePeriod,
  indicatorResult,
  isStale,
  levelOfValue,
  newestFirst,
  noDataResult,
  quoted,
  stringField,
  wordLabel,
  worseLevel,
  type IndicatorAssessor,
} from './common.js'

/** Drafts and assessments under factual-accuracy challenge do not count; published or status-less ones do. */
export function isCountedAssessment(assessment: Observation): boolean {
  const status = stringField(assessment.detail, 'status')
  return status === null || compactWord(status) === 'published'
}

export const assessQualityAssessment: IndicatorAssessor = (observations, { ruleSet, asOf }) => {
  const rules = ruleSet.indicators.quality_assessment
  const key = 'quality_assessment'
  const latest = newestFirst(observations.filter(isCountedAssessment))[0]
  if (!latest) return noDataResult(key, 'No quality assessment yet')

  const outcomeLevel = levelOfValue(latest.value, rules.outcomes)
  const base = { key, date: latest.observedOn, source: latest.source } as const
  if (outcomeLevel === null) {
    return {
      ...base,
      level: 'none',
      value: latest.value,
      reason: `Quality assessment outcome ${quoted(latest.value)} on ${latest.observedOn} is not recognised`,
      stale: false,
    }
  }
  const outcome = wordLabel(latest.value)
  const tooOld = ageInDays(latest.observedOn, asOf) > rules.amberWhenOlderThanDays
  const level = tooOld ? worseLevel(outcomeLevel, 'amber') : outcomeLevel
  // A stale assessment gets "(stale: over 12 months old)" appended, which already says why it is Amber.
  const reason =
    tooOld && !isStale(latest.observedOn, asOf, rules.staleAfterDays)
      ? `Last quality assessment (${outcome}, ${latest.observedOn}) is over ${describePeriod(rules.amberWhenOlderThanDays)} old`
      : `Quality assessment rated ${outcome} on ${latest.observedOn}`
  return indicatorResult({ ...base, level, value: outcome, reason }, asOf, rules.staleAfterDays)
}
