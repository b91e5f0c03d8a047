import { z } from 'zod'
import { parseCouncilDate } from '../../domain/dates.js'
import { COMPANY_STATUSES } from '../../domain/vocabulary.js'
import type { SourceObservation } from '../types.js'
import { caseForStatus, describeCase, isInsolvencyStatus, type InsolvencyCase } from './insolvencyCases.js'

const text = z.string().nullish()

/**
 * `GET /company/{number}` and the stream's `data` (FORMATS §5): only what the dashboard uses; unknown fields are
 * ignored. company_status may be absent (some oversea companies): see mapCompanyProfile.
 */
export const companyProfileSchema = z.object({
  company_number: z.string().trim().min(1),
  company_name: text,
  company_status: text,
  company_status_detail: text,
  type: text,
  date_of_creation: text,
  date_of_cessation: text,
  has_insolvency_history: z.boolean().nullish(),
  has_been_liquidated: z.boolean().nullish(),
  accounts: z.object({ overdue: z.boolean().nullish(), next_due: text }).nullish(),
  confirmation_statement: z.object({ overdue: z.boolean().nullish(), next_due: text }).nullish(),
})
export type CompanyProfile = z.infer<typeof companyProfileSchema>

export interface CompanyFacts {
  companyNumber: string
  companyName: string | null
  status: string
  statusDetail: string | null
  type: string | null
  dateOfCreation: string | null
  dateOfCessation: string | null
  hasInsolvencyHistory: boolean
  accountsOverdue: boolean
  confirmationStatementOverdue: boolean
}

/** Statuses that end a company, dated by its date_of_cessation. */
const CESSATION_STATUSES = new Set(['dissolved', 'converted-closed', 'closed', 'removed'])
/** Company types registered abroad, whose profile may carry no company_status. */
const OVERSEA_TYPES = new Set(['oversea-company', 'registered-overseas-entity', 'uk-establishment'])
/** Stored as the value of an oversea company's profile that has no status (the indicator says so, uncoloured). */
export const NO_STATUS = 'no-status'

export function normaliseStatus(raw: string | null | undefined): string | null {
  const status = raw
    ?.trim()
    .toLowerCase()
    .replace(/[\s_]+/g, '-')
  return status ? status : null
}

/**
 * Whether the insolvency resource is worth a request: it dates an insolvency status, and explains an insolvency
 * history on a company whose status the profile cannot date (an active company in a moratorium, say).
 */
export function needsInsolvencyCases(profile: CompanyProfile): boolean {
  const status = normaliseStatus(profile.company_status)
  if (status !== null && isInsolvencyStatus(status)) return true
  if (profile.has_insolvency_history !== true) return false
  return !(status !== null && CESSATION_STATUSES.has(status) && parseCouncilDate(profile.date_of_cessation ?? ''))
}

/** A profile the dashboard cannot use, with the reason, or null when it can be mapped. */
export function profileProblem(profile: CompanyProfile): { field: string; reason: string } | null {
  if (normaliseStatus(profile.company_status) !== null) return null
  if (OVERSEA_TYPES.has(normaliseStatus(profile.type) ?? '')) return null
  return { field: 'company_status', reason: 'company_status: the profile has no company status' }
}

/**
 * The insolvency observation of one profile. A status is dated from the company's own dates (`statusSince`): the
 * date of cessation for a dissolved or closed company, the start of the matching insolvency case for
 * administration, liquidation, receivership or a voluntary arrangement. observedOn stays the date the status was
 * first seen (the run date, or the stream event's date), which orders a company's statuses as they were learnt.
 * The natural key `ch:<number>:<status>[:<detail>]` makes a status that stays the same add nothing on later nights.
 */
export function mapCompanyProfile(
  profile: CompanyProfile,
  asOf: string,
  cases: readonly InsolvencyCase[] = [],
): { observation: SourceObservation; facts: CompanyFacts } {
  const number = profile.company_number.trim().toUpperCase()
  const status = normaliseStatus(profile.company_status) ?? NO_STATUS
  const statusDetail = normaliseStatus(profile.company_status_detail)
  const facts: CompanyFacts = {
    companyNumber: number,
    companyName: profile.company_name ?? null,
    status,
    statusDetail,
    type: normaliseStatus(profile.type),
    dateOfCreation: parseCouncilDate(profile.date_of_creation ?? ''),
    dateOfCessation: parseCouncilDate(profile.date_of_cessation ?? ''),
    hasInsolvencyHistory: profile.has_insolvency_history === true,
    accountsOverdue: profile.accounts?.overdue === true,
    confirmationStatementOverdue: profile.confirmation_statement?.overdue === true,
  }
  const dating = statusDating(status, facts.dateOfCessation, cases)
  const observation: SourceObservation = {
    indicator: 'insolvency',
    source: 'companies_house',
    observedOn: asOf,
    // Companies House's own spelling (hyphens, as COMPANY_STATUSES): an unknown status passes through as given.
    value: status,
    detail: {
      companyNumber: number,
      ...(statusDetail ? { statusDetail } : {}),
      ...(facts.companyName ? { companyName: facts.companyName } : {}),
      hasInsolvencyHistory: facts.hasInsolvencyHistory,
      accountsOverdue: facts.accountsOverdue,
      ...(facts.dateOfCessation ? { dateOfCessation: facts.dateOfCessation } : {}),
      ...dating,
      ...(status === NO_STATUS ? { missingStatus: true, ...(facts.type ? { companyType: facts.type } : {}) } : {}),
      ...(status === NO_STATUS || (COMPANY_STATUSES as readonly string[]).includes(status)
        ? {}
        : { unrecognisedStatus: true }),
    },
    reference: number,
    naturalKey: `ch:${number}:${status}${statusDetail ? `:${statusDetail}` : ''}`,
  }
  return { observation, facts }
}

/** The company's own date for its status and where it came from, as observation detail fields. */
function statusDating(
  status: string,
  dateOfCessation: string | null,
  cases: readonly InsolvencyCase[],
): Record<string, unknown> {
  if (CESSATION_STATUSES.has(status)) {
    return dateOfCessation ? { statusSince: dateOfCessation, statusDateFrom: 'date of cessation' } : {}
  }
  const insolvencyCase = isInsolvencyStatus(status)
    ? caseForStatus(status, cases)
    : (cases.find((c) => !c.ended && c.startedOn !== null) ?? null)
  if (!insolvencyCase) return {}
  const caseDetail = {
    insolvencyCase: {
      type: insolvencyCase.type,
      ...(insolvencyCase.number ? { number: insolvencyCase.number } : {}),
      startedOn: insolvencyCase.startedOn,
      startedBy: insolvencyCase.startedBy,
    },
  }
  return isInsolvencyStatus(status)
    ? { statusSince: insolvencyCase.startedOn, statusDateFrom: describeCase(insolvencyCase), ...caseDetail }
    : caseDetail
}
