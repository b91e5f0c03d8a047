import type { Observation } from '../observation.js'
import type { RuleSet } from '../ruleSet.js'
import { isListed, type IndicatorAssessor } from './common.js'
import { assessWindowedCount } from './windowedCount.js'

/** Every unexpected death on record counts (SPEC §9: "every row"). */
export const assessUnexpectedDeaths: IndicatorAssessor = (observations, { ruleSet, asOf }) =>
  assessWindowedCount({
    key: 'unexpected_deaths',
    entries: observations.map((death) => ({ date: death.observedOn, count: 1, source: death.source })),
    rules: ruleSet.indicators.unexpected_deaths,
    asOf,
    noun: ['unexpected death', 'unexpected deaths'],
  })

/** Only concerns with a counted outcome (default: substantiated) count. */
export function isCountedContractConcern(observation: Observation, ruleSet: RuleSet): boolean {
  return isListed(observation.value, ruleSet.indicators.contract_concerns.countedOutcomes)
}

export const assessContractConcerns: IndicatorAssessor = (observations, { ruleSet, asOf }) => {
  const counted = observations.filter((concern) => isCountedContractConcern(concern, ruleSet))
  return assessWindowedCount({
    key: 'contract_concerns',
    // Concerns on record that did not count still show the council has looked: Green rather than "none recorded".
    entries: observations.map((concern) => ({
      date: concern.observedOn,
      count: counted.includes(concern) ? 1 : 0,
      source: concern.source,
    })),
    rules: ruleSet.indicators.contract_concerns,
    asOf,
    noun: ['substantiated contract concern', 'substantiated contract concerns'],
  })
}
