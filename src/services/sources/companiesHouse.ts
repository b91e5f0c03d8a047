import type { CompaniesHouseStreamRepository } from '../../data/companiesHouseStream.js'
import type { SourceReject } from '../../data/runs.js'
import { CompaniesHouseClient, normaliseCompanyNumber, readCompaniesHouse } from '../../ingest/companiesHouse/index.js'
import { fetchInsolvencyCases } from '../../ingest/companiesHouse/connector.js'
import { isInsolvencyStatus } from '../../ingest/companiesHouse/insolvencyCases.js'
import {
  mapCompanyProfile,
  needsInsolvencyCases,
  normaliseStatus,
  profileProblem,
  type CompanyFacts,
} from '../../ingest/companiesHouse/profile.js'
import {
  readCompanyStream,
  StreamTimepointTooOldError,
  type CompanyStreamBatch,
  type CompanyStreamEvent,
  type CompanyStreamSummary,
} from '../../ingest/companiesHouse/stream.js'
import type { ConnectorRecord, ConnectorResult } from '../../ingest/types.js'
import type { Services } from '../container.js'
import type { SourceStepContext, SourceStepResult } from '../refreshService.js'
import { applyConnectorResult, type ApplyOptions } from './apply.js'
import { CouncilIdIndex } from './council.js'
import type { SourceStepOptions } from './options.js'

/**
 * Companies House: each provider's company status. Run after CQC, so a company number CQC supplied tonight is
 * followed tonight. A status is stored only when it differs from the last one seen.
 *
 * With the streaming API (COMPANIES_HOUSE_STREAM_URL) the night reads the company-profile events published since the
 * last stored timepoint, keeps those of the council's companies, and stores each batch with the timepoint it reached
 * in one transaction; the REST API then reads only the companies never seen. Without it, REST reads every company.
 */
export async function runCompaniesHouseStep(
  services: Services,
  context: SourceStepContext,
  options: SourceStepOptions,
): Promise<SourceStepResult> {
  const { config } = services
  if (!config.COMPANIES_HOUSE_API_BASE && !config.COMPANIES_HOUSE_STREAM_URL) {
    throw new Error('Companies House: neither COMPANIES_HOUSE_API_BASE nor COMPANIES_HOUSE_STREAM_URL is set')
  }
  const index = new CouncilIdIndex(await services.serviceRepository.listAll())
  const councilIds = councilIdsByNumber(index.ids('company'))
  const client = config.COMPANIES_HOUSE_API_BASE
    ? new CompaniesHouseClient({
        ...options.http,
        baseUrl: config.COMPANIES_HOUSE_API_BASE,
        apiKey: config.COMPANIES_HOUSE_API_KEY,
      })
    : null
  const repository = services.store.repositories.companiesHouseStream
  const applyOptions: ApplyOptions<CompanyFacts> = {
    kind: 'company',
    actor: `refresh:run-${context.runId}`,
    notFoundReason: 'Companies House has no company with this number',
    dedupe: 'latest_value',
  }
  const total = new StepTotals()

  let restIds = index.ids('company')
  if (config.COMPANIES_HOUSE_STREAM_URL) {
    const readAll = await readStreamNight(services, context, options, {
      councilIds,
      client,
      repository,
      total,
      applyOptions,
      index,
    })
    if (!readAll) {
      const seen = await repository.seenCompanies()
      restIds = restIds.filter((id) => !seen.has(normaliseCompanyNumber(id) ?? ''))
    }
  }
  if (restIds.length === 0) return total.result()
  if (!client) {
    for (const id of restIds) {
      total.reject({
        record: id,
        reason: 'not read: never seen on the stream, and COMPANIES_HOUSE_API_BASE is not set',
      })
    }
    return total.result()
  }
  const result = await readCompaniesHouse(client, {
    asOf: context.asOf,
    ids: restIds,
    onProgress: (done, all) => context.progress(done, all),
    concurrency: options.concurrency,
    maxConsecutiveFailures: options.maxConsecutiveFailures,
  })
  const seen = result.records.flatMap((record) => (record.facts ? [record.facts.companyNumber] : []))
  total.add(
    await commitBatch(services, () => applyConnectorResult(services, index, result, applyOptions), {
      seen,
      seenOn: context.asOf,
    }),
  )
  return total.result()
}

interface StreamNight {
  councilIds: Map<string, string[]>
  client: CompaniesHouseClient | null
  repository: CompaniesHouseStreamRepository
  total: StepTotals
  applyOptions: ApplyOptions<CompanyFacts>
  index: CouncilIdIndex
}

/**
 * Reads the stream from the stored timepoint until caught up. Returns true when every company must be read by REST
 * (Companies House no longer had the stored timepoint, so the changes since are unknown).
 */
async function readStreamNight(
  services: Services,
  context: SourceStepContext,
  options: SourceStepOptions,
  night: StreamNight,
): Promise<boolean> {
  const { config } = services
  const settings = options.companiesHouseStream ?? {}
  const read = (fromTimepoint: number | null) =>
    readCompanyStream({
      baseUrl: config.COMPANIES_HOUSE_STREAM_URL as string,
      apiKey: config.COMPANIES_HOUSE_STREAM_KEY ?? config.COMPANIES_HOUSE_API_KEY,
      fromTimepoint,
      stopAt: settings.stopAt?.() ?? new Date(),
      wanted: (number) => night.councilIds.has(number),
      onBatch: (batch) => storeBatch(services, context, night, batch),
      idleMs: settings.idleMs,
      batchSize: settings.batchSize,
      backoffMs: settings.backoffMs,
      onProgress: (events) => context.progress(events, null),
    })
  const from = await night.repository.timepoint()
  let summary: CompanyStreamSummary
  let readAll = false
  try {
    summary = await read(from)
  } catch (error) {
    if (!(error instanceof StreamTimepointTooOldError)) throw error
    night.total.reject({
      record: 'stream',
      reason: `${error.message}: reading from now, and every company by the REST API tonight`,
    })
    await night.repository.clearTimepoint()
    summary = await read(null)
    readAll = true
  }
  night.total.reject({
    record: 'warning',
    reason:
      `stream: ${summary.eventsRead} events from timepoint ${from ?? 'now'} to ${summary.lastTimepoint ?? 'none'} ` +
      `over ${summary.connections} connection(s), ${summary.eventsKept} for the council's companies, ` +
      `${summary.rejected} rejected; stopped ${summary.stoppedBy === 'idle' ? 'when idle' : 'when caught up'}`,
    countsAsReject: false,
  })
  return readAll
}

