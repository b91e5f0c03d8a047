import { LRUCache } from 'lru-cache'
import type { Observation } from '../domain/observation.js'
import type { RiskResult } from '../domain/riskResult.js'
import type { Rag } from '../domain/vocabulary.js'
import type { ObservationRepository } from '../data/observations.js'
import type { HistoryPoint, RagChange, RefreshRun, RunCause, RunRepository, SourceFreshness } from '../data/runs.js'
import type { ListedService, ListingFilter, ServiceListingRepository } from '../data/serviceListing.js'
import type { Service, ServiceRepository } from '../data/services.js'
import type { Store } from '../data/store.js'

export interface ChangedService {
  change: RagChange
  ref: string
  name: string
  providerName: string
  cause: RunCause
}

/** The periods the changed lists offer: since the last overnight run began (the default), or the last days. */
export const CHANGE_PERIODS = ['overnight', 'day', 'week', 'month'] as const
export type ChangePeriod = (typeof CHANGE_PERIODS)[number]
const PERIOD_DAYS: Record<Exclude<ChangePeriod, 'overnight'>, number> = { day: 1, week: 7, month: 30 }

export interface ChangesInPeriod {
  period: ChangePeriod
  /** null: no overnight run yet, so nothing to list. */
  since: string | null
  changes: ChangedService[]
}

export interface DashboardView {
  counts: Record<Rag, number> & { total: number; notComputed: number }
  changes: ChangedService[]
  changesSince: string | null
  lastFullRun: RefreshRun | null
  sources: SourceFreshness[]
  listing: { total: number; rows: ListedService[] }
  areas: string[]
}

export interface ServiceDetail {
  service: Service
  risk: RiskResult | null
  changedAt: string | null
  /** See ListedService.dpsEligible. */
  dpsEligible: boolean | null
  history: HistoryPoint[]
  /** Live and superseded observations, newest first. */
  observations: Array<Observation & { supersededById: number | null }>
}

export interface DashboardServiceDeps {
  store: Store
  services: ServiceRepository
  listing: ServiceListingRepository
  runs: RunRepository
  observations: ObservationRepository
}

/** A listing answer with the data version it was computed at. */
interface KeptListing {
  version: string
  total: number
  rows: ListedService[]
}

/** Read use cases behind the dashboard, the service page and the JSON API. */
export class DashboardService {
  /** The last views by filter, kept until what they show may have changed (see Store.dataVersion). */
  private readonly views = new LRUCache<string, { version: string; view: DashboardView }>({ max: 100 })
  /**
   * Listing answers by filter, kept until what the dashboard shows may have changed. A dashboard under load asks the
   * same few pages again and again between runs; for 30,000 services a count and sort cost tens of ms.
   */
  private readonly listings = new LRUCache<string, KeptListing>({ max: 200 })

  constructor(private readonly deps: DashboardServiceDeps) {}

  /**
   * Moves when what the pages show may have changed: a write in this process, a run published by any, or the age
   * limit (Store.dataVersion). What is kept for the pages is keyed on it.
   */
  dataVersion(): Promise<string> {
    return this.deps.store.dataVersion()
  }

  async dashboard(filter: ListingFilter, period: ChangePeriod = 'overnight'): Promise<DashboardView> {
    const version = await this.dataVersion()
    // A period of days moves with the clock, not only with the data: kept for a minute at most.
    const key = `${period}|${period === 'overnight' ? '' : Math.floor(Date.now() / 60_000)}|${JSON.stringify(filter)}`
    const known = this.views.get(key)
    if (known && known.version === version) return { ...known.view }
    const view = await this.computeDashboard(filter, period, version)
    this.views.set(key, { version, view })
    return { ...view }
  }

