import { assessRisk } from '../domain/risk.js'
import { DEFAULT_RULE_SET, parseRuleSet, type RuleSet } from '../domain/ruleSet.js'
import type { ActiveOverride, RiskResult } from '../domain/riskResult.js'
import type { ObservationRepository } from '../data/observations.js'
import type { RuleSetRepository } from '../data/ruleSets.js'
import type { ComputedSnapshot, PublishOutcome, RunRepository } from '../data/runs.js'
import type { ServiceRepository } from '../data/services.js'

/** Active manual overrides for services as of a date (the compliance workflow supplies them). */
export interface OverrideLookup {
  activeFor(serviceIds: number[], asOf: string): Promise<Map<number, ActiveOverride>>
}

/** Called after a run publishes, with the services whose judgement changed (eligibility, digests...). */
export type AfterPublish = (
  runId: number,
  changedServiceIds: number[],
  allServiceIds: number[] | 'all',
) => Promise<void>

export interface RiskServiceDeps {
  services: ServiceRepository
  observations: ObservationRepository
  runs: RunRepository
  ruleSets: RuleSetRepository
  today: () => string
  overrides?: OverrideLookup
  afterPublish?: AfterPublish[]
}

export interface ActiveRuleSet {
  version: number
  ruleSet: RuleSet
}

const BATCH = 1000

/** Turns observations into judgements and publishes them as runs (SPEC §3, ARCHITECTURE "one run at a time"). */
export class RiskService {
  private readonly afterPublish: AfterPublish[]
  private overrides: OverrideLookup | undefined

  constructor(private readonly deps: RiskServiceDeps) {
    this.afterPublish = [...(deps.afterPublish ?? [])]
    this.overrides = deps.overrides
  }

  /** Supplies active manual overrides (the compliance workflow's repository). */
  useOverrides(lookup: OverrideLookup): void {
    this.overrides = lookup
  }

  /** Registers work to do after every publish (eligibility, digests). */
  onPublish(hook: AfterPublish): void {
    this.afterPublish.push(hook)
  }

  async activeRuleSet(): Promise<ActiveRuleSet> {
    await this.deps.ruleSets.ensureInitial(DEFAULT_RULE_SET)
    const stored = await this.deps.ruleSets.current()
    if (!stored) throw new Error('No rule set stored')
    const parsed = parseRuleSet(stored.document)
    if (!parsed.ok) throw new Error(`Stored rule set version ${stored.version} is invalid: ${parsed.issues.join('; ')}`)
    return { version: stored.version, ruleSet: parsed.ruleSet }
  }

  /** A judgement computed now without storing it (previews, market history). */
  async assess(serviceId: number, asOf: string = this.deps.today(), ruleSet?: ActiveRuleSet): Promise<RiskResult> {
    const rules = ruleSet ?? (await this.activeRuleSet())
    const observations = await this.deps.observations.listLive(serviceId)
    const overrides = await this.overridesFor([serviceId], asOf)
    return assessRisk({
      observations,
      ruleSet: rules.ruleSet,
      ruleSetVersion: rules.version,
      asOf,
      override: overrides.get(serviceId) ?? null,
    })
  }

  /**
   * The small run of an entry made during the day: recomputes only the touched services and publishes them at once,
   * so an embargo entered at 10:00 bars new packages at 10:00.
   */
  async recomputeServices(serviceIds: number[], trigger: string): Promise<PublishOutcome & { runId: number }> {
    const unique = [...new Set(serviceIds)]
    const rules = await this.activeRuleSet()
    const runId = await this.deps.runs.startRun('entry', { trigger, ruleSetVersion: rules.version })
    try {
      const asOf = this.deps.today()
      const computed = await this.computeFor(unique, asOf, rules)
      const outcome = await this.deps.runs.stageAndPublish(runId, computed)
      await this.runAfterPublish(runId, outcome.changedServiceIds, unique)
      return { ...outcome, runId }
    } catch (error) {
      await this.deps.runs.failRun(runId, (error as Error).message)
      throw error
    }
  }

  /**
   * Computes every service for a full run, staging judgements in batches; the caller publishes. Returns how many
   * services were computed.
   */
  async stageAll(
    runId: number,
    rules: ActiveRuleSet,
    asOf: string,
    onProgress?: (done: number, total: number) => void,
  ): Promise<number> {
    const services = await this.deps.services.listAll()
    const ids = services.map((s) => s.id).sort((a, b) => a - b)
    let done = 0
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH)
      const first = batch[0] as number
      const last = batch[batch.length - 1] as number
      const grouped = await this.deps.observations.listLiveForIdRange(first, last + 1)
      const overrides = await this.overridesFor(batch, asOf)
      const computed: ComputedSnapshot[] = batch.map((serviceId) => ({
        serviceId,
        result: assessRisk({
          observations: grouped.get(serviceId) ?? [],
          ruleSet: rules.ruleSet,
          ruleSetVersion: rules.version,
          asOf,
          override: overrides.get(serviceId) ?? null,
        }),
      }))
      await this.deps.runs.stageSnapshots(runId, computed)
      await this.deps.runs.heartbeat(runId)
      done += batch.length
      onProgress?.(done, ids.length)
    }
    return ids.length
  }

  /** Publishes a full run staged with `stageAll` and runs the after-publish hooks over every service. */
  async publishFull(runId: number, servicesComputed: number): Promise<PublishOutcome> {
    const outcome = await this.deps.runs.publish(runId, servicesComputed)
    await this.runAfterPublish(runId, outcome.changedServiceIds, 'all')
    return outcome
  }

  private async computeFor(serviceIds: number[], asOf: string, rules: ActiveRuleSet): Promise<ComputedSnapshot[]> {
    const overrides = await this.overridesFor(serviceIds, asOf)
    const computed: ComputedSnapshot[] = []
    for (const serviceId of serviceIds) {
      const observations = await this.deps.observations.listLive(serviceId)
      computed.push({
        serviceId,
        result: assessRisk({
          observations,
          ruleSet: rules.ruleSet,
          ruleSetVersion: rules.version,
          asOf,
          override: overrides.get(serviceId) ?? null,
        }),
      })
    }
    return computed
  }

  private async overridesFor(serviceIds: number[], asOf: string): Promise<Map<number, ActiveOverride>> {
    return this.overrides ? this.overrides.activeFor(serviceIds, asOf) : new Map()
  }

  private async runAfterPublish(runId: number, changed: number[], all: number[] | 'all'): Promise<void> {
    for (const hook of this.afterPublish) await hook(runId, changed, all)
  }
}
