import { z } from 'zod'
import { parseCouncilDate } from '../../domain/dates.js'
import { COMPANY_STATUSES } from '../../domain/vocabulary.js'
import { FailureStreak, HttpClient, mapConcurrently, SourceHttpError, type HttpClientOptions } from '../http.js'
import { companiesHouseRateLimiter } from '../rateLimiter.js'
import {
  describeIssues,
  distinctIds,
  ResultBuilder,
  type ConnectorRequest,
  type ConnectorResult,
  type SourceObservation,
} from '../types.js'

export const COMPANIES_HOUSE_SOURCE_NAME = 'Companies House'

const text = z.string().nullish()

/** `GET /company/{number}` (FORMATS §5): only what the dashboard uses; unknown fields are ignored. */
export const companyProfileSchema = z.object({
  company_number: z.string().min(1),
  company_name: text,
  company_status: z.string().trim().min(1),
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

export interface CompaniesHouseClientOptions extends Partial<Omit<HttpClientOptions, 'baseUrl' | 'sourceName'>> {
  /** e.g. https://api.company-information.service.gov.uk */
  baseUrl: string
  apiKey?: string
}

/**
 * Company numbers are 8 characters: "6070408" is "06070408"; letter prefixes ("SC", "NI", "OC"...) keep their
 * digits padded to 6. Returns null for something that is not a company number.
 */
export function normaliseCompanyNumber(raw: string): string | null {
  const text = raw.trim().toUpperCase().replace(/\s+/g, '')
  if (/^\d{1,8}$/.test(text)) return text.padStart(8, '0')
  const prefixed = /^([A-Z]{2})(\d{1,6})$/.exec(text)
  if (prefixed) return `${prefixed[1]}${(prefixed[2] as string).padStart(6, '0')}`
  return /^[A-Z0-9]{8}$/.test(text) ? text : null
}

export class CompaniesHouseClient {
  readonly http: HttpClient

  constructor(options: CompaniesHouseClientOptions) {
    const { apiKey, headers, ...rest } = options
    this.http = new HttpClient({
      rateLimiter: companiesHouseRateLimiter(),
      ...rest,
      sourceName: COMPANIES_HOUSE_SOURCE_NAME,
      headers: {
        ...(apiKey ? { Authorization: `Basic ${Buffer.from(`${apiKey}:`).toString('base64')}` } : {}),
        ...headers,
      },
    })
  }

  /** The raw company profile, or undefined on 404. */
  getCompany(companyNumber: string): Promise<unknown> {
    return this.http.getJsonIfExists(`/company/${encodeURIComponent(companyNumber)}`)
  }
}

/**
 * Reads each council company's profile and maps company_status to an insolvency observation. Companies House
 * does not date a status, so observedOn is the run date the status was first seen: the natural key
 * `ch:<number>:<status>[:<detail>]` makes a status that stays the same add nothing on later nights.
 */
export async function readCompaniesHouse(
  client: CompaniesHouseClient,
  request: ConnectorRequest & { concurrency?: number },
): Promise<ConnectorResult<CompanyFacts>> {
  const result = new ResultBuilder<CompanyFacts>('companies_house')
  const ids = distinctIds(request.ids)
  const failures: SourceHttpError[] = []
  let done = 0
  let requested = 0
  const streak = new FailureStreak(COMPANIES_HOUSE_SOURCE_NAME, request.maxConsecutiveFailures)
  await mapConcurrently(ids, request.concurrency ?? 2, async (id) => {
    try {
      const number = normaliseCompanyNumber(id)
      if (number === null) {
        result.reject(id, `"${id}" is not a company number`, 'companies_house_number')
        return
      }
      requested++
      const body = await client.getCompany(number)
      streak.answered()
      if (body === undefined) {
        result.notFound.push(id)
        return
      }
      result.read++
      const parsed = companyProfileSchema.safeParse(body)
      if (!parsed.success) {
        const { field, reason } = describeIssues(parsed.error.issues)
        result.reject(id, reason, field)
        return
      }
      const { observation, facts } = mapCompanyProfile(parsed.data, request.asOf)
      result.records.push({ match: { kind: 'company', id }, observations: [observation], facts })
    } catch (error) {
      if (!(error instanceof SourceHttpError) || error.status === 401 || error.status === 403) throw error
      failures.push(error)
      result.reject(id, error.message)
      streak.failed(error)
    } finally {
      request.onProgress?.(++done, ids.length)
    }
  })
  if (failures.length > 0 && failures.length === requested) throw failures[0]
  return result.build()
}

export function mapCompanyProfile(
  profile: CompanyProfile,
  asOf: string,
): { observation: SourceObservation; facts: CompanyFacts } {
  const number = profile.company_number.trim().toUpperCase()
  const status = profile.company_status.trim().toLowerCase()
  const statusDetail = profile.company_status_detail?.trim().toLowerCase() || null
  const facts: CompanyFacts = {
    companyNumber: number,
    companyName: profile.company_name ?? null,
    status,
    statusDetail,
    type: profile.type ?? null,
    dateOfCreation: parseCouncilDate(profile.date_of_creation ?? ''),
    dateOfCessation: parseCouncilDate(profile.date_of_cessation ?? ''),
    hasInsolvencyHistory: profile.has_insolvency_history === true,
    accountsOverdue: profile.accounts?.overdue === true,
    confirmationStatementOverdue: profile.confirmation_statement?.overdue === true,
  }
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
      ...((COMPANY_STATUSES as readonly string[]).includes(status) ? {} : { unrecognisedStatus: true }),
    },
    reference: number,
    naturalKey: `ch:${number}:${status}${statusDetail ? `:${statusDetail}` : ''}`,
  }
  return { observation, facts }
}
