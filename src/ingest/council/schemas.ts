import { z } from 'zod'
import {
  ASSESSMENT_OUTCOMES,
  CONTRACT_STATUSES,
  INTELLIGENCE_KINDS,
  INTELLIGENCE_KIND_LABELS,
  SERVICE_TYPES,
  SERVICE_TYPE_LABELS,
  normaliseWord,
  type AssessmentOutcome,
  type ContractStatus,
  type IntelligenceKind,
  type ServiceType,
} from '../../domain/vocabulary.js'
import {
  companiesHouseNumber,
  cqcId,
  date,
  fhrsId,
  optional,
  required,
  serviceRef,
  text,
  vocabulary,
  wholeNumber,
} from './cells.js'

/** The kinds of council CSV file (SPEC §9 `npm run import`, SPEC §6 inbox). */
export const COUNCIL_IMPORT_KINDS = ['services', 'assessments', 'intelligence', 'safeguarding_counts'] as const
export type CouncilImportKind = (typeof COUNCIL_IMPORT_KINDS)[number]

export function isCouncilImportKind(value: string): value is CouncilImportKind {
  return (COUNCIL_IMPORT_KINDS as readonly string[]).includes(value)
}

/** A row names its service by the council's reference or by CQC location id; the file needs one of the columns. */
export const SERVICE_NAMING_COLUMNS = ['service_ref', 'cqc_location_id'] as const

/** Columns each kind must have (besides a naming column), and those it may have. Names are normalised. */
export const KIND_COLUMNS: Record<CouncilImportKind, { required: readonly string[]; optional: readonly string[] }> = {
  services: {
    required: ['name', 'provider_name', 'service_type', 'area', 'contract_status'],
    optional: ['cqc_provider_id', 'companies_house_number', 'fhrs_id', 'capacity'],
  },
  assessments: {
    required: ['assessment_date', 'outcome'],
    optional: ['assessor', 'domain_1', 'domain_2', 'domain_3', 'domain_4', 'domain_5'],
  },
  intelligence: {
    required: ['kind', 'date'],
    optional: ['end_date', 'outcome', 'reference', 'notes'],
  },
  safeguarding_counts: {
    required: ['period_start', 'period_end', 'decisions'],
    optional: [],
  },
}

export const TEXT_LIMITS = {
  name: 200,
  area: 100,
  assessor: 200,
  outcome: 100,
  reference: 200,
  notes: 4000,
} as const

interface ServiceNaming {
  /** The council's service reference, or null when the row names the service by CQC location id only. */
  serviceRef: string | null
  cqcLocationId: string | null
}

export interface ServiceRow extends ServiceNaming {
  name: string
  providerName: string
  cqcProviderId: string | null
  companiesHouseNumber: string | null
  fhrsId: string | null
  serviceType: ServiceType
  area: string
  capacity: number | null
  contractStatus: ContractStatus
}

export interface AssessmentRow extends ServiceNaming {
  assessmentDate: string
  outcome: AssessmentOutcome
  assessor: string | null
  /** domain_1 .. domain_5, null where not given. */
  domains: Array<AssessmentOutcome | null>
}

export interface IntelligenceRow extends ServiceNaming {
  kind: IntelligenceKind
  date: string
  endDate: string | null
  /** Normalised word for kinds with an outcome vocabulary; the text as given for unexpected_death. */
  outcome: string | null
  reference: string | null
  notes: string | null
}

export interface SafeguardingCountRow extends ServiceNaming {
  periodStart: string
  periodEnd: string
  decisions: number
}

export interface CouncilRowOf {
  services: ServiceRow
  assessments: AssessmentRow
  intelligence: IntelligenceRow
  safeguarding_counts: SafeguardingCountRow
}
export type CouncilRow = CouncilRowOf[CouncilImportKind]

