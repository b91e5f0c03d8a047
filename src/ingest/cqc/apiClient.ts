import type { z } from 'zod'
import { HttpClient, type HttpClientOptions, type SoftLimitDetector } from '../http.js'
import { cqcRateLimiter } from '../rateLimiter.js'
import { describeIssues } from '../types.js'
import {
  cqcChangesPageSchema,
  cqcLocationsPageSchema,
  cqcProviderSchema,
  type CqcLocationSummary,
  type CqcProvider,
} from './schema.js'

export const CQC_SOURCE_NAME = 'CQC API'
export const DEFAULT_USER_AGENT = 'provider-risk-dashboard (council adult social care; +https://github.com/)'

export interface CqcApiClientOptions extends Partial<Omit<HttpClientOptions, 'baseUrl' | 'sourceName' | 'softLimit'>> {
  /** e.g. https://api.service.cqc.org.uk/public/v1 (a legacy `?partnerCode=X` query is kept on every request). */
  baseUrl: string
  apiKey?: string
  /** CQC answers 403 to requests without one. */
  userAgent?: string
}

/** CQC's soft limit: HTTP 200 with `{"statusCode":429,"message":"... Try again in N seconds."}`. */
export const cqcSoftLimit: SoftLimitDetector = (body) => {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null
  const { statusCode, message } = body as { statusCode?: unknown; message?: unknown }
  if (Number(statusCode) !== 429) return null
  const seconds = typeof message === 'string' ? /(\d+(?:\.\d+)?)\s*sec/i.exec(message) : null
  return seconds ? { waitMs: Math.ceil(Number(seconds[1]) * 1000) } : {}
}

export class CqcApiClient {
  readonly http: HttpClient

  constructor(options: CqcApiClientOptions) {
    const { apiKey, userAgent, headers, ...rest } = options
    this.http = new HttpClient({
      rateLimiter: cqcRateLimiter(),
      ...rest,
      sourceName: CQC_SOURCE_NAME,
      softLimit: cqcSoftLimit,
      headers: {
        'User-Agent': userAgent ?? DEFAULT_USER_AGENT,
        ...(apiKey ? { 'Ocp-Apim-Subscription-Key': apiKey } : {}),
        ...headers,
      },
    })
  }

  /** The raw location payload (validated by the connector, so problems become rejects), or undefined on 404. */
  getLocation(locationId: string): Promise<unknown> {
    return this.http.getJsonIfExists(`/locations/${encodeURIComponent(locationId)}`)
  }

  /** The provider, or undefined on 404. Throws when the payload is not a provider. */
  async getProvider(providerId: string): Promise<CqcProvider | undefined> {
    const path = `/providers/${encodeURIComponent(providerId)}`
    const body = await this.http.getJsonIfExists(path)
    if (body === undefined) return undefined
    return parseOrThrow(cqcProviderSchema, body, path)
  }

  /** Every location summary, page by page (`GET /locations?page=&perPage=` plus any list filters). */
  async *listLocations(
    filters: Record<string, string> = {},
    perPage: number = 1000,
  ): AsyncGenerator<CqcLocationSummary, void, undefined> {
    for (let page = 1; ; page++) {
      const query = { ...filters, page, perPage }
      const body = parseOrThrow(cqcLocationsPageSchema, await this.http.getJson('/locations', query), '/locations')
      yield* body.locations
      const totalPages = body.totalPages ?? (body.nextPageUri ? page + 1 : page)
      if (page >= totalPages || body.locations.length === 0) return
    }
  }

  /**
   * Ids of locations changed in [start, end), all pages. Chain windows: the next start is this end.
   * Timestamps are ISO 8601, e.g. 2026-03-14T02:00:00Z.
   */
  async changedLocationIds(startTimestamp: string, endTimestamp: string, perPage: number = 1000): Promise<string[]> {
    const ids = new Set<string>()
    for (let page = 1; ; page++) {
      const query = { startTimestamp, endTimestamp, page, perPage }
      const raw = await this.http.getJson('/changes/location', query)
      const body = parseOrThrow(cqcChangesPageSchema, raw, '/changes/location')
      for (const id of body.changes) ids.add(id)
      if (page >= (body.totalPages ?? page) || body.changes.length === 0) break
    }
    return [...ids]
  }
}

function parseOrThrow<T>(schema: z.ZodType<T>, body: unknown, path: string): T {
  const parsed = schema.safeParse(body)
  if (parsed.success) return parsed.data
  throw new Error(
    `${CQC_SOURCE_NAME}: GET ${path} returned an unexpected shape: ${describeIssues(parsed.error.issues).reason}`,
  )
}
