import type { Observation } from '../../src/domain/observation.js'
import { assessInsolvency } from '../../src/domain/indicators/insolvency.js'
import type { IndicatorResult } from '../../src/domain/riskResult.js'
import { DEFAULT_RULE_SET } from '../../src/domain/ruleSet.js'
import type { SourceObservation } from '../../src/ingest/types.js'

/** Judges a connector's insolvency observations (oldest first, as stored) with the default rule set. */
export function judgeInsolvency(observations: readonly SourceObservation[], asOf: string): IndicatorResult {
  const stored: Observation[] = observations.map((observation, index) => ({
    id: index + 1,
    indicator: observation.indicator,
    source: observation.source,
    observedOn: observation.observedOn,
    endDate: observation.endDate ?? null,
    value: observation.value,
    detail: observation.detail ?? {},
    reference: observation.reference ?? null,
    notes: null,
    enteredBy: null,
    recordedAt: `${observation.observedOn}T02:00:00.000Z`,
  }))
  return assessInsolvency(stored, { ruleSet: DEFAULT_RULE_SET, asOf })
}
