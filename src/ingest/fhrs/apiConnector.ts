import { z } from 'zod'
import { FailureStreak, HttpClient, mapConcurrently, SourceHttpError, type HttpClientOptions } from '../http.js'
import { describeIssues, distinctIds, ResultBuilder, type ConnectorRequest, type ConnectorResult } from '../types.js'
import { canonicalFhrsId, mapFhrsEstablishment, type FhrsEstablishment, type FhrsFacts } from './establishment.js'

export const FHRS_SOURCE_NAME = 'FSA food hygiene API'

const text = z.string().nullish()
const score = z.union([z.number(), z.string()]).nullish()

/** `GET /Establishments/{id}` (FORMATS §4); unknown fields are ignored. */
export const fhrsApiEstablishmentSchema = z.object({
  FHRSID: z.union([z.number().int(), z.string().regex(/^\d+$/)]),
  BusinessName: text,
  BusinessType: text,
  BusinessTypeID: z.union([z.number(), z.string()]).nullish(),
  PostCode: text,
  RatingValue: z.union([z.string(), z.number()]).nullish(),
  RatingDate: text,
  LocalAuthorityCode: text,
  LocalAuthorityName: text,
  SchemeType: text,
  NewRatingPending: z.union([z.boolean(), z.string()]).nullish(),
  scores: z.object({ Hygiene: score, Structural: score, ConfidenceInManagement: score }).nullish(),
})

export interface FhrsApiClientOptions extends Partial<Omit<HttpClientOptions, 'baseUrl' | 'sourceName'>> {
  /** e.g. https://api.ratings.food.gov.uk */
  baseUrl: string
}

export class FhrsApiClient {
  readonly http: HttpClient

  constructor(options: FhrsApiClientOptions) {
    const { headers, ...rest } = options
    this.http = new HttpClient({
      ...rest,
      sourceName: FHRS_SOURCE_NAME,
      headers: { 'x-api-version': '2', Accept: 'application/json', ...headers },
    })
  }

  /** The raw establishment payload, or undefined on 404. */
  getEstablishment(fhrsId: string): Promise<unknown> {
    return this.http.getJsonIfExists(`/Establishments/${encodeURIComponent(fhrsId)}`)
  }
}

export async function readFhrsApi(
  client: FhrsApiClient,
  request: ConnectorRequest & { concurrency?: number },
): Promise<ConnectorResult<FhrsFacts>> {
  const result = new ResultBuilder<FhrsFacts>('fhrs_api')
  const ids = distinctIds(request.ids)
  const failures: SourceHttpError[] = []
  let done = 0
  const streak = new FailureStreak(FHRS_SOURCE_NAME, request.maxConsecutiveFailures)
  await mapConcurrently(ids, request.concurrency ?? 4, async (id) => {
    try {
      const body = await client.getEstablishment(canonicalFhrsId(id))
      streak.answered()
      if (body === undefined) {
        result.notFound.push(id)
        return
      }
      result.read++
      const parsed = fhrsApiEstablishmentSchema.safeParse(unwrapEnvelope(body))
      if (!parsed.success) {
        const { field, reason } = describeIssues(parsed.error.issues)
        result.reject(id, reason, field)
        return
      }
      const establishment = fromApi(parsed.data)
      if (establishment.fhrsId !== canonicalFhrsId(id)) {
        result.reject(id, `asked for ${id} but the API answered with ${establishment.fhrsId}`, 'FHRSID')
        return
      }
      const mapped = mapFhrsEstablishment(establishment, request.asOf, 'fhrs_api')
      result.rejects.push(...mapped.rejects)
      result.records.push({ match: { kind: 'fhrs', id }, observations: mapped.observations, facts: mapped.facts })
    } catch (error) {
      if (!(error instanceof SourceHttpError) || error.status === 401 || error.status === 403) throw error
      failures.push(error)
      result.reject(id, error.message)
      streak.failed(error)
    } finally {
      request.onProgress?.(++done, ids.length)
    }
  })
  if (failures.length > 0 && failures.length === ids.length) throw failures[0]
  return result.build()
}

/** Some deployments answer with the search envelope `{establishments:[...]}` even for one id. */
function unwrapEnvelope(body: unknown): unknown {
  if (
    typeof body === 'object' &&
    body !== null &&
    Array.isArray((body as { establishments?: unknown }).establishments)
  ) {
    return (body as { establishments: unknown[] }).establishments[0]
  }
  return body
}

function fromApi(data: z.infer<typeof fhrsApiEstablishmentSchema>): FhrsEstablishment {
  return {
    fhrsId: canonicalFhrsId(String(data.FHRSID)),
    businessName: data.BusinessName ?? null,
    businessType: data.BusinessType ?? null,
    businessTypeId: toNumber(data.BusinessTypeID),
    postCode: data.PostCode ?? null,
    ratingValue: data.RatingValue === null || data.RatingValue === undefined ? null : String(data.RatingValue),
    ratingDate: data.RatingDate ?? null,
    localAuthorityCode: data.LocalAuthorityCode ?? null,
    localAuthorityName: data.LocalAuthorityName ?? null,
    schemeType: data.SchemeType ?? null,
    newRatingPending: toBoolean(data.NewRatingPending),
    scores: {
      hygiene: toNumber(data.scores?.Hygiene),
      structural: toNumber(data.scores?.Structural),
      confidenceInManagement: toNumber(data.scores?.ConfidenceInManagement),
    },
  }
}

export function toNumber(raw: number | string | null | undefined): number | null {
  if (raw === null || raw === undefined || (typeof raw === 'string' && raw.trim() === '')) return null
  const value = Number(raw)
  return Number.isFinite(value) ? value : null
}

export function toBoolean(raw: boolean | string | null | undefined): boolean | null {
  if (typeof raw === 'boolean') return raw
  const word = (raw ?? '').trim().toLowerCase()
  return word === 'true' ? true : word === 'false' ? false : null
}
