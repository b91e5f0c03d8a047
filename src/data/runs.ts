import { createHash } from 'node:crypto'
import { assignRunLock, releaseRunLock, tryAcquireRunLock } from './databaseLocks.js'
import type { Db } from './database.js'
import type { RiskResult } from '../domain/riskResult.js'
import type { Rag } from '../domain/vocabulary.js'

export type RunKind = 'full' | 'entry' | 'seed'

/** What started a run, as people say it. Stored with the run (the free-text trigger says more, e.g. who). */
export const RUN_CAUSES = ['scheduled', 'manual', 'rule_set', 'entry', 'override', 'seed'] as const
export type RunCause = (typeof RUN_CAUSES)[number]

export const RUN_CAUSE_LABELS: Record<RunCause, string> = {
  scheduled: 'Overnight (scheduled)',
  manual: 'Refresh by hand',
  rule_set: 'Rule set change',
  entry: 'Entry',
  override: 'Override',
  seed: 'Demo history',
}

/** The cause of a run from its kind and trigger (the schedule starts the refresh with trigger `schedule`). */
export function runCauseOf(kind: RunKind, trigger: string | null): RunCause {
  if (kind === 'seed') return 'seed'
  if (kind === 'entry') return trigger?.startsWith('override ') ? 'override' : 'entry'
  if (trigger === 'schedule') return 'scheduled'
  if (trigger?.startsWith('rule set')) return 'rule_set'
  return 'manual'
}
export type RunStatus = 'running' | 'completed' | 'failed' | 'abandoned'

export interface RefreshRun {
  id: number
  kind: RunKind
  cause: RunCause
  trigger: string | null
  startedAt: string
  finishedAt: string | null
  publishedAt: string | null
  status: RunStatus
  ruleSetVersion: number | null
  servicesComputed: number
  /** Services registered when a full run judged them (the rest were unchanged); null for entry runs and older runs. */
  servicesTotal: number | null
  servicesChanged: number
  error: string | null
}

export type SourceRunStatus = 'running' | 'succeeded' | 'failed' | 'not_configured' | 'skipped'

export interface SourceReject {
  record: string
  field?: string
  reason: string
}

export interface SourceRun {
  runId: number
  source: string
  status: SourceRunStatus
  startedAt: string
  finishedAt: string | null
  read: number
  matched: number
  changed: number
  unchanged: number
  rejected: number
  error: string | null
  rejects: SourceReject[]
}

export interface SourceFreshness {
  source: string
  lastAttemptAt: string | null
  lastAttemptStatus: SourceRunStatus | null
  lastSuccessAt: string | null
  lastError: string | null
}

export interface ComputedSnapshot {
  serviceId: number
  result: RiskResult
  /** When the judgement could next change with nothing new recorded (src/domain/recheck.ts); null: never by date. */
  recheckOn?: string | null
}

export interface PublishOutcome {
  changed: number
  ragChanges: number
  changedServiceIds: number[]
}

/** Runs inside the publishing transaction with the services whose judgement changed. */
export type PublishHook = (changedServiceIds: number[]) => void

export interface CurrentSnapshot {
  serviceId: number
  snapshotId: number
  runId: number
  changedAt: string
  /** When the service's RAG became what it is now (a new judgement of the same colour leaves it). */
  ragSince: string
  result: RiskResult
}

export interface RagChange {
  id: number
  runId: number
  serviceId: number
  fromRag: Rag | null
  toRag: Rag
  at: string
  reasons: string[]
}

/** A RAG change with the names the dashboard shows beside it, and what caused it. */
export interface NamedRagChange extends RagChange {
  ref: string
  name: string
  providerName: string
  cause: RunCause
  trigger: string | null
}

export interface HistoryPoint {
  at: string
  asOf: string
  rag: Rag
  computedRag: Rag
  score: number
  runId: number
}

interface RunRow {
  id: number
  kind: RunKind
  cause: RunCause | null
  trigger: string | null
  started_at: string
  finished_at: string | null
  published_at: string | null
  status: RunStatus
  rule_set_version: number | null
  services_computed: number
  services_total: number | null
  services_changed: number
  error: string | null
}

