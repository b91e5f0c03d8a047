import { z } from 'zod'
import type { RiskResult, IndicatorResult } from './riskResult.js'
import {
  ASSESSMENT_OUTCOMES,
  COMPANY_STATUSES,
  CQC_RATINGS,
  normaliseWord,
  RAG_ORDER,
  ragSchema,
  type AssessmentOutcome,
  type CqcRating,
  type Rag,
} from './vocabulary.js'

/**
 * DPS eligibility (SPEC §4): a service may receive new packages under a DPS lot only while every gate of that
 * DPS holds. Gates are data, stored per DPS; `gatesSchema.parse({})` gives the SPEC defaults.
 */

/** The CQC overall ratings a minimum can be set at (best first). */
export const RATED_CQC = ['outstanding', 'good', 'requires_improvement', 'inadequate'] as const
type RatedCqc = (typeof RATED_CQC)[number]

export const gatesSchema = z.strictObject({
  /** Lowest CQC overall rating accepted; null switches the gate off. A service with no published rating fails it. */
  minimumCqcRating: z.enum(RATED_CQC).nullable().default('good'),
  /** Worst overall RAG (after any override) accepted; the default 'amber' means "not Red". null: gate off. */
  maximumRag: ragSchema.nullable().default('amber'),
  noActiveEmbargo: z.boolean().default(true),
  notInsolvent: z.boolean().default(true),
  /** Lowest published quality assessment outcome accepted; null: gate off. A service not yet assessed passes. */
  minimumQualityOutcome: z.enum(ASSESSMENT_OUTCOMES).nullable().default(null),
  /** Require a registered manager in post. A service with no manager data passes. */
  registeredManagerInPost: z.boolean().default(false),
})
export type Gates = z.infer<typeof gatesSchema>
export type GatesInput = z.input<typeof gatesSchema>
export const DEFAULT_GATES: Gates = gatesSchema.parse({})

/** Gate names as reported in `failingGates` (and in the award API's 409 details). */
export const GATE_NAMES = [
  'cqc_rating',
  'rag',
  'embargo',
  'insolvency',
  'quality_assessment',
  'registered_manager',
] as const
export type GateName = (typeof GATE_NAMES)[number]

/**
 * A reason a service may not receive new packages. Besides the gates above, the DPS layer adds 'membership'
 * (not admitted to the lot, suspended, removed) and 'data' (no current judgement for the service).
 */
export interface FailingGate {
  gate: GateName | 'membership' | 'data'
  reason: string
}

export interface EligibilityResult {
  eligible: boolean
  failingGates: FailingGate[]
}

/** The structured facts the gates read: the lead derives them from the service's live observations and snapshot. */
export interface EligibilityFacts {
  cqcOverall: CqcRating | null
  cqcRatedOn: string | null
  /** A location CQC calls deregistered or dormant fails the CQC gate whatever its last rating (SPEC §5). */
  cqcStanding?: 'deregistered' | 'dormant' | null
  /** Overall RAG after any active override. */
  rag: Rag
  /** Start date of the active embargo on new placements; null when none is active. */
  embargoActiveSince: string | null
  insolvent: boolean
  /** Companies House company_status, e.g. 'administration'. */
  companyStatus: string | null
  qualityOutcome: AssessmentOutcome | null
  /** null: nothing known about the registered manager. */
  managerInPost: boolean | null
}

/** Companies House statuses that fail the "not insolvent" gate (Red for the insolvency indicator, SPEC §3). */
export const INSOLVENT_COMPANY_STATUSES: readonly string[] = [
  'administration',
  'receivership',
  'liquidation',
  'insolvency-proceedings',
  'dissolved',
]

export function isInsolventStatus(companyStatus: string | null): boolean {
  if (companyStatus === null) return false
  return INSOLVENT_COMPANY_STATUSES.includes(
    companyStatus
      .trim()
      .toLowerCase()
      .replace(/[\s_]+/g, '-'),
  )
}

const CQC_RANK: Record<RatedCqc, number> = { outstanding: 3, good: 2, requires_improvement: 1, inadequate: 0 }
const OUTCOME_RANK: Record<AssessmentOutcome, number> = { excellent: 3, good: 2, requires_improvement: 1, poor: 0 }