/**
 * Runs `work` (which appends the batch's observations through the store) and records the companies seen and the
 * timepoint reached, in one write transaction: a crash leaves all of it or none.
 */
async function commitBatch<T>(
  services: Services,
  work: () => Promise<T>,
  reached: { timepoint?: number | null; seen?: Iterable<string>; seenOn: string },
): Promise<T> {
  return services.store.write(async ({ companiesHouseStream }) => {
    const result = await work()
    await companiesHouseStream.recordBatch(reached)
    return result
  })
}

/** One batch of stream events: its observations, the companies seen and its timepoint, in one transaction. */
async function storeBatch(
  services: Services,
  context: SourceStepContext,
  night: StreamNight,
  batch: CompanyStreamBatch,
): Promise<void> {
  const records: ConnectorRecord<CompanyFacts>[] = []
  const rejects = [...batch.rejects]
  const warnings: string[] = []
  const seen = new Set<string>()
  for (const event of batch.events) {
    const mapped = await mapEvent(event, night.client, warnings)
    if ('reason' in mapped) {
      rejects.push({ record: `company ${event.companyNumber} (timepoint ${event.timepoint})`, ...mapped })
      continue
    }
    seen.add(event.companyNumber)
    for (const id of night.councilIds.get(event.companyNumber) ?? []) {
      records.push({ match: { kind: 'company', id }, observations: [mapped.observation], facts: mapped.facts })
    }
  }
  const result: ConnectorResult<CompanyFacts> = {
    source: 'companies_house',
    records,
    rejects,
    notFound: [],
    counts: { read: batch.events.length, matched: records.length, rejected: rejects.length, notFound: 0 },
    warnings,
  }
  night.total.add(
    await commitBatch(services, () => applyConnectorResult(services, night.index, result, night.applyOptions), {
      timepoint: batch.timepoint,
      seen,
      seenOn: context.asOf,
    }),
  )
}

/**
 * A changed event's profile mapped as a REST read would be (dated by the event's publication when the company gives
 * no date of its own); a deleted event says the company left the register.
 */
async function mapEvent(
  event: CompanyStreamEvent,
  client: CompaniesHouseClient | null,
  warnings: string[],
): Promise<ReturnType<typeof mapCompanyProfile> | { field?: string; reason: string }> {
  if (event.type === 'deleted' || !event.profile) {
    const mapped = mapCompanyProfile(
      { company_number: event.companyNumber, company_status: 'removed' },
      event.publishedOn,
    )
    const detail = { ...mapped.observation.detail, statusSince: event.publishedOn }
    mapped.observation.detail = { ...detail, statusDateFrom: 'deleted from the register' }
    return mapped
  }
  const problem = profileProblem(event.profile)
  if (problem) return problem
  const status = normaliseStatus(event.profile.company_status)
  let cases: Awaited<ReturnType<typeof fetchInsolvencyCases>>['cases'] = []
  if (client && status !== null && isInsolvencyStatus(status) && needsInsolvencyCases(event.profile)) {
    const fetched = await fetchInsolvencyCases(client, event.companyNumber)
    if (fetched.warning) warnings.push(`${event.companyNumber}: ${fetched.warning}`)
    cases = fetched.cases
  }
  return mapCompanyProfile(event.profile, event.publishedOn, cases)
}

function councilIdsByNumber(ids: readonly string[]): Map<string, string[]> {
  const byNumber = new Map<string, string[]>()
  for (const id of ids) {
    const number = normaliseCompanyNumber(id)
    if (number === null) continue
    const list = byNumber.get(number)
    if (list) list.push(id)
    else byNumber.set(number, [id])
  }
  return byNumber
}

/** Sums the step's parts (stream batches, the REST read) into one result for the run log. */
class StepTotals {
  private readonly totals: Required<SourceStepResult> = {
    read: 0,
    matched: 0,
    changed: 0,
    unchanged: 0,
    rejected: 0,
    rejects: [],
    changedServiceIds: [],
  }

  add(part: SourceStepResult): void {
    this.totals.read += part.read
    this.totals.matched += part.matched
    this.totals.changed += part.changed
    this.totals.unchanged += part.unchanged
    this.totals.rejected += part.rejected
    this.totals.rejects.push(...part.rejects)
    this.totals.changedServiceIds.push(...(part.changedServiceIds ?? []))
  }

  reject(reject: SourceReject & { countsAsReject?: boolean }): void {
    const { countsAsReject, ...line } = reject
    this.totals.rejects.push(line)
    if (countsAsReject !== false) this.totals.rejected++
  }

  result(): SourceStepResult {
    const changed = [...new Set(this.totals.changedServiceIds)].sort((a, b) => a - b)
    return { ...this.totals, changedServiceIds: changed }
  }
}