function toRun(row: RunRow): RefreshRun {
  return {
    id: row.id,
    kind: row.kind,
    cause: row.cause ?? runCauseOf(row.kind, row.trigger),
    trigger: row.trigger,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    publishedAt: row.published_at,
    status: row.status,
    ruleSetVersion: row.rule_set_version,
    servicesComputed: row.services_computed,
    servicesTotal: row.services_total,
    servicesChanged: row.services_changed,
    error: row.error,
  }
}

/** What makes two judgements the same, whatever day they were made. */
export function fingerprint(result: RiskResult): string {
  const { asOf: _asOf, ...rest } = result
  return createHash('sha256').update(JSON.stringify(rest)).digest('base64url')
}

export class AnotherRunInProgressError extends Error {}

/**
 * Refresh runs, their per-source outcomes, and the risk snapshots they produce. Snapshots are staged under their run
 * and become visible only when the run is published, by moving each service's pointer in one transaction.
 */
export class RunRepository {
  private readonly statements

  constructor(private readonly db: Db) {
    this.statements = {
      insertRun: db.prepare(
        `INSERT INTO refresh_runs (kind, cause, trigger, started_at, status, rule_set_version, pid, heartbeat_at)
         VALUES (@kind, @cause, @trigger, @now, 'running', @ruleSetVersion, @pid, @now)`,
      ),
      activeFullRuns: db.prepare<[], { id: number; heartbeat_at: string | null; pid: number | null }>(
        `SELECT id, heartbeat_at, pid FROM refresh_runs WHERE kind = 'full' AND status = 'running'`,
      ),
      abandonRun: db.prepare(
        `UPDATE refresh_runs SET status = 'abandoned', finished_at = @now,
           error = COALESCE(error, 'The process running it stopped before it finished') WHERE id = @id`,
      ),
      abandonSourceRuns: db.prepare(
        `UPDATE source_runs SET status = 'failed', finished_at = @now,
           error = COALESCE(error, 'The refresh process stopped before this source finished') WHERE run_id = @id
           AND status = 'running'`,
      ),
      dropUnpublishedSnapshots: db.prepare(
        `DELETE FROM snapshots WHERE run_id IN (
           SELECT id FROM refresh_runs WHERE status IN ('abandoned', 'failed') AND published_at IS NULL)`,
      ),
      heartbeat: db.prepare(`UPDATE refresh_runs SET heartbeat_at = @now WHERE id = @id`),
      servicesTotal: db.prepare(`UPDATE refresh_runs SET services_total = @total WHERE id = @id`),
      finishRun: db.prepare(
        `UPDATE refresh_runs SET status = @status, finished_at = @now, error = @error WHERE id = @id`,
      ),
      publishRun: db.prepare(
        `UPDATE refresh_runs SET status = 'completed', finished_at = @now, published_at = @now,
           services_computed = @computed, services_changed = @changed WHERE id = @id`,
      ),
      runById: db.prepare<[number], RunRow>('SELECT * FROM refresh_runs WHERE id = ?'),
      listRuns: db.prepare<[string, string, number, number], RunRow>(
        `SELECT * FROM refresh_runs WHERE (? = '' OR kind = ?) ORDER BY id DESC LIMIT ? OFFSET ?`,
      ),
      lastPublishedOfCause: db.prepare<[RunCause], RunRow>(
        `SELECT * FROM refresh_runs WHERE published_at IS NOT NULL AND cause = ? ORDER BY id DESC LIMIT 1`,
      ),
      namedChangesBetween: db.prepare<
        { since: string; until: string; limit: number; fromRunId: number | null },
        RagChangeRow & NamedRow & { cause: RunCause | null; kind: RunKind; trigger: string | null }
      >(
        `SELECT c.*, s.ref, s.name, p.name AS provider_name, r.cause, r.kind, r.trigger
         FROM rag_changes c JOIN refresh_runs r ON r.id = c.run_id
           JOIN services s ON s.id = c.service_id JOIN providers p ON p.id = s.provider_id
         WHERE CASE WHEN @fromRunId IS NULL THEN c.at >= @since ELSE c.run_id >= @fromRunId END AND c.at < @until
         ORDER BY c.at DESC, c.id DESC LIMIT @limit`,
      ),
      lastPublished: db.prepare<[string, string], RunRow>(
        `SELECT * FROM refresh_runs WHERE published_at IS NOT NULL AND (? = '' OR kind = ?) ORDER BY id DESC LIMIT 1`,
      ),
      upsertSourceRun: db.prepare(
        `INSERT INTO source_runs (run_id, source, status, started_at, finished_at, read_count, matched_count,
           changed_count, unchanged_count, rejected_count, error, rejects)
         VALUES (@runId, @source, @status, @startedAt, @finishedAt, @read, @matched, @changed, @unchanged, @rejected,
           @error, @rejects)
         ON CONFLICT (run_id, source) DO UPDATE SET status = excluded.status, finished_at = excluded.finished_at,
           read_count = excluded.read_count, matched_count = excluded.matched_count,
           changed_count = excluded.changed_count, unchanged_count = excluded.unchanged_count,
           rejected_count = excluded.rejected_count, error = excluded.error, rejects = excluded.rejects`,
      ),
      sourceRunsForRun: db.prepare<[number], SourceRunRow>(
        'SELECT * FROM source_runs WHERE run_id = ? ORDER BY started_at, source',
      ),
      freshness: db.prepare<[], FreshnessRow>(
        `SELECT source,
           MAX(started_at) AS last_attempt_at,
           (SELECT s2.status FROM source_runs s2 WHERE s2.source = s.source ORDER BY s2.started_at DESC LIMIT 1)
             AS last_attempt_status,
           (SELECT s3.error FROM source_runs s3 WHERE s3.source = s.source ORDER BY s3.started_at DESC LIMIT 1)
             AS last_error,
           MAX(CASE WHEN status = 'succeeded' THEN finished_at END) AS last_success_at
         FROM source_runs s GROUP BY source ORDER BY source`,
      ),
      currentFingerprint: db.prepare<[number], { fingerprint: string }>(
        `SELECT sn.fingerprint FROM current_snapshots c JOIN snapshots sn ON sn.id = c.snapshot_id
         WHERE c.service_id = ?`,
      ),
      insertSnapshot: db.prepare(
        `INSERT INTO snapshots (run_id, service_id, as_of, computed_at, rag, computed_rag, score, result, fingerprint,
           rule_set_version, deteriorating)
         VALUES (@runId, @serviceId, @asOf, @computedAt, @rag, @computedRag, @score, @result, @fingerprint,
           @ruleSetVersion, @deteriorating)
         ON CONFLICT (run_id, service_id) DO UPDATE SET as_of = excluded.as_of, computed_at = excluded.computed_at,
           rag = excluded.rag, computed_rag = excluded.computed_rag, score = excluded.score, result = excluded.result,
           fingerprint = excluded.fingerprint, rule_set_version = excluded.rule_set_version,
           deteriorating = excluded.deteriorating`,
      ),
      stagedForRun: db.prepare<
        [number],
        {
          id: number
          service_id: number
          rag: Rag
          score: number
          computed_at: string
          as_of: string
          result: string
          deteriorating: number
        }
      >(
        `SELECT id, service_id, rag, score, computed_at, as_of, result, deteriorating FROM snapshots WHERE run_id = ?
         ORDER BY service_id`,
      ),
      currentPointer: db.prepare<[number], { snapshot_id: number; rag: Rag; computed_at: string }>(
        `SELECT c.snapshot_id, c.rag, sn.computed_at FROM current_snapshots c JOIN snapshots sn ON sn.id = c.snapshot_id
         WHERE c.service_id = ?`,
      ),
      upsertPointer: db.prepare(
        `INSERT INTO current_snapshots (service_id, snapshot_id, previous_snapshot_id, run_id, changed_at, rag, score,
           deteriorating, rag_since)
         VALUES (@serviceId, @snapshotId, @previousSnapshotId, @runId, @now, @rag, @score, @deteriorating, @changeAt)
         ON CONFLICT (service_id) DO UPDATE SET snapshot_id = excluded.snapshot_id,
           previous_snapshot_id = excluded.previous_snapshot_id, run_id = excluded.run_id,
           changed_at = excluded.changed_at, rag = excluded.rag, score = excluded.score,
           deteriorating = excluded.deteriorating,
           rag_since = CASE WHEN current_snapshots.rag = excluded.rag AND current_snapshots.rag_since IS NOT NULL
             THEN current_snapshots.rag_since ELSE excluded.rag_since END`,
      ),
      insertRagChange: db.prepare(
        `INSERT INTO rag_changes (run_id, service_id, from_rag, to_rag, at, reasons)
         VALUES (@runId, @serviceId, @fromRag, @toRag, @changeAt, @reasons)`,
      ),
      current: db.prepare<[number], CurrentRow>(
        `SELECT c.service_id, c.snapshot_id, c.run_id, c.changed_at, COALESCE(c.rag_since, c.changed_at) AS rag_since,
           sn.result
         FROM current_snapshots c JOIN snapshots sn ON sn.id = c.snapshot_id WHERE c.service_id = ?`,
      ),
      history: db.prepare<[number], HistoryRow>(
        `SELECT sn.computed_at, sn.as_of, sn.rag, sn.computed_rag, sn.score, sn.run_id
         FROM snapshots sn JOIN refresh_runs r ON r.id = sn.run_id
         WHERE sn.service_id = ? AND r.published_at IS NOT NULL ORDER BY sn.as_of, sn.id`,
      ),
      changesSince: db.prepare<[number, number], RagChangeRow>(
        `SELECT * FROM rag_changes WHERE run_id >= ? ORDER BY id DESC LIMIT ?`,
      ),
      ragCounts: db.prepare<[], { rag: Rag; n: number }>(
        'SELECT rag, COUNT(*) AS n FROM current_snapshots GROUP BY rag',
      ),
    }
  }

