import {
  indicatorResult,
  isListed,
  levelOfValue,
  newestFirst,
  noDataResult,
  quoted,
  wordLabel,
  type IndicatorAssessor,
} from './common.js'

/** The latest food hygiene rating decides. Exempt or awaiting inspection is known but gives no rating (no data). */
export const assessFoodHygiene: IndicatorAssessor = (observations, { ruleSet, asOf }) => {
  const rules = ruleSet.indicators.food_hygiene
  const key = 'food_hygiene'
  const latest = newestFirst(observations)[0]
  if (!latest) return noDataResult(key, 'No food hygiene rating on record')
  const label = wordLabel(latest.value)
  const base = { key, date: latest.observedOn, source: latest.source } as const

  if (isListed(latest.value, rules.notRated)) {
    return {
      ...base,
      level: 'none',
      value: label,
      reason: `Food hygiene: ${label.toLowerCase()} (${latest.observedOn})`,
      stale: false,
    }
  }
  const level = levelOfValue(latest.value, rules.ratings)
  if (level === null) {
    return {
      ...base,
      level: 'none',
      value: latest.value,
      reason: `Food hygiene rating ${quoted(latest.value)} on ${latest.observedOn} is not recognised`,
      stale: false,
    }
  }
  return indicatorResult(
    { ...base, level, value: label, reason: `Food hygiene rating ${label} on ${latest.observedOn}` },
    asOf,
    rules.staleAfterDays,
  )
}
