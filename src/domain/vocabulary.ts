import { z } from 'zod'

/** The ten indicators of SPEC §3, in display order. These keys are part of the public API (SPEC §9). */
export const INDICATOR_KEYS = [
  'quality_assessment',
  'cqc_rating',
  'food_hygiene',
  'safeguarding',
  'embargo',
  'default_notice',
  'unexpected_deaths',
  'contract_concerns',
  'insolvency',
  'manager_vacancy',
] as const
export const indicatorKeySchema = z.enum(INDICATOR_KEYS)
export type IndicatorKey = z.infer<typeof indicatorKeySchema>

export const INDICATOR_LABELS: Record<IndicatorKey, string> = {
  quality_assessment: 'Quality assessment',
  cqc_rating: 'CQC rating',
  food_hygiene: 'Food hygiene rating',
  safeguarding: 'Safeguarding decisions',
  embargo: 'Embargo on new placements',
  default_notice: 'Contract default notices',
  unexpected_deaths: 'Unexpected deaths',
  contract_concerns: 'Substantiated contract concerns',
  insolvency: 'Company status',
  manager_vacancy: 'Registered manager',
}

export const RAGS = ['red', 'amber', 'green'] as const
export const ragSchema = z.enum(RAGS)
export type Rag = z.infer<typeof ragSchema>
/** An indicator's level: a RAG, or 'none' when there is no data for it. */
export type Level = Rag | 'none'

export const RAG_ORDER: Record<Rag, number> = { green: 0, amber: 1, red: 2 }
export function worseRag(a: Rag, b: Rag): Rag {
  return RAG_ORDER[a] >= RAG_ORDER[b] ? a : b
}

export const SERVICE_TYPES = [
  'home_care',
  'care_home_nursing',
  'care_home_residential',
  'supported_living',
  'extra_care',
  'day_service',
  'other',
] as const
export type ServiceType = (typeof SERVICE_TYPES)[number]
export const SERVICE_TYPE_LABELS: Record<ServiceType, string> = {
  home_care: 'Home care',
  care_home_nursing: 'Care home with nursing',
  care_home_residential: 'Care home without nursing',
  supported_living: 'Supported living',
  extra_care: 'Extra care',
  day_service: 'Day service',
  other: 'Other',
}

export const CONTRACT_STATUSES = ['contracted', 'spot', 'off_contract'] as const
export type ContractStatus = (typeof CONTRACT_STATUSES)[number]

export const ASSESSMENT_OUTCOMES = ['excellent', 'good', 'requires_improvement', 'poor'] as const
export type AssessmentOutcome = (typeof ASSESSMENT_OUTCOMES)[number]

/** CQC overall / key question ratings, normalised. `not_rated` covers "No published rating", "Inspected but not rated" etc. */
export const CQC_RATINGS = ['outstanding', 'good', 'requires_improvement', 'inadequate', 'not_rated'] as const
export type CqcRating = (typeof CQC_RATINGS)[number]
export const CQC_KEY_QUESTIONS = ['safe', 'effective', 'caring', 'responsive', 'well_led'] as const
export type CqcKeyQuestion = (typeof CQC_KEY_QUESTIONS)[number]

/** Companies House company_status values (companieshouse/api-enumerations constants.yml). */
export const COMPANY_STATUSES = [
  'active',
  'dissolved',
  'liquidation',
  'receivership',
  'converted-closed',
  'voluntary-arrangement',
  'insolvency-proceedings',
  'administration',
  'open',
  'closed',
  'registered',
  'removed',
] as const
export type CompanyStatus = (typeof COMPANY_STATUSES)[number]

/** Kinds of council intelligence row (SPEC §9), and the indicator each feeds. */
export const INTELLIGENCE_KINDS = [
  'safeguarding_decision',
  'embargo',
  'default_notice',
  'unexpected_death',
  'contract_concern',
  'manager_vacancy',
] as const
export type IntelligenceKind = (typeof INTELLIGENCE_KINDS)[number]
export const INDICATOR_OF_KIND: Record<IntelligenceKind, IndicatorKey> = {
  safeguarding_decision: 'safeguarding',
  embargo: 'embargo',
  default_notice: 'default_notice',
  unexpected_death: 'unexpected_deaths',
  contract_concern: 'contract_concerns',
  manager_vacancy: 'manager_vacancy',
}
export const INTELLIGENCE_KIND_LABELS: Record<IntelligenceKind, string> = {
  safeguarding_decision: 'Safeguarding decision',
  embargo: 'Embargo on new placements',
  default_notice: 'Contract default notice',
  unexpected_death: 'Unexpected death',
  contract_concern: 'Contract concern',
  manager_vacancy: 'Registered manager vacancy',
}

/**
 * Normalises a vocabulary word the way SPEC §9 asks: case-insensitive; spaces, hyphens and underscores alike.
 * "Requires Improvement" -> "requires_improvement".
 */
export function normaliseWord(raw: string): string {
  return raw
    .trim()
    .toLowerCase()
    .replace(/[\s\-_]+/g, '_')
}

/** Where an observation came from. Connectors and council channels each have one. */
export const SOURCES = [
  'cqc_api',
  'cqc_file',
  'fhrs_api',
  'fhrs_xml',
  'companies_house',
  'council_form',
  'council_csv',
  'council_inbox',
  'council_api',
  'demo',
] as const
export type Source = (typeof SOURCES)[number]
export const SOURCE_LABELS: Record<Source, string> = {
  cqc_api: 'CQC API',
  cqc_file: 'CQC data file',
  fhrs_api: 'FSA food hygiene API',
  fhrs_xml: 'FSA food hygiene open data',
  companies_house: 'Companies House',
  council_form: 'Council entry',
  council_csv: 'Council CSV import',
  council_inbox: 'Council file (inbox)',
  council_api: 'Council API',
  demo: 'Demo data',
}