  /**
   * Starts a run. A full run takes the run lock (databaseLocks.ts), which the operating system releases when its holder
   * dies: while another full run holds it, this one is refused; once this one holds it, any full run still marked
   * running is dead whatever its process id says, and is marked abandoned, its unpublished snapshots dropped: nothing
   * a reader sees changes.
   */
  async startRun(kind: RunKind, options: { trigger?: string; ruleSetVersion?: number | null } = {}): Promise<number> {
    const now = new Date()
    if (kind === 'full' && !tryAcquireRunLock(this.db)) {
      const active = this.statements.activeFullRuns.all().at(-1)
      throw new AnotherRunInProgressError(
        active ? `Refresh run ${active.id} is still running` : 'Another refresh run is still starting',
      )
    }
    const start = this.db.transaction(() => {
      if (kind === 'full') {
        for (const dead of this.statements.activeFullRuns.all()) {
          this.statements.abandonRun.run({ id: dead.id, now: now.toISOString() })
          this.statements.abandonSourceRuns.run({ id: dead.id, now: now.toISOString() })
        }
        this.statements.dropUnpublishedSnapshots.run()
      }
      const info = this.statements.insertRun.run({
        kind,
        cause: runCauseOf(kind, options.trigger ?? null),
        trigger: options.trigger ?? null,
        ruleSetVersion: options.ruleSetVersion ?? null,
        pid: process.pid,
        now: now.toISOString(),
      })
      return Number(info.lastInsertRowid)
    })
    try {
      const runId = start.immediate()
      if (kind === 'full') assignRunLock(this.db, runId)
      return runId
    } catch (error) {
      if (kind === 'full') releaseRunLock(this.db, null)
      throw error
    }
  }

