import { FailureStreak, mapConcurrently, SourceHttpError, SourceUnavailableError } from '../http.js'
import { describeIssues, distinctIds, ResultBuilder, type ConnectorRequest, type ConnectorResult } from '../types.js'
import { CQC_SOURCE_NAME, type CqcApiClient } from './apiClient.js'
import type { CqcLocationFacts, CqcProviderFacts } from './facts.js'
import { mapCqcLocation } from './mapLocation.js'
import { cqcLocationSchema } from './schema.js'

export interface CqcApiRequest extends ConnectorRequest {
  /**
   * After a first load: fetch only the council's locations that the changes feed lists since this ISO
   * timestamp. Omit to fetch every council location.
   */
  changedSince?: string
  /** End of the changes window (default: now). Keep `result.changesWindow.end` as the next run's `changedSince`. */
  changedUntil?: string
  /** Locations to fetch even when the changes feed does not list them (e.g. services added since the last run). */
  alwaysFetch?: Iterable<string>
  /** Fetch each distinct provider for its Companies House number (default true). */
  includeProviders?: boolean
  concurrency?: number
  /** Clock for the default `changedUntil`. */
  now?: () => Date
}

export interface CqcApiResult extends ConnectorResult<CqcLocationFacts> {
  /** Set when the changes feed was used. */
  changesWindow?: { start: string; end: string; changed: number }
  /** Council locations not fetched because the changes feed did not list them. */
  unchanged: number
}

/**
 * Reads the council's locations from the CQC API. A 404 on a council location is "not found" (or, for an id
 * from the changes feed, skipped: CQC lists some ids it then cannot serve). A location that keeps failing
 * becomes a reject; the whole source fails only when authentication fails or every request fails.
 */
export async function readCqcApi(client: CqcApiClient, request: CqcApiRequest): Promise<CqcApiResult> {
  const result = new ResultBuilder<CqcLocationFacts>('cqc_api')
  const councilIds = distinctIds(request.ids)
  let toFetch = councilIds
  let changesWindow: CqcApiResult['changesWindow']
  const fromChangesFeed = new Set<string>()

  if (request.changedSince !== undefined) {
    const end = request.changedUntil ?? (request.now?.() ?? new Date()).toISOString()
    const changed = new Set(await client.changedLocationIds(request.changedSince, end))
    const always = new Set(distinctIds(request.alwaysFetch ?? []))
    toFetch = councilIds.filter((id) => changed.has(id) || always.has(id))
    for (const id of toFetch) if (!always.has(id)) fromChangesFeed.add(id)
    changesWindow = { start: request.changedSince, end, changed: changed.size }
  }

  let done = 0
  const failures: SourceHttpError[] = []
  const streak = new FailureStreak(CQC_SOURCE_NAME, request.maxConsecutiveFailures)
  await mapConcurrently(toFetch, request.concurrency ?? 4, async (id) => {
    try {
      const body = await client.getLocation(id)
      streak.answered()
      if (body === undefined) {
        if (fromChangesFeed.has(id))
          result.warnings.push(`CQC location ${id} is in the changes feed but returned 404: skipped`)
        else result.notFound.push(id)
        return
      }
      result.read++
      const parsed = cqcLocationSchema.safeParse(body)
      if (!parsed.success) {
        const { field, reason } = describeIssues(parsed.error.issues)
        result.reject(id, reason, field)
        return
      }
      if (parsed.data.locationId !== id) {
        result.reject(id, `asked for ${id} but CQC answered with location ${parsed.data.locationId}`, 'locationId')
        return
      }
      const mapped = mapCqcLocation(parsed.data, request.asOf, 'cqc_api')
      for (const reject of mapped.rejects) result.rejects.push(reject)
      for (const warning of mapped.warnings) result.warnings.push(warning)
      result.records.push({
        match: { kind: 'cqc_location', id },
        observations: mapped.observations,
        facts: mapped.facts,
      })
    } catch (error) {
      if (!(error instanceof SourceHttpError) || error.status === 401 || error.status === 403) throw error
      failures.push(error)
      result.reject(id, error.message)
      streak.failed(error)
    } finally {
      request.onProgress?.(++done, toFetch.length)
    }
  })
  if (failures.length > 0 && failures.length === toFetch.length) throw failures[0]

  if (request.includeProviders ?? true) {
    await attachProviders(client, result, request.concurrency ?? 4, request.maxConsecutiveFailures)
  }

  const built = result.build()
  return { ...built, ...(changesWindow ? { changesWindow } : {}), unchanged: councilIds.length - toFetch.length }
}

/** Providers only add company numbers: when they keep failing, the locations already read are kept (with a warning). */
async function attachProviders(
  client: CqcApiClient,
  result: ResultBuilder<CqcLocationFacts>,
  concurrency: number,
  maxConsecutiveFailures: number | undefined,
) {
  const providerIds = distinctIds(result.records.map((record) => record.facts?.providerId ?? ''))
  const providers = new Map<string, CqcProviderFacts>()
  const streak = new FailureStreak(CQC_SOURCE_NAME, maxConsecutiveFailures)
  const read = mapConcurrently(providerIds, concurrency, async (providerId) => {
    try {
      const provider = await client.getProvider(providerId)
      streak.answered()
      if (provider === undefined) {
        result.warnings.push(`CQC provider ${providerId} not found`)
        return
      }
      providers.set(providerId, {
        providerId,
        name: provider.name ?? null,
        companiesHouseNumber: blankToNull(provider.companiesHouseNumber),
        charityNumber: blankToNull(provider.charityNumber),
        ownershipType: provider.ownershipType ?? null,
      })
    } catch (error) {
      if (error instanceof SourceHttpError && (error.status === 401 || error.status === 403)) throw error
      result.warnings.push(`CQC provider ${providerId} could not be read: ${(error as Error).message}`)
      if (error instanceof SourceHttpError) streak.failed(error)
    }
  })
  try {
    await read
  } catch (error) {
    if (!(error instanceof SourceUnavailableError)) throw error
    result.warnings.push(`CQC providers not read: ${error.message}`)
  }
  for (const record of result.records) {
    const provider = record.facts?.providerId ? providers.get(record.facts.providerId) : undefined
    if (record.facts && provider) record.facts.provider = provider
  }
}

function blankToNull(value: string | null | undefined): string | null {
  const trimmed = (value ?? '').trim()
  return trimmed === '' ? null : trimmed
}
