import type { Observation } from '../observation.js'
import type { RuleSet } from '../ruleSet.js'
import { compactWord, isListed, levelOfValue, stringField } from './common.js'
import { isDeregistered, judgeCqcRecord } from './cqcRating.js'
import { isCountedContractConcern } from './incidents.js'
import { companyStatusLevel } from './insolvency.js'
import { isCountedAssessment } from './qualityAssessment.js'
import { isSafeguardingDecision, readSafeguardingCount } from './safeguarding.js'

function isConcerning(level: string | null): boolean {
  return level === 'amber' || level === 'red'
}

/**
 * Whether one observation, on its own, is bad news: a council event that counts against the service, or a
 * rating/status that is Amber or Red under the rule set. Counted toward the "deteriorating" flag (SPEC §3).
 * Being "not yet rated" by CQC, or deregistered, is not adverse by itself.
 */
export function isAdverseObservation(observation: Observation, ruleSet: RuleSet): boolean {
  const rules = ruleSet.indicators
  switch (observation.indicator) {
    case 'quality_assessment':
      return (
        isCountedAssessment(observation) &&
        isConcerning(levelOfValue(observation.value, rules.quality_assessment.outcomes))
      )
    case 'cqc_rating':
      return (
        !isDeregistered(observation) &&
        compactWord(observation.value) !== 'notrated' &&
        isConcerning(judgeCqcRecord(observation, rules.cqc_rating).level)
      )
    case 'food_hygiene':
      return (
        !isListed(observation.value, rules.food_hygiene.notRated) &&
        isConcerning(levelOfValue(observation.value, rules.food_hygiene.ratings))
      )
    case 'safeguarding':
      return isSafeguardingDecision(observation) || (readSafeguardingCount(observation)?.decisions ?? 0) > 0
    case 'embargo':
    case 'default_notice':
    case 'unexpected_deaths':
      return true
    case 'contract_concerns':
      return isCountedContractConcern(observation, ruleSet)
    case 'insolvency':
      return isConcerning(
        companyStatusLevel(observation.value, stringField(observation.detail, 'statusDetail'), rules.insolvency),
      )
    case 'manager_vacancy':
      return compactWord(observation.value) === 'vacant'
  }
}