  /**
   * Runs `read` inside one read transaction, so every query it makes sees the same committed state: a page that reads
   * the RAG counts and then the service list never shows half of the previous run and half of the new one, whatever a
   * refresh in another process commits meanwhile (SPEC §6). Only the SQL `read` runs before returning is covered: the
   * repositories' async methods run their SQL at once, so `() => Promise.all([repo.a(), repo.b()])` is covered whole.
   */
  readConsistently<T>(read: () => T): T {
    if (this.db.inTransaction) return read()
    this.db.exec('BEGIN DEFERRED')
    try {
      return read()
    } finally {
      if (this.db.inTransaction) this.db.exec('COMMIT')
    }
  }

  /** Records how many services were registered when the run judged the due ones among them. */
  async recordServicesTotal(runId: number, total: number): Promise<void> {
    this.statements.servicesTotal.run({ id: runId, total })
  }

  async heartbeat(runId: number): Promise<void> {
    this.statements.heartbeat.run({ id: runId, now: new Date().toISOString() })
  }

  async failRun(runId: number, error: string): Promise<void> {
    const now = new Date().toISOString()
    this.statements.finishRun.run({ id: runId, status: 'failed', error, now })
    this.statements.abandonSourceRuns.run({ id: runId, now })
    releaseRunLock(this.db, runId)
  }

