import { FailureStreak, HttpClient, mapConcurrently, SourceHttpError, type HttpClientOptions } from '../http.js'
import { companiesHouseRateLimiter } from '../rateLimiter.js'
import { describeIssues, distinctIds, ResultBuilder, type ConnectorRequest, type ConnectorResult } from '../types.js'
import { readInsolvencyCases, type InsolvencyCase } from './insolvencyCases.js'
import {
  companyProfileSchema,
  mapCompanyProfile,
  needsInsolvencyCases,
  profileProblem,
  type CompanyFacts,
} from './profile.js'

export { companyProfileSchema, mapCompanyProfile, type CompanyFacts, type CompanyProfile } from './profile.js'

export const COMPANIES_HOUSE_SOURCE_NAME = 'Companies House'

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

  /** The raw insolvency resource (its cases), or undefined on 404. */
  getInsolvency(companyNumber: string): Promise<unknown> {
    return this.http.getJsonIfExists(`/company/${encodeURIComponent(companyNumber)}/insolvency`)
  }
}

/**
 * Reads each council company's profile (and, when the profile says there is one, its insolvency resource) and maps
 * it to an insolvency observation dated from the company's own dates (see mapCompanyProfile).
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
      const problem = profileProblem(parsed.data)
      if (problem) {
        result.reject(id, problem.reason, problem.field)
        return
      }
      const cases = needsInsolvencyCases(parsed.data) ? await insolvencyCasesOf(client, number, id, result) : []
      const { observation, facts } = mapCompanyProfile(parsed.data, request.asOf, cases)
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

/**
 * The company's insolvency cases. A resource that fails or is missing costs only the status's date (a warning),
 * never the status itself.
 */
export async function fetchInsolvencyCases(
  client: CompaniesHouseClient,
  number: string,
): Promise<{ cases: InsolvencyCase[]; warning?: string }> {
  try {
    const body = await client.getInsolvency(number)
    if (body === undefined) {
      return {
        cases: [],
        warning: 'Companies House has no insolvency resource for this company; its status is undated',
      }
    }
    return { cases: readInsolvencyCases(body) }
  } catch (error) {
    if (!(error instanceof SourceHttpError) || error.status === 401 || error.status === 403) throw error
    return { cases: [], warning: `insolvency resource not read (${error.message}); its status is undated` }
  }
}

async function insolvencyCasesOf(
  client: CompaniesHouseClient,
  number: string,
  id: string,
  result: ResultBuilder<CompanyFacts>,
): Promise<InsolvencyCase[]> {
  const { cases, warning } = await fetchInsolvencyCases(client, number)
  if (warning) result.warnings.push(`${id}: ${warning}`)
  return cases
}
