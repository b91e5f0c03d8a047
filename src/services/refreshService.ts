import type { DueReason } from '../data/rechecks.js'
import type { SourceReject, SourceRunStatus } from '../data/runs.js'
import type { Services } from './container.js'

export interface SourceStepContext {
  runId: number
  /** The council's date the run judges as of. */
  asOf: string
  /** Progress within the source: done of total (total may be unknown: null). */
  progress: (done: number, total: number | null) => void
  signal?: AbortSignal
}

export interface SourceStepResult {
  read: number
  matched: number
  changed: number
  unchanged: number
  rejected: number
  rejects: SourceReject[]
  /** Services whose observations changed, so the caller knows what moved. */
  changedServiceIds?: number[]
}

/** One source of the overnight run. A source with neither a base URL nor a file is not configured, not failed. */
export interface SourceStep {
  source: string
  label: string
  configured: boolean
  run(context: SourceStepContext): Promise<SourceStepResult>
}

export interface SourceSummary {
  source: string
  label: string
  status: SourceRunStatus
  result: SourceStepResult | null
  error: string | null
  durationMs: number
}

export interface RefreshSummary {
  runId: number
  asOf: string
  sources: SourceSummary[]
  /** Services judged this run (refresh_runs.services_computed). */
  servicesComputed: number
  /** 'all': every service judged (forced, or no full run published before); 'due': only the due ones. */
  recompute: 'all' | 'due'
  /** Services registered; those not judged were skipped as nothing could have changed their judgement. */
  servicesTotal: number
  servicesSkipped: number
  /** Why the due services were due (recompute 'due' only). */
  dueReasons: Record<DueReason, number> | null
  servicesChanged: number
  ragChanges: number
  durationMs: number
}

export interface RefreshProgress {
  onSourceStart?(step: SourceStep): void
  onSourceProgress?(step: SourceStep, done: number, total: number | null): void
  onSourceEnd?(summary: SourceSummary): void
  onComputeProgress?(done: number, total: number): void
}

/** How often a source's progress also beats the run's heartbeat (when it last showed life, for the run pages). */
const HEARTBEAT_EVERY_MS = 60_000

const EMPTY_RESULT: SourceStepResult = { read: 0, matched: 0, changed: 0, unchanged: 0, rejected: 0, rejects: [] }

export interface RefreshRunOptions {
  trigger: string
  progress?: RefreshProgress
  signal?: AbortSignal
  /** Recompute every service, not only the due ones (`npm run refresh -- --all`). */
  all?: boolean
}

/**
 * The overnight refresh (SPEC §6): each source in turn (a failing source keeps its last good data and does not stop
 * the others), then the services whose judgement could have changed (new observations, a recheck date reached, a
 * rule set change: RiskService.stageDue) recomputed under the run and published at once. `all` recomputes every one.
 */
export class RefreshService {
  constructor(
    private readonly services: Services,
    private readonly steps: SourceStep[],
  ) {}

  async run(options: RefreshRunOptions): Promise<RefreshSummary> {
    const started = Date.now()
    const rules = await this.services.risk.activeRuleSet()
    // Observations recorded since the last full run started may postdate its judgements: their services are due.
    const since = options.all ? null : ((await this.services.runs.lastPublishedRun('full'))?.startedAt ?? null)
    const runId = await this.services.runs.startRun('full', { trigger: options.trigger, ruleSetVersion: rules.version })
    const asOf = this.services.clock.today()
    const log = this.services.logger.child({ runId })
    log.info({ trigger: options.trigger }, 'refresh started')
    try {
      const sources: SourceSummary[] = []
      for (const step of this.steps) {
        sources.push(await this.runStep(runId, asOf, step, options))
        await this.services.runs.heartbeat(runId)
      }
      const onProgress = options.progress?.onComputeProgress
      const changedServiceIds = sources.flatMap((s) => s.result?.changedServiceIds ?? [])
      const staged = options.all
        ? { computed: await this.services.risk.stageAll(runId, rules, asOf, onProgress), due: null }
        : await this.services.risk.stageDue(runId, rules, asOf, since, { changedServiceIds, onProgress })
      const computed = staged.computed
      const outcome = await this.services.risk.publishFull(runId, computed)
      const total = staged.due?.total ?? computed
      await this.services.runs.recordServicesTotal(runId, total)
      const summary: RefreshSummary = {
        runId,
        asOf,
        sources,
        servicesComputed: computed,
        recompute: staged.due ? 'due' : 'all',
        servicesTotal: total,
        servicesSkipped: total - computed,
        dueReasons: staged.due?.byReason ?? null,
        servicesChanged: outcome.changed,
        ragChanges: outcome.ragChanges,
        durationMs: Date.now() - started,
      }
      log.info({ ...summary, sources: sources.map((s) => `${s.source}:${s.status}`) }, 'refresh published')
      return summary
    } catch (error) {
      this.services.risk.discardStaged(runId)
      await this.services.runs.failRun(runId, (error as Error).message)
      log.error({ err: error }, 'refresh failed')
      throw error
    }
  }

  private async runStep(
    runId: number,
    asOf: string,
    step: SourceStep,
    options: { progress?: RefreshProgress; signal?: AbortSignal },
  ): Promise<SourceSummary> {
    const startedAt = new Date().toISOString()
    const started = Date.now()
    const record = (status: SourceRunStatus, result: SourceStepResult, error: string | null) =>
      this.services.runs.recordSourceRun({
        runId,
        source: step.source,
        status,
        startedAt,
        finishedAt: status === 'running' ? null : new Date().toISOString(),
        ...result,
        error,
      })
    if (!step.configured) {
      await record('not_configured', EMPTY_RESULT, null)
      const summary = {
        source: step.source,
        label: step.label,
        status: 'not_configured' as const,
        result: null,
        error: null,
        durationMs: 0,
      }
      options.progress?.onSourceEnd?.(summary)
      return summary
    }
    options.progress?.onSourceStart?.(step)
    await record('running', EMPTY_RESULT, null)
    // A long source (a national file, a slow API) beats the run's heartbeat as it goes, so the run pages show it
    // still working (whether it is alive is the run lock's business: databaseLocks.ts).
    let lastBeat = Date.now()
    const beat = () => {
      if (Date.now() - lastBeat < HEARTBEAT_EVERY_MS) return
      lastBeat = Date.now()
      this.services.runs.heartbeat(runId).catch(() => undefined)
    }
    try {
      const result = await step.run({
        runId,
        asOf,
        signal: options.signal,
        progress: (done, total) => {
          beat()
          options.progress?.onSourceProgress?.(step, done, total)
        },
      })
      await record('succeeded', result, null)
      const summary = {
        source: step.source,
        label: step.label,
        status: 'succeeded' as const,
        result,
        error: null,
        durationMs: Date.now() - started,
      }
      options.progress?.onSourceEnd?.(summary)
      return summary
    } catch (error) {
      const message = (error as Error).message
      this.services.logger.warn({ runId, source: step.source, err: error }, 'source failed; keeping its last good data')
      await record('failed', EMPTY_RESULT, message)
      const summary = {
        source: step.source,
        label: step.label,
        status: 'failed' as const,
        result: null,
        error: message,
        durationMs: Date.now() - started,
      }
      options.progress?.onSourceEnd?.(summary)
      return summary
    }
  }
}