  async getRun(runId: number): Promise<RefreshRun | null> {
    const row = this.statements.runById.get(runId)
    return row ? toRun(row) : null
  }

  async listRuns(options: { kind?: RunKind; limit?: number; offset?: number } = {}): Promise<RefreshRun[]> {
    const kind = options.kind ?? ''
    return this.statements.listRuns.all(kind, kind, options.limit ?? 50, options.offset ?? 0).map(toRun)
  }

  async lastPublishedRun(kind?: RunKind): Promise<RefreshRun | null> {
    const row = this.statements.lastPublished.get(kind ?? '', kind ?? '')
    return row ? toRun(row) : null
  }

  /**
   * The last overnight run: the last scheduled one, or where none has run (a new install, the demo), the last full
   * refresh started by hand. Rule-set changes and entries made by day are never it.
   */
  async lastOvernightRun(): Promise<RefreshRun | null> {
    const row =
      this.statements.lastPublishedOfCause.get('scheduled') ?? this.statements.lastPublishedOfCause.get('manual')
    return row ? toRun(row) : null
  }

  /**
   * RAG changes made in [since, until), newest first, whatever runs made them, each with its cause. With `fromRunId`:
   * the changes of that run and every later one instead of those from `since` (a run's start and the last change
   * before it can share a millisecond).
   */
  async namedChangesBetween(
    since: string,
    until: string,
    options: { fromRunId?: number; limit?: number } = {},
  ): Promise<NamedRagChange[]> {
    const query = { since, until, limit: options.limit ?? 2000, fromRunId: options.fromRunId ?? null }
    return this.statements.namedChangesBetween.all(query).map((row) => ({
      id: row.id,
      runId: row.run_id,
      serviceId: row.service_id,
      fromRag: row.from_rag,
      toRag: row.to_rag,
      at: row.at,
      reasons: JSON.parse(row.reasons) as string[],
      ref: row.ref,
      name: row.name,
      providerName: row.provider_name,
      cause: row.cause ?? runCauseOf(row.kind, row.trigger),
      trigger: row.trigger,
    }))
  }

  async recordSourceRun(run: SourceRun): Promise<void> {
    this.statements.upsertSourceRun.run({
      ...run,
      rejects: JSON.stringify(run.rejects.slice(0, 1000)),
    })
  }

  async listSourceRuns(runId: number): Promise<SourceRun[]> {
    return this.statements.sourceRunsForRun.all(runId).map(toSourceRun)
  }

  async sourceFreshness(): Promise<SourceFreshness[]> {
    return this.statements.freshness.all().map((row) => ({
      source: row.source,
      lastAttemptAt: row.last_attempt_at,
      lastAttemptStatus: row.last_attempt_status,
      lastSuccessAt: row.last_success_at,
      lastError: row.last_error,
    }))
  }