const CQC_LABELS: Record<CqcRating, string> = {
  outstanding: 'Outstanding',
  good: 'Good',
  requires_improvement: 'Requires improvement',
  inadequate: 'Inadequate',
  not_rated: 'Not yet rated',
}
const OUTCOME_LABELS: Record<AssessmentOutcome, string> = {
  excellent: 'Excellent',
  good: 'Good',
  requires_improvement: 'Requires improvement',
  poor: 'Poor',
}
const RAG_LABELS: Record<Rag, string> = { red: 'Red', amber: 'Amber', green: 'Green' }
const COMPANY_STATUS_PHRASES: Record<string, string> = {
  administration: 'in administration',
  receivership: 'in receivership',
  liquidation: 'in liquidation',
  'insolvency-proceedings': 'in insolvency proceedings',
  dissolved: 'dissolved',
  'voluntary-arrangement': 'in a voluntary arrangement',
}

function orAbove(label: string): string {
  return `${label} or above`
}

function checkCqc(facts: EligibilityFacts, minimum: RatedCqc): FailingGate | null {
  const required = orAbove(CQC_LABELS[minimum])
  if (facts.cqcStanding === 'deregistered')
    return { gate: 'cqc_rating', reason: `CQC location deregistered: registration cancelled (${required} required)` }
  if (facts.cqcStanding === 'dormant')
    return { gate: 'cqc_rating', reason: `CQC location dormant: not providing care (${required} required)` }
  const rating = facts.cqcOverall
  if (rating === null) return { gate: 'cqc_rating', reason: `No CQC rating on record (${required} required)` }
  if (rating === 'not_rated') return { gate: 'cqc_rating', reason: `Not yet rated by CQC (${required} required)` }
  if (CQC_RANK[rating] >= CQC_RANK[minimum]) return null
  const ratedOn = facts.cqcRatedOn ? ` (rated on ${facts.cqcRatedOn})` : ''
  return { gate: 'cqc_rating', reason: `CQC rating ${CQC_LABELS[rating]} is below ${CQC_LABELS[minimum]}${ratedOn}` }
}

function checkRag(rag: Rag, maximum: Rag): FailingGate | null {
  if (RAG_ORDER[rag] <= RAG_ORDER[maximum]) return null
  const limit = maximum === 'amber' ? '' : ` (${RAG_LABELS[maximum]} or better required)`
  return { gate: 'rag', reason: `Overall RAG is ${RAG_LABELS[rag]}${limit}` }
}

function checkQuality(outcome: AssessmentOutcome | null, minimum: AssessmentOutcome): FailingGate | null {
  if (outcome === null || OUTCOME_RANK[outcome] >= OUTCOME_RANK[minimum]) return null
  return {
    gate: 'quality_assessment',
    reason: `Quality assessment ${OUTCOME_LABELS[outcome]} is below ${OUTCOME_LABELS[minimum]}`,
  }
}

function insolvencyReason(companyStatus: string | null): string {
  const key =
    companyStatus
      ?.trim()
      .toLowerCase()
      .replace(/[\s_]+/g, '-') ?? ''
  const phrase = COMPANY_STATUS_PHRASES[key]
  return phrase ? `Company is ${phrase}` : 'Company is insolvent'
}

function isRiskResult(input: RiskResult | EligibilityFacts): input is RiskResult {
  return Array.isArray((input as RiskResult).indicators)
}

/**
 * Evaluates every gate; `failingGates` lists each failing one with a reason a person can read, in a fixed order
 * (CQC, embargo, insolvency, quality, manager, then the overall RAG: causes first). Accepts the structured facts or a RiskResult (read through
 * `factsFromRiskResult`).
 */
export function evaluateEligibility(
  input: EligibilityFacts | RiskResult,
  gates: Gates = DEFAULT_GATES,
): EligibilityResult {
  const facts = isRiskResult(input) ? factsFromRiskResult(input) : input
  const failing: Array<FailingGate | null> = [
    gates.minimumCqcRating === null ? null : checkCqc(facts, gates.minimumCqcRating),
    gates.noActiveEmbargo && facts.embargoActiveSince !== null
      ? { gate: 'embargo', reason: `Embargo on new placements since ${facts.embargoActiveSince}` }
      : null,
    gates.notInsolvent && facts.insolvent
      ? { gate: 'insolvency', reason: insolvencyReason(facts.companyStatus) }
      : null,
    gates.minimumQualityOutcome === null ? null : checkQuality(facts.qualityOutcome, gates.minimumQualityOutcome),
    gates.registeredManagerInPost && facts.managerInPost === false
      ? { gate: 'registered_manager', reason: 'No registered manager in post' }
      : null,
    // Last: a Red RAG is often the consequence of a gate above (see causesFirst).
    gates.maximumRag === null ? null : checkRag(facts.rag, gates.maximumRag),
  ]
  const failingGates = failing.filter((gate): gate is FailingGate => gate !== null)
  return { eligible: failingGates.length === 0, failingGates }
}

