import { recheckOn } from '../domain/recheck.js'
import { assessRisk, type AssessRiskInput } from '../domain/risk.js'
import { DEFAULT_RULE_SET, parseRuleSet, type RuleSet } from '../domain/ruleSet.js'
import type { ActiveOverride, RiskResult } from '../domain/riskResult.js'
import type { ObservationRepository } from '../data/observations.js'
import type { DueServices, JudgementRecheck, RecheckRepository } from '../data/rechecks.js'
import type { RuleSetRepository } from '../data/ruleSets.js'
import type { ComputedSnapshot, PublishOptions, PublishOutcome, RunRepository } from '../data/runs.js'
import type { Observation } from '../domain/observation.js'
import type { ServiceRepository } from '../data/services.js'

/** Active manual overrides for services as of a date (the compliance workflow supplies them). */
export interface OverrideLookup {
  activeFor(serviceIds: number[], asOf: string): Promise<Map<number, ActiveOverride>>
}

/**
 * Called after a run publishes, with the services whose judgement changed (eligibility, digests...) and the services
 * the run judged ('all': every service).
 */
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
  /** Recheck dates (src/domain/recheck.ts): without them every nightly run recomputes every service. */
  rechecks?: RecheckRepository
}

/** What a selective stage judged (`stageDue`). */
export interface StageDueOutcome {
  /** Services judged this run. */
  computed: number
  /** The due services and why; null when every service was judged (no previous published full run). */
  due: DueServices | null
}