  /**
   * Stages judgements under a run, keeping only those that differ from the service's current one (history grows with
   * changes, not with nights). Readers do not see staged rows until `publish`.
   */
  async stageSnapshots(runId: number, computed: ComputedSnapshot[]): Promise<number> {
    return this.stageNow(runId, computed)
  }

  private stageNow(runId: number, computed: ComputedSnapshot[]): number {
    const computedAt = new Date().toISOString()
    const work = () => {
      let staged = 0
      for (const { serviceId, result } of computed) {
        const print = fingerprint(result)
        if (this.statements.currentFingerprint.get(serviceId)?.fingerprint === print) continue
        this.statements.insertSnapshot.run({
          runId,
          serviceId,
          asOf: result.asOf,
          computedAt,
          rag: result.rag,
          computedRag: result.computedRag,
          score: result.score,
          result: JSON.stringify(result),
          fingerprint: print,
          ruleSetVersion: result.ruleSetVersion,
          deteriorating: result.flags.deteriorating ? 1 : 0,
        })
        staged++
      }
      return staged
    }
    return this.db.inTransaction ? work() : this.db.transaction(work).immediate()
  }

  /**
   * Publishes a run: moves every staged service's pointer, records RAG changes and marks the run complete, all in one
   * transaction. A pointer already moved by a judgement computed later (an entry made during the run) is left alone.
   * `extra` runs inside the same transaction (e.g. eligibility updates), so they publish together.
   */
  async publish(runId: number, servicesComputed: number, extra?: PublishHook): Promise<PublishOutcome> {
    const outcome = this.db.transaction(() => this.publishNow(runId, servicesComputed, extra)).immediate()
    releaseRunLock(this.db, runId)
    return outcome
  }

  /** Stage and publish in one transaction: the small runs of entries made during the day. */
  async stageAndPublish(runId: number, computed: ComputedSnapshot[], extra?: PublishHook): Promise<PublishOutcome> {
    const outcome = this.db
      .transaction(() => {
        this.stageNow(runId, computed)
        return this.publishNow(runId, computed.length, extra)
      })
      .immediate()
    releaseRunLock(this.db, runId)
    return outcome
  }

  private publishNow(runId: number, servicesComputed: number, extra?: PublishHook): PublishOutcome {
    const now = new Date().toISOString()
    let changed = 0
    let ragChanges = 0
    const changedServiceIds: number[] = []
    // A seed run judges a past date: its changes happened then, not on the day the demo was seeded.
    const judgesThePast = this.statements.runById.get(runId)?.kind === 'seed'
    for (const staged of this.statements.stagedForRun.all(runId)) {
      const changeAt = judgesThePast ? `${staged.as_of.slice(0, 10)}T00:00:00.000Z` : now
      const current = this.statements.currentPointer.get(staged.service_id)
      if (current && current.computed_at > staged.computed_at) continue
      if (current?.snapshot_id === staged.id) continue
      this.statements.upsertPointer.run({
        serviceId: staged.service_id,
        snapshotId: staged.id,
        previousSnapshotId: current?.snapshot_id ?? null,
        runId,
        now,
        changeAt,
        rag: staged.rag,
        score: staged.score,
        deteriorating: staged.deteriorating,
      })
      changed++
      changedServiceIds.push(staged.service_id)
      if (!current || current.rag !== staged.rag) {
        const result = JSON.parse(staged.result) as RiskResult
        this.statements.insertRagChange.run({
          runId,
          serviceId: staged.service_id,
          fromRag: current?.rag ?? null,
          toRag: staged.rag,
          changeAt,
          reasons: JSON.stringify(result.reasons),
        })
        ragChanges++
      }
    }
    extra?.(changedServiceIds)
    this.statements.publishRun.run({ id: runId, now, computed: servicesComputed, changed })
    return { changed, ragChanges, changedServiceIds }
  }