/**
 * The failing gates in the order to read them to a person: the overall RAG last. A Red RAG is often the consequence of
 * another failing gate (an active embargo, insolvency, an Inadequate rating), so the cause comes first.
 */
export function causesFirst<T extends { gate: string }>(failingGates: readonly T[]): T[] {
  return [...failingGates.filter((gate) => gate.gate !== 'rag'), ...failingGates.filter((gate) => gate.gate === 'rag')]
}

/** Finds the vocabulary word a human value starts with ("Requires improvement (Safe: ...)" -> requires_improvement). */
function leadingWord<T extends string>(value: string | null, words: readonly T[]): T | null {
  if (value === null) return null
  const normalised = normaliseWord(value)
  const longestFirst = [...words].sort((a, b) => b.length - a.length)
  return longestFirst.find((word) => normalised === word || normalised.startsWith(`${word}_`)) ?? null
}

function readCqc(indicator: IndicatorResult | undefined): CqcRating | null {
  if (!indicator || indicator.level === 'none') return null
  const rating = leadingWord(indicator.value, CQC_RATINGS)
  if (rating) return rating
  const normalised = normaliseWord(indicator.value ?? '')
  return /not_(yet_)?rated|no_published_rating/.test(normalised) ? 'not_rated' : null
}

function withCqcStanding(standing: EligibilityFacts['cqcStanding']): Pick<EligibilityFacts, 'cqcStanding'> {
  return standing ? { cqcStanding: standing } : {}
}

function readCqcStanding(indicator: IndicatorResult | undefined): EligibilityFacts['cqcStanding'] {
  const value = normaliseWord(indicator?.value ?? '')
  if (value === 'deregistered') return 'deregistered'
  return /(^|_)dormant$/.test(value) ? 'dormant' : null
}

/** Finds a Companies House status anywhere in a human value ("In administration" -> administration). */
function readCompanyStatus(value: string | null): string | null {
  if (value === null) return null
  const padded = `_${normaliseWord(value)}_`
  const longestFirst = [...COMPANY_STATUSES].sort((a, b) => b.length - a.length)
  return longestFirst.find((status) => padded.includes(`_${status.replace(/-/g, '_')}_`)) ?? null
}

/** Active when Red, or when the value says so (the rule set may give an active embargo another level). */
function embargoActive(indicator: IndicatorResult | undefined): boolean {
  if (!indicator || indicator.level === 'none') return false
  return indicator.level === 'red' || normaliseWord(indicator.value ?? '') === 'active'
}

function readManager(indicator: IndicatorResult | undefined): boolean | null {
  if (!indicator || indicator.level === 'none') return null
  if (normaliseWord(indicator.value ?? '').includes('vacan')) return false
  return indicator.level === 'green'
}

/**
 * Reads the facts out of a RiskResult's indicators. The human `value` text is not a stable contract, so this is a
 * best effort (unrecognised CQC words read as "no rating", which fails the CQC gate: the gate fails closed);
 * prefer building `EligibilityFacts` from observations.
 */
export function factsFromRiskResult(risk: RiskResult): EligibilityFacts {
  const byKey = new Map(risk.indicators.map((indicator) => [indicator.key, indicator]))
  const cqc = byKey.get('cqc_rating')
  const embargo = byKey.get('embargo')
  const insolvency = byKey.get('insolvency')
  const companyStatus = insolvency && insolvency.level !== 'none' ? readCompanyStatus(insolvency.value) : null
  const quality = byKey.get('quality_assessment')
  return {
    cqcOverall: readCqc(cqc),
    cqcRatedOn: cqc?.date ?? null,
    ...withCqcStanding(readCqcStanding(cqc)),
    rag: risk.rag,
    embargoActiveSince: embargoActive(embargo) ? (embargo?.date ?? risk.asOf) : null,
    insolvent: insolvency?.level === 'red' || isInsolventStatus(companyStatus),
    companyStatus,
    qualityOutcome: quality && quality.level !== 'none' ? leadingWord(quality.value, ASSESSMENT_OUTCOMES) : null,
    managerInPost: readManager(byKey.get('manager_vacancy')),
  }
}
