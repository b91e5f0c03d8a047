import type { Observation } from '../observation.js'
import { indicatorResult, noDataResult, type IndicatorAssessor } from './common.js'

/** Active as of `asOf`: started by then and not lifted by then (SPEC §9: no end date, or an end date in the future). */
export function isEmbargoActive(embargo: Observation, asOf: string): boolean {
  return embargo.endDate === null || embargo.endDate > asOf
}

export const assessEmbargo: IndicatorAssessor = (embargoes, { ruleSet, asOf }) => {
  const rules = ruleSet.indicators.embargo
  const key = 'embargo'
  if (embargoes.length === 0) {
    if (rules.whenNoEntries === 'none') return noDataResult(key, 'No embargoes recorded')
    return {
      key,
      level: 'green',
      value: 'None',
      date: null,
      source: null,
      reason: 'No embargo on new placements',
      stale: false,
    }
  }
  const active = embargoes.filter((embargo) => isEmbargoActive(embargo, asOf))
  const earliestActive = active.reduce<Observation | undefined>(
    (best, embargo) => (!best || embargo.observedOn < best.observedOn ? embargo : best),
    undefined,
  )
  if (earliestActive) {
    return indicatorResult(
      {
        key,
        level: rules.activeLevel,
        value: 'Active',
        date: earliestActive.observedOn,
        source: earliestActive.source,
        reason: `Embargo on new placements since ${earliestActive.observedOn}`,
      },
      asOf,
      rules.staleAfterDays,
    )
  }
  const lastLifted = embargoes.reduce<Observation | undefined>(
    (best, embargo) => (!best || (embargo.endDate ?? '') > (best.endDate ?? '') ? embargo : best),
    undefined,
  )
  return indicatorResult(
    {
      key,
      level: 'green',
      value: 'None active',
      date: lastLifted?.endDate ?? null,
      source: lastLifted?.source ?? null,
      reason: `No active embargo (last lifted ${lastLifted?.endDate})`,
    },
    asOf,
    rules.staleAfterDays,
  )
}