  /** The listing answer for `filter` through `listing` (a transaction's, for a consistent read), kept by version. */
  private async listThrough(
    listing: ServiceListingRepository,
    filter: ListingFilter,
    version: string,
  ): Promise<{ total: number; rows: ListedService[] }> {
    const key = JSON.stringify(filter)
    const known = this.listings.get(key)
    const answer = known?.version === version ? known : { version, ...(await listing.list(filter)) }
    if (answer !== known) this.listings.set(key, answer)
    return { total: answer.total, rows: answer.rows.map((row) => ({ ...row })) }
  }

  private async computeDashboard(filter: ListingFilter, period: ChangePeriod, version: string): Promise<DashboardView> {
    // One read transaction: the counts and the list come from the same published run.
    const [ragCounts, total, lastFullRun, sources, listing, areas] = await this.deps.store.read((r) =>
      Promise.all([
        r.runs.ragCounts(),
        r.services.count(),
        r.runs.lastOvernightRun(),
        r.runs.sourceFreshness(),
        this.listThrough(r.listing, filter, version),
        r.services.listAreas(),
      ]),
    )
    const computed = ragCounts.red + ragCounts.amber + ragCounts.green
    return {
      counts: { ...ragCounts, total, notComputed: total - computed },
      ...(await this.changesIn(period, lastFullRun).then(({ since, changes }) => ({ changes, changesSince: since }))),
      lastFullRun,
      sources,
      listing,
      areas,
    }
  }

  /**
   * RAG changes in a period, whatever runs made them: by default since the last overnight run began, so a refresh by
   * hand, a rule set saved and reverted or an entry made by day adds to the night's changes and never hides them.
   */
  async changesIn(period: ChangePeriod, overnightRun?: RefreshRun | null): Promise<ChangesInPeriod> {
    if (period !== 'overnight') {
      const since = new Date(Date.now() - PERIOD_DAYS[period] * 86_400_000).toISOString()
      return { period, since, changes: await this.changesBetween(since, '9999-12-31') }
    }
    const run = overnightRun === undefined ? await this.deps.runs.lastOvernightRun() : overnightRun
    if (!run) return { period, since: null, changes: [] }
    return { period, since: run.startedAt, changes: await this.changesBetween(run.startedAt, '9999-12-31', run.id) }
  }

  /** RAG changes in [since, until) (and by runs from `fromRunId` on), newest first, with names and cause. */
  async changesBetween(since: string, until: string, fromRunId?: number): Promise<ChangedService[]> {
    // One query joining the names (it was one services lookup per changed service: ~300 on a national night).
    const changes = await this.deps.runs.namedChangesBetween(since, until, { fromRunId })
    return changes.map(({ ref, name, providerName, cause, trigger: _trigger, ...change }) => ({
      change,
      ref,
      name,
      providerName,
      cause,
    }))
  }

  async list(filter: ListingFilter): Promise<{ total: number; rows: ListedService[] }> {
    return this.listThrough(this.deps.listing, filter, await this.dataVersion())
  }

  /** One page of the listing with each service's RAG history (the JSON API's `GET /services`). */
  async listWithHistory(
    filter: ListingFilter,
  ): Promise<{ total: number; rows: Array<ListedService & { history: HistoryPoint[] }> }> {
    const { total, rows } = await this.list(filter)
    const histories = await this.deps.runs.historyOf(rows.map((row) => row.id))
    return { total, rows: rows.map((row) => ({ ...row, history: histories.get(row.id) ?? [] })) }
  }

  async serviceDetail(ref: string): Promise<ServiceDetail | null> {
    const service = await this.deps.services.findByRef(ref)
    if (!service) return null
    const [current, history, observations, listed] = await Promise.all([
      this.deps.runs.current(service.id),
      this.deps.runs.history(service.id),
      this.deps.observations.listHistory(service.id),
      this.list({ ref: [service.ref], limit: 1 }),
    ])
    return {
      service,
      risk: current?.result ?? null,
      changedAt: current?.ragSince ?? null,
      dpsEligible: listed.rows[0]?.dpsEligible ?? null,
      history,
      observations,
    }
  }
}
