import { isAdverseObservation } from './indicators/adverse.js'
import { isWithinWindow, type IndicatorAssessor, type IndicatorContext } from './indicators/common.js'
import { withCouncilFile } from './indicators/councilFile.js'
import { assessCqcRating, describeDowngrade, findRecentDowngrade } from './indicators/cqcRating.js'
import { assessDefaultNotice } from './indicators/defaultNotice.js'
import { assessEmbargo } from './indicators/embargo.js'
import { assessFoodHygiene } from './indicators/foodHygiene.js'
import { assessContractConcerns, assessUnexpectedDeaths } from './indicators/incidents.js'
import { assessInsolvency } from './indicators/insolvency.js'
import { assessManagerVacancy } from './indicators/managerVacancy.js'
import { assessQualityAssessment, isCountedAssessment } from './indicators/qualityAssessment.js'
import { assessSafeguarding } from './indicators/safeguarding.js'
import type { Observation } from './observation.js'
import type { ActiveOverride, IndicatorResult, RiskFlags, RiskResult } from './riskResult.js'
import type { RuleSet } from './ruleSet.js'
import { INDICATOR_KEYS, INDICATOR_LABELS, type IndicatorKey, type Rag } from './vocabulary.js'

export { isAdverseObservation } from './indicators/adverse.js'

const ASSESSORS: Record<IndicatorKey, IndicatorAssessor> = {
  quality_assessment: assessQualityAssessment,
  cqc_rating: assessCqcRating,
  food_hygiene: assessFoodHygiene,
  safeguarding: assessSafeguarding,
  embargo: assessEmbargo,
  default_notice: assessDefaultNotice,
  unexpected_deaths: assessUnexpectedDeaths,
  contract_concerns: assessContractConcerns,
  insolvency: assessInsolvency,
  manager_vacancy: assessManagerVacancy,
}

const RAG_LABELS: Record<Rag, string> = { red: 'Red', amber: 'Amber', green: 'Green' }

export interface AssessRiskInput {
  /** The service's live (not superseded) observations, any dates: those after asOf are ignored. */
  observations: readonly Observation[]
  ruleSet: RuleSet
  ruleSetVersion: number
  /** ISO date the judgement is made as of (today, or a past date to recompute history). */
  asOf: string
  /** A manual override; it applies up to and including its expiry date. */
  override?: ActiveOverride | null
}

/** Observations of each indicator known as of the date: facts dated later did not exist yet. */
function groupByIndicator(observations: readonly Observation[], asOf: string): Map<IndicatorKey, Observation[]> {
  const groups = new Map<IndicatorKey, Observation[]>()
  for (const observation of observations) {
    if (observation.observedOn.slice(0, 10) > asOf) continue
    const group = groups.get(observation.indicator)
    if (group) group.push(observation)
    else groups.set(observation.indicator, [observation])
  }
  return groups
}

function scoreOf(indicators: readonly IndicatorResult[], flags: RiskFlags, ruleSet: RuleSet): number {
  const { levelWeights, indicatorWeights, flagWeights } = ruleSet.score
  let score = 0
  for (const indicator of indicators) {
    if (indicator.level !== 'none') score += levelWeights[indicator.level] * (indicatorWeights[indicator.key] ?? 0)
  }
  if (flags.recentlyDowngraded) score += flagWeights.recentlyDowngraded
  if (flags.deteriorating) score += flagWeights.deteriorating
  return Math.round(score * 100) / 100
}

function isOverrideActive(override: ActiveOverride | null | undefined, asOf: string): override is ActiveOverride {
  return override !== null && override !== undefined && override.expiresOn >= asOf
}

/**
 * Judges one service's risk as of a date under a rule set (SPEC §3). Pure: no clock, no I/O; the same inputs
 * always give the same result, so history and rule previews can be recomputed.
 */
export function assessRisk({ observations, ruleSet, ruleSetVersion, asOf, override }: AssessRiskInput): RiskResult {
  const ctx: IndicatorContext = { ruleSet, asOf }
  const groups = groupByIndicator(observations, asOf)
  const indicators = INDICATOR_KEYS.map((key) => {
    const group = groups.get(key) ?? []
    // A fact from a council inbox file names the file in the reason (SPEC §6).
    const { level, value, date, source, reason, stale } = withCouncilFile(ASSESSORS[key](group, ctx), group)
    // The same field order for every indicator, so stored and served JSON reads alike.
    return { key, level, value, date, source, reason, stale }
  })

  const reds = indicators.filter((indicator) => indicator.level === 'red')
  const ambers = indicators.filter((indicator) => indicator.level === 'amber')
  const downgrade = findRecentDowngrade(groups.get('cqc_rating') ?? [], ctx)
  const adverseRecently = [...groups.values()]
    .flat()
    .filter(
      (observation) =>
        isWithinWindow(observation.observedOn, asOf, ruleSet.deterioration.windowDays) &&
        isAdverseObservation(observation, ruleSet),
    )
  const flags: RiskFlags = {
    multipleConcerns: ambers.length >= ruleSet.multipleConcerns.amberCount,
    recentlyDowngraded: downgrade !== null,
    notYetAssessed: !(groups.get('quality_assessment') ?? []).some(isCountedAssessment),
    deteriorating: adverseRecently.length >= ruleSet.deterioration.minAdverseObservations,
  }
  const computedRag: Rag =
    reds.length > 0 || flags.multipleConcerns
      ? 'red'
      : ambers.length > 0 || flags.recentlyDowngraded
        ? 'amber'
        : 'green'

  const reasons: string[] = []
  const activeOverride = isOverrideActive(override, asOf) ? override : null
  if (activeOverride) {
    const computedNote = activeOverride.rag === computedRag ? '' : ` (the rules give ${RAG_LABELS[computedRag]})`
    reasons.push(
      `Manual override to ${RAG_LABELS[activeOverride.rag]} until ${activeOverride.expiresOn}${computedNote}: ${activeOverride.reason}`,
    )
  }
  if (flags.multipleConcerns) {
    const names = ambers.map((indicator) => INDICATOR_LABELS[indicator.key]).join(', ')
    reasons.push(`Multiple concerns: ${ambers.length} indicators are Amber (${names})`)
  }
  reasons.push(...reds.map((indicator) => indicator.reason), ...ambers.map((indicator) => indicator.reason))
  if (downgrade) reasons.push(describeDowngrade(downgrade))
  if (reds.length === 0 && ambers.length === 0 && !downgrade) {
    const withData = indicators.filter((indicator) => indicator.level !== 'none')
    if (withData.length === 0) reasons.push('No data on any indicator')
    else {
      const summary =
        withData.length === 1 ? 'the one indicator with data is' : `all ${withData.length} indicators with data are`
      reasons.push(`No concerns: ${summary} Green`)
      reasons.push(...withData.filter((indicator) => indicator.stale).map((indicator) => indicator.reason))
      // What a council file said, so a service turned Green by one says which (SPEC §6).
      reasons.push(...withData.filter((i) => !i.stale && i.source === 'council_inbox').map((i) => i.reason))
    }
  }

  return {
    rag: activeOverride ? activeOverride.rag : computedRag,
    computedRag,
    score: scoreOf(indicators, flags, ruleSet),
    reasons,
    indicators,
    override: activeOverride,
    flags,
    ruleSetVersion,
    asOf,
  }
}