/** Judgements staged under a run and not yet published: their recheck dates, and which services were judged. */
interface StagedRun {
  rechecks: JudgementRecheck[]
  judged: number[] | 'all'
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
  /** Per staged run (one full run at a time per process; an entry run stages and publishes at once). */
  private readonly staged = new Map<number, StagedRun>()

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
      const computedAt = new Date().toISOString()
      const computed = await this.computeFor(unique, asOf, rules)
      const rechecks = rechecksOf(computed, rules.version, computedAt)
      const outcome = await this.deps.runs.stageAndPublish(runId, computed, this.publishOptions(rechecks))
      await this.runAfterPublish(runId, outcome.changedServiceIds, unique)
      return { ...outcome, runId }
    } catch (error) {
      await this.deps.runs.failRun(runId, (error as Error).message)
      throw error
    }
  }

  /**
   * Computes every service for a full run, staging judgements in batches; the caller publishes (`publishFull`).
   * Returns how many services were computed. For rule-set activation, the demo seed and a forced full recompute; the
   * nightly refresh uses `stageDue`.
   */
  async stageAll(
    runId: number,
    rules: ActiveRuleSet,
    asOf: string,
    onProgress?: (done: number, total: number) => void,
  ): Promise<number> {
    const services = await this.deps.services.listAll()
    const ids = services.map((s) => s.id).sort((a, b) => a - b)
    const run = this.startStaging(runId, 'all')
    let done = 0
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH)
      const first = batch[0] as number
      const last = batch[batch.length - 1] as number
      const computedAt = new Date().toISOString()
      const grouped = await this.deps.observations.listLiveForIdRange(first, last + 1)
      await this.stageBatch(runId, run, rules, asOf, batch, grouped, computedAt)
      done += batch.length
      onProgress?.(done, ids.length)
    }
    return ids.length
  }

  /**
   * Computes, for a nightly run, only the services whose judgement could differ from their published one
   * (RecheckRepository.due): no recheck date or another rule set's, recheck date reached, observations recorded since
   * `since` (the last published full run's start), reported changed by a source step, or never judged. With no `since`
   * (no full run published yet) or no recheck store, every service. The caller publishes (`publishFull`).
   */
  async stageDue(
    runId: number,
    rules: ActiveRuleSet,
    asOf: string,
    since: string | null,
    options: { changedServiceIds?: readonly number[]; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<StageDueOutcome> {
    const rechecks = this.deps.rechecks
    if (since === null || !rechecks) {
      return { computed: await this.stageAll(runId, rules, asOf, options.onProgress), due: null }
    }
    const due = await rechecks.due({
      asOf,
      ruleSetVersion: rules.version,
      since,
      changedServiceIds: options.changedServiceIds,
    })
    const run = this.startStaging(runId, due.ids)
    let done = 0
    options.onProgress?.(0, due.ids.length)
    for (let i = 0; i < due.ids.length; i += BATCH) {
      const batch = due.ids.slice(i, i + BATCH)
      const computedAt = new Date().toISOString()
      const grouped = await this.deps.observations.listLiveForIds(batch)
      await this.stageBatch(runId, run, rules, asOf, batch, grouped, computedAt)
      done += batch.length
      options.onProgress?.(done, due.ids.length)
    }
    return { computed: due.ids.length, due }
  }

  /**
   * Publishes a full run staged with `stageAll` or `stageDue`, with the recheck dates of its judgements in the same
   * transaction, and runs the after-publish hooks over the services it judged.
   */
  async publishFull(runId: number, servicesComputed: number): Promise<PublishOutcome> {
    const run = this.staged.get(runId)
    this.staged.delete(runId)
    const outcome = await this.deps.runs.publish(runId, servicesComputed, this.publishOptions(run?.rechecks ?? []))
    await this.runAfterPublish(runId, outcome.changedServiceIds, run?.judged ?? 'all')
    return outcome
  }

  /** Forgets what a run staged (it failed or was abandoned: its judgements are never published). */
  discardStaged(runId: number): void {
    this.staged.delete(runId)
  }

  private startStaging(runId: number, judged: number[] | 'all'): StagedRun {
    // One full run at a time (startRun refuses a second): anything left staged here is a run that never published.
    this.staged.clear()
    const run: StagedRun = { rechecks: [], judged }
    this.staged.set(runId, run)
    return run
  }

  private async stageBatch(
    runId: number,
    run: StagedRun,
    rules: ActiveRuleSet,
    asOf: string,
    batch: readonly number[],
    grouped: Map<number, Observation[]>,
    computedAt: string,
  ): Promise<void> {
    const overrides = await this.overridesFor([...batch], asOf)
    const computed = batch.map((serviceId) =>
      judge(serviceId, {
        observations: grouped.get(serviceId) ?? [],
        ruleSet: rules.ruleSet,
        ruleSetVersion: rules.version,
        asOf,
        override: overrides.get(serviceId) ?? null,
      }),
    )
    await this.deps.runs.stageSnapshots(runId, computed)
    for (const recheck of rechecksOf(computed, rules.version, computedAt)) run.rechecks.push(recheck)
    await this.deps.runs.heartbeat(runId)
  }

  /** The recheck dates publish with their judgements, when recheck dates are kept. */
  private publishOptions(rechecks: JudgementRecheck[]): PublishOptions {
    return this.deps.rechecks ? { rechecks } : {}
  }

  private async computeFor(serviceIds: number[], asOf: string, rules: ActiveRuleSet): Promise<ComputedSnapshot[]> {
    const overrides = await this.overridesFor(serviceIds, asOf)
    const computed: ComputedSnapshot[] = []
    for (const serviceId of serviceIds) {
      const observations = await this.deps.observations.listLive(serviceId)
      computed.push(
        judge(serviceId, {
          observations,
          ruleSet: rules.ruleSet,
          ruleSetVersion: rules.version,
          asOf,
          override: overrides.get(serviceId) ?? null,
        }),
      )
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

/** One service's judgement with the date it could next change by itself. */
function judge(serviceId: number, input: AssessRiskInput): ComputedSnapshot {
  return { serviceId, result: assessRisk(input), recheckOn: recheckOn(input) }
}

function rechecksOf(
  computed: readonly ComputedSnapshot[],
  ruleSetVersion: number,
  computedAt: string,
): JudgementRecheck[] {
  return computed.map(({ serviceId, recheckOn: on }) => ({
    serviceId,
    recheckOn: on ?? null,
    ruleSetVersion,
    computedAt,
  }))
}