/** CQC service type names (HSCA "Service type - ..." columns, API gacServiceTypes) and our labels, normalised. */
const SERVICE_TYPE_ALIASES: Record<string, ServiceType> = {
  domiciliary_care_service: 'home_care',
  homecare_agencies: 'home_care',
  care_home_service_with_nursing: 'care_home_nursing',
  nursing_homes: 'care_home_nursing',
  care_home_service_without_nursing: 'care_home_residential',
  residential_homes: 'care_home_residential',
  supported_living_service: 'supported_living',
  extra_care_housing_services: 'extra_care',
  ...labelAliases(SERVICE_TYPE_LABELS),
}

const INTELLIGENCE_KIND_ALIASES: Record<string, IntelligenceKind> = labelAliases(INTELLIGENCE_KIND_LABELS)

function labelAliases<W extends string>(labels: Record<W, string>): Record<string, W> {
  return Object.fromEntries(Object.entries<string>(labels).map(([word, label]) => [normaliseWord(label), word as W]))
}

const namingFields = {
  service_ref: optional(serviceRef),
  cqc_location_id: optional(cqcId),
}

export const serviceRowSchema = z
  .object({
    ...namingFields,
    name: required(text(TEXT_LIMITS.name)),
    provider_name: required(text(TEXT_LIMITS.name)),
    cqc_provider_id: optional(cqcId),
    companies_house_number: optional(companiesHouseNumber),
    fhrs_id: optional(fhrsId),
    service_type: required(vocabulary(SERVICE_TYPES, SERVICE_TYPE_ALIASES)),
    area: required(text(TEXT_LIMITS.area)),
    capacity: optional(wholeNumber),
    contract_status: required(vocabulary(CONTRACT_STATUSES)),
  })
  .transform((row): ServiceRow => ({
    serviceRef: row.service_ref,
    cqcLocationId: row.cqc_location_id,
    name: row.name,
    providerName: row.provider_name,
    cqcProviderId: row.cqc_provider_id,
    companiesHouseNumber: row.companies_house_number,
    fhrsId: row.fhrs_id,
    serviceType: row.service_type,
    area: row.area,
    capacity: row.capacity,
    contractStatus: row.contract_status,
  }))

const assessmentOutcome = vocabulary(ASSESSMENT_OUTCOMES)

export function assessmentRowSchema(today: string) {
  return z
    .object({
      ...namingFields,
      assessment_date: required(date({ notAfter: today })),
      outcome: required(assessmentOutcome),
      assessor: optional(text(TEXT_LIMITS.assessor)),
      domain_1: optional(assessmentOutcome),
      domain_2: optional(assessmentOutcome),
      domain_3: optional(assessmentOutcome),
      domain_4: optional(assessmentOutcome),
      domain_5: optional(assessmentOutcome),
    })
    .transform((row): AssessmentRow => ({
      serviceRef: row.service_ref,
      cqcLocationId: row.cqc_location_id,
      assessmentDate: row.assessment_date,
      outcome: row.outcome,
      assessor: row.assessor,
      domains: [row.domain_1, row.domain_2, row.domain_3, row.domain_4, row.domain_5],
    }))
}

/**
 * SPEC §9's table, per kind: whether end_date is allowed (and may be in the future), and the outcome vocabulary
 * ('free': any text; 'none': outcome must be blank).
 */
interface KindRule {
  endDate: 'not_allowed' | 'past' | 'past_or_future'
  endDateMeaning?: string
  outcomes: readonly string[] | 'free' | 'none'
  outcomeRequired?: boolean
}
export const INTELLIGENCE_RULES: Record<IntelligenceKind, KindRule> = {
  safeguarding_decision: {
    endDate: 'not_allowed',
    outcomes: ['substantiated', 'not_substantiated', 'inconclusive', 'open'],
  },
  embargo: {
    endDate: 'past_or_future',
    endDateMeaning: 'the date the embargo was or will be lifted',
    outcomes: 'none',
  },
  default_notice: {
    endDate: 'past',
    endDateMeaning: 'the date the notice was resolved',
    outcomes: ['open', 'resolved'],
  },
  unexpected_death: { endDate: 'not_allowed', outcomes: 'free' },
  contract_concern: {
    endDate: 'not_allowed',
    outcomes: ['substantiated', 'not_substantiated', 'open'],
    outcomeRequired: true,
  },
  manager_vacancy: { endDate: 'past', endDateMeaning: 'the date the post was filled', outcomes: 'none' },
}