  async current(serviceId: number): Promise<CurrentSnapshot | null> {
    const row = this.statements.current.get(serviceId)
    return row ? toCurrent(row) : null
  }

  async history(serviceId: number): Promise<HistoryPoint[]> {
    return this.statements.history.all(serviceId).map(toHistoryPoint)
  }

  /** The published history of each of these services (at most 500 per call), keyed by service id. */
  async historyOf(serviceIds: readonly number[]): Promise<Map<number, HistoryPoint[]>> {
    const ids = [...new Set(serviceIds)].slice(0, 500)
    const histories = new Map<number, HistoryPoint[]>(ids.map((id) => [id, []]))
    if (ids.length === 0) return histories
    const rows = this.db
      .prepare<number[], HistoryRow & { service_id: number }>(
        `SELECT sn.service_id, sn.computed_at, sn.as_of, sn.rag, sn.computed_rag, sn.score, sn.run_id
         FROM snapshots sn JOIN refresh_runs r ON r.id = sn.run_id
         WHERE sn.service_id IN (${ids.map(() => '?').join(', ')}) AND r.published_at IS NOT NULL
         ORDER BY sn.service_id, sn.as_of, sn.id`,
      )
      .all(...ids)
    for (const row of rows) histories.get(row.service_id)?.push(toHistoryPoint(row))
    return histories
  }

  /** RAG changes made by this run and any later (entry) runs: the morning list. */
  async changesSince(runId: number, limit = 500): Promise<RagChange[]> {
    return this.statements.changesSince.all(runId, limit).map((row) => ({
      id: row.id,
      runId: row.run_id,
      serviceId: row.service_id,
      fromRag: row.from_rag,
      toRag: row.to_rag,
      at: row.at,
      reasons: JSON.parse(row.reasons) as string[],
    }))
  }

  async ragCounts(): Promise<Record<Rag, number>> {
    const counts: Record<Rag, number> = { red: 0, amber: 0, green: 0 }
    for (const row of this.statements.ragCounts.all()) counts[row.rag] = row.n
    return counts
  }
}

interface SourceRunRow {
  run_id: number
  source: string
  status: SourceRunStatus
  started_at: string
  finished_at: string | null
  read_count: number
  matched_count: number
  changed_count: number
  unchanged_count: number
  rejected_count: number
  error: string | null
  rejects: string
}

interface FreshnessRow {
  source: string
  last_attempt_at: string | null
  last_attempt_status: SourceRunStatus | null
  last_success_at: string | null
  last_error: string | null
}

interface CurrentRow {
  service_id: number
  snapshot_id: number
  run_id: number
  changed_at: string
  rag_since: string
  result: string
}

interface HistoryRow {
  computed_at: string
  as_of: string
  rag: Rag
  computed_rag: Rag
  score: number
  run_id: number
}

function toHistoryPoint(row: HistoryRow): HistoryPoint {
  return {
    at: row.computed_at,
    asOf: row.as_of,
    rag: row.rag,
    computedRag: row.computed_rag,
    score: row.score,
    runId: row.run_id,
  }
}

interface RagChangeRow {
  id: number
  run_id: number
  service_id: number
  from_rag: Rag | null
  to_rag: Rag
  at: string
  reasons: string
}

interface NamedRow {
  ref: string
  name: string
  provider_name: string
}

function toSourceRun(row: SourceRunRow): SourceRun {
  return {
    runId: row.run_id,
    source: row.source,
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    read: row.read_count,
    matched: row.matched_count,
    changed: row.changed_count,
    unchanged: row.unchanged_count,
    rejected: row.rejected_count,
    error: row.error,
    rejects: JSON.parse(row.rejects) as SourceReject[],
  }
}

function toCurrent(row: CurrentRow): CurrentSnapshot {
  return {
    serviceId: row.service_id,
    snapshotId: row.snapshot_id,
    runId: row.run_id,
    changedAt: row.changed_at,
    ragSince: row.rag_since,
    result: JSON.parse(row.result) as RiskResult,
  }
}
