import type { MarketRepository, ProviderRecord, ProviderServiceRow } from '../data/market.js'
import type { ObservationRepository } from '../data/observations.js'
import type { HistoryPoint } from '../data/runs.js'
import {
  buildTimeline,
  providerRollups,
  rollUpProvider,
  stateOn,
  summariseMarket,
  type MarketSummary,
  type ProviderRollup,
  type ServicePositions,
  type Timeline,
} from '../domain/market.js'
import { assessRisk } from '../domain/risk.js'
import type { ActiveRuleSet, OverrideLookup } from './riskService.js'

export interface MarketServiceDeps {
  market: MarketRepository
  observations: ObservationRepository
  activeRuleSet: () => Promise<ActiveRuleSet>
  today: () => string
  /** Manual overrides in force on a date (the compliance workflow's lookup); without it the rules' RAG is used. */
  overrides?: OverrideLookup
}

export interface MarketSummaryView extends MarketSummary {
  ruleSetVersion: number
}

export interface ProviderView {
  provider: ProviderRecord
  services: ProviderServiceRow[]
  rollup: ProviderRollup
}

const BATCH = 1000

/** Market oversight (SPEC §3 early warning, §7 market summary): summaries, provider roll-ups and service timelines. */
export class MarketService {
  private overrides: OverrideLookup | undefined

  constructor(private readonly deps: MarketServiceDeps) {
    this.overrides = deps.overrides
  }

  /** Supplies manual overrides, so the market's RAG matches the dashboard's for overridden services. */
  useOverrides(lookup: OverrideLookup): void {
    this.overrides = lookup
  }

  /**
   * The market at two dates. Every figure is recomputed from stored history with the pure engine as of each date,
   * rather than read from published snapshots, because:
   * - snapshots exist only from the day the dashboard started (and only where a judgement changed), while observations
   *   go back as far as the sources do (CQC ratings from years ago), so any past date works;
   * - both dates are judged under the same (current) rule set, so a difference between the columns is a change in
   *   the market, not a change in the rules;
   * - the CQC and quality assessment mixes are facts, read from observations in any case.
   * The engine ignores observations dated after the date. The cost is one pass over the observations (both dates
   * from the same read), about 0.1 ms per service per date.
   */
  async summary(from: string, to: string): Promise<MarketSummaryView> {
    const rules = await this.deps.activeRuleSet()
    const services = await this.deps.market.listMarketServices()
    const positions: ServicePositions[] = []
    for (let i = 0; i < services.length; i += BATCH) {
      const batch = services.slice(i, i + BATCH)
      const ids = batch.map((s) => s.id)
      const firstId = ids[0] as number
      const lastId = ids[ids.length - 1] as number
      const [observations, overridesFrom, overridesTo] = await Promise.all([
        this.deps.observations.listLiveForIdRange(firstId, lastId + 1),
        this.overrides?.activeFor(ids, from),
        this.overrides?.activeFor(ids, to),
      ])
      for (const service of batch) {
        const own = observations.get(service.id) ?? []
        const judge = (date: string) => {
          const result = assessRisk({
            observations: own,
            ruleSet: rules.ruleSet,
            ruleSetVersion: rules.version,
            asOf: date,
            override: (date === from ? overridesFrom : overridesTo)?.get(service.id) ?? null,
          })
          return { rag: result.rag, deteriorating: result.flags.deteriorating }
        }
        positions.push({ service, from: stateOn(service, own, from, judge), to: stateOn(service, own, to, judge) })
      }
    }
    return { ...summariseMarket(from, to, positions), ruleSetVersion: rules.version }
  }

  /** A provider with its services as published now, rolled up. */
  async provider(providerId: number): Promise<ProviderView | null> {
    const provider = await this.deps.market.findProvider(providerId)
    if (!provider) return null
    const services = await this.deps.market.providerServices(providerId)
    const rollup = rollUpProvider(services)
    return { provider, services, rollup: { ...rollup, providerId: provider.id, providerName: provider.name } }
  }

  /** Every provider rolled up from the published judgements, market risks first. */
  async providers(): Promise<ProviderRollup[]> {
    return providerRollups(await this.deps.market.currentServiceRisks())
  }

  /** Every observation and RAG change of a service on one time axis. */
  async timeline(serviceId: number, history: HistoryPoint[]): Promise<Timeline> {
    const [rules, observations] = await Promise.all([
      this.deps.activeRuleSet(),
      this.deps.observations.listLive(serviceId),
    ])
    return buildTimeline({
      observations,
      history,
      ruleSet: rules.ruleSet,
      ruleSetVersion: rules.version,
      today: this.deps.today(),
    })
  }
}