export function intelligenceRowSchema(today: string) {
  return z
    .object({
      ...namingFields,
      kind: required(vocabulary(INTELLIGENCE_KINDS, INTELLIGENCE_KIND_ALIASES)),
      date: required(date({ notAfter: today })),
      end_date: optional(date()),
      outcome: optional(text(TEXT_LIMITS.outcome)),
      reference: optional(text(TEXT_LIMITS.reference)),
      notes: optional(text(TEXT_LIMITS.notes, { multiline: true })),
    })
    .transform((row, ctx): IntelligenceRow => {
      const rule = INTELLIGENCE_RULES[row.kind]
      const problem = (column: string, message: string) => ctx.addIssue({ code: 'custom', path: [column], message })

      if (row.end_date !== null) {
        if (rule.endDate === 'not_allowed') problem('end_date', `must be blank for ${row.kind}`)
        else if (row.end_date < row.date) problem('end_date', `${row.end_date} is before date ${row.date}`)
        else if (rule.endDate === 'past' && row.end_date > today) {
          problem('end_date', `${row.end_date} is in the future (today is ${today}): it is ${rule.endDateMeaning}`)
        }
      }

      let outcome: string | null = row.outcome
      if (outcome === null) {
        if (rule.outcomeRequired) problem('outcome', `is required for ${row.kind}: one of ${listOf(rule.outcomes)}`)
      } else if (rule.outcomes === 'none') {
        problem('outcome', `must be blank for ${row.kind}`)
      } else if (rule.outcomes !== 'free') {
        const word = normaliseWord(outcome)
        if (rule.outcomes.includes(word)) outcome = word
        else problem('outcome', `"${outcome}" is not an outcome for ${row.kind}: use one of ${listOf(rule.outcomes)}`)
      }

      if (row.kind === 'default_notice') {
        if (outcome === 'open' && row.end_date !== null) {
          problem('outcome', 'is open, but end_date says when the notice was resolved')
        }
        if (outcome === 'resolved' && row.end_date === null) {
          problem('end_date', 'is blank, but outcome is resolved: give the date the notice was resolved')
        }
      }

      return {
        serviceRef: row.service_ref,
        cqcLocationId: row.cqc_location_id,
        kind: row.kind,
        date: row.date,
        endDate: row.end_date,
        outcome,
        reference: row.reference,
        notes: row.notes,
      }
    })
}

function listOf(outcomes: KindRule['outcomes']): string {
  return Array.isArray(outcomes) ? outcomes.join(', ') : ''
}

export function safeguardingCountRowSchema(today: string) {
  return z
    .object({
      ...namingFields,
      period_start: required(date({ notAfter: today })),
      // A period may still be running (e.g. this month so far), so its end may be later than today.
      period_end: required(date()),
      decisions: required(wholeNumber),
    })
    .transform((row, ctx): SafeguardingCountRow => {
      if (row.period_end < row.period_start) {
        ctx.addIssue({
          code: 'custom',
          path: ['period_end'],
          message: `${row.period_end} is before period_start ${row.period_start}`,
        })
      }
      return {
        serviceRef: row.service_ref,
        cqcLocationId: row.cqc_location_id,
        periodStart: row.period_start,
        periodEnd: row.period_end,
        decisions: row.decisions,
      }
    })
}

/** The row schema of each kind, for the given today (ISO date) against which future dates are refused. */
export function rowSchemaFor(kind: CouncilImportKind, today: string): z.ZodType<CouncilRow, Record<string, string>> {
  switch (kind) {
    case 'services':
      return serviceRowSchema
    case 'assessments':
      return assessmentRowSchema(today)
    case 'intelligence':
      return intelligenceRowSchema(today)
    case 'safeguarding_counts':
      return safeguardingCountRowSchema(today)
  }
}
