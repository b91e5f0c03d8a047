import { Kysely, sql } from 'kysely'
import type { Rag } from '../domain/vocabulary.js'
import type { Db } from './database.js'
import { inTransaction, toExecutor, type Executor, type ExecutorSource } from './executor.js'
import type { Platform, RunLock } from './platform.js'
import { publishStaged, stageSnapshots } from './runPublishing.js'
import {
  AnotherRunInProgressError,
  runCauseOf,
  toCurrent,
  toHistoryPoint,
  toRun,
  toSourceRun,
  type ComputedSnapshot,
  type CurrentRow,
  type CurrentSnapshot,
  type FreshnessRow,
  type HistoryPoint,
  type HistoryRow,
  type NamedRagChange,
  type NamedRow,
  type PublishOptions,
  type PublishOutcome,
  type RagChange,
  type RagChangeRow,
  type RefreshRun,
  type RunCause,
  type RunKind,
  type RunRow,
  type SourceFreshness,
  type SourceRun,
  type SourceRunRow,
} from './runModel.js'
import { sqlitePlatform } from './sqlite/platform.js'

export * from './runModel.js'

/** Ids per `IN (...)` list. */
const IDS_PER_QUERY = 500

/**
 * Refresh runs, their per-source outcomes, and the risk snapshots they produce. Snapshots are staged under their run
 * and become visible only when the run is published, by moving each service's pointer in one transaction
 * (runPublishing.ts).
 */
export class RunRepository {
  private readonly db: Executor
  private readonly platform: Platform | null

  constructor(db: ExecutorSource, platform?: Platform) {
    this.db = toExecutor(db)
    // A raw SQLite handle (tests, command-line jobs) brings its own platform.
    this.platform = platform ?? (db instanceof Kysely ? null : sqlitePlatform(db as Db))
  }

  private get runLock(): RunLock {
    if (!this.platform) throw new Error('RunRepository needs its platform to run a full run')
    return this.platform.runLock
  }

  /**
   * Starts a run. A full run takes the run lock (Platform.runLock), which is released when its holder dies: while
   * another full run holds it, this one is refused; once this one holds it, any full run still marked running is dead
   * whatever its process id says, and is marked abandoned, its unpublished snapshots dropped: nothing a reader sees
   * changes.
   */
  async startRun(kind: RunKind, options: { trigger?: string; ruleSetVersion?: number | null } = {}): Promise<number> {
    const now = new Date().toISOString()
    if (kind === 'full' && !(await this.runLock.tryAcquire())) {
      const active = (await this.activeFullRuns(this.db)).at(-1)
      throw new AnotherRunInProgressError(
        active ? `Refresh run ${active.id} is still running` : 'Another refresh run is still starting',
      )
    }
    try {
      const runId = await inTransaction(this.db, async (trx) => {
        if (kind === 'full') {
          for (const dead of await this.activeFullRuns(trx)) {
            await sql`
              UPDATE refresh_runs SET status = 'abandoned', finished_at = ${now},
                error = COALESCE(error, 'The process running it stopped before it finished')
              WHERE id = ${dead.id}`.execute(trx)
            await this.abandonSourceRuns(trx, dead.id, now)
          }
          await sql`
            DELETE FROM snapshots WHERE run_id IN (
              SELECT id FROM refresh_runs WHERE status IN ('abandoned', 'failed') AND published_at IS NULL)`.execute(trx)
        }
        const { rows } = await sql<{ id: number }>`
          INSERT INTO refresh_runs (kind, cause, trigger, started_at, status, rule_set_version, pid, heartbeat_at)
          VALUES (${kind}, ${runCauseOf(kind, options.trigger ?? null)}, ${options.trigger ?? null}, ${now}, 'running',
            ${options.ruleSetVersion ?? null}, ${process.pid}, ${now})
          RETURNING id`.execute(trx)
        return Number(rows[0]?.id)
      })
      if (kind === 'full') this.runLock.assign(runId)
      return runId
    } catch (error) {
      if (kind === 'full') await this.runLock.release(null)
      throw error
    }
  }

  private async activeFullRuns(db: Executor): Promise<Array<{ id: number }>> {
    const { rows } = await sql<{ id: number }>`
      SELECT id FROM refresh_runs WHERE kind = 'full' AND status = 'running' ORDER BY id`.execute(db)
    return rows
  }

  private async abandonSourceRuns(db: Executor, runId: number, now: string): Promise<void> {
    await sql`
      UPDATE source_runs SET status = 'failed', finished_at = ${now},
        error = COALESCE(error, 'The refresh process stopped before this source finished')
      WHERE run_id = ${runId} AND status = 'running'`.execute(db)
  }

  /** Records how many services were registered when the run judged the due ones among them. */
  async recordServicesTotal(runId: number, total: number): Promise<void> {
    await sql`UPDATE refresh_runs SET services_total = ${total} WHERE id = ${runId}`.execute(this.db)
  }

  async heartbeat(runId: number): Promise<void> {
    await sql`UPDATE refresh_runs SET heartbeat_at = ${new Date().toISOString()} WHERE id = ${runId}`.execute(this.db)
  }

  async failRun(runId: number, error: string): Promise<void> {
    const now = new Date().toISOString()
    await inTransaction(this.db, async (trx) => {
      await sql`
        UPDATE refresh_runs SET status = 'failed', finished_at = ${now}, error = ${error} WHERE id = ${runId}`.execute(
        trx,
      )
      await this.abandonSourceRuns(trx, runId, now)
    })
    await this.platform?.runLock.release(runId)
  }

  async getRun(runId: number): Promise<RefreshRun | null> {
    const { rows } = await sql<RunRow>`SELECT * FROM refresh_runs WHERE id = ${runId}`.execute(this.db)
    return rows[0] ? toRun(rows[0]) : null
  }

  async listRuns(options: { kind?: RunKind; limit?: number; offset?: number } = {}): Promise<RefreshRun[]> {
    const ofKind = options.kind ? sql`WHERE kind = ${options.kind}` : sql``
    const { rows } = await sql<RunRow>`
      SELECT * FROM refresh_runs ${ofKind} ORDER BY id DESC
      LIMIT ${options.limit ?? 50} OFFSET ${options.offset ?? 0}`.execute(this.db)
    return rows.map(toRun)
  }

  async lastPublishedRun(kind?: RunKind): Promise<RefreshRun | null> {
    const ofKind = kind ? sql`AND kind = ${kind}` : sql``
    const { rows } = await sql<RunRow>`
      SELECT * FROM refresh_runs WHERE published_at IS NOT NULL ${ofKind} ORDER BY id DESC LIMIT 1`.execute(this.db)
    return rows[0] ? toRun(rows[0]) : null
  }

  private async lastPublishedOfCause(cause: RunCause): Promise<RunRow | null> {
    const { rows } = await sql<RunRow>`
      SELECT * FROM refresh_runs WHERE published_at IS NOT NULL AND cause = ${cause}
      ORDER BY id DESC LIMIT 1`.execute(this.db)
    return rows[0] ?? null
  }

  /**
   * The last overnight run: the last scheduled one, or where none has run (a new install, the demo), the last full
   * refresh started by hand. Rule-set changes and entries made by day are never it.
   */
  async lastOvernightRun(): Promise<RefreshRun | null> {
    const row = (await this.lastPublishedOfCause('scheduled')) ?? (await this.lastPublishedOfCause('manual'))
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
    const from = options.fromRunId === undefined ? sql`c.at >= ${since}` : sql`c.run_id >= ${options.fromRunId}`
    const { rows } = await sql<
      RagChangeRow & NamedRow & { cause: RunCause | null; kind: RunKind; trigger: string | null }
    >`
      SELECT c.*, s.ref, s.name, p.name AS provider_name, r.cause, r.kind, r.trigger
      FROM rag_changes c JOIN refresh_runs r ON r.id = c.run_id
        JOIN services s ON s.id = c.service_id JOIN providers p ON p.id = s.provider_id
      WHERE ${from} AND c.at < ${until}
      ORDER BY c.at DESC, c.id DESC LIMIT ${options.limit ?? 2000}`.execute(this.db)
    return rows.map((row) => ({
      ...toRagChange(row),
      ref: row.ref,
      name: row.name,
      providerName: row.provider_name,
      cause: row.cause ?? runCauseOf(row.kind, row.trigger),
      trigger: row.trigger,
    }))
  }

  async recordSourceRun(run: SourceRun): Promise<void> {
    await sql`
      INSERT INTO source_runs (run_id, source, status, started_at, finished_at, read_count, matched_count,
        changed_count, unchanged_count, rejected_count, error, rejects)
      VALUES (${run.runId}, ${run.source}, ${run.status}, ${run.startedAt}, ${run.finishedAt}, ${run.read},
        ${run.matched}, ${run.changed}, ${run.unchanged}, ${run.rejected}, ${run.error},
        ${JSON.stringify(run.rejects.slice(0, 1000))})
      ON CONFLICT (run_id, source) DO UPDATE SET status = excluded.status, finished_at = excluded.finished_at,
        read_count = excluded.read_count, matched_count = excluded.matched_count,
        changed_count = excluded.changed_count, unchanged_count = excluded.unchanged_count,
        rejected_count = excluded.rejected_count, error = excluded.error, rejects = excluded.rejects`.execute(this.db)
  }

  async listSourceRuns(runId: number): Promise<SourceRun[]> {
    const { rows } = await sql<SourceRunRow>`
      SELECT * FROM source_runs WHERE run_id = ${runId} ORDER BY started_at, source`.execute(this.db)
    return rows.map(toSourceRun)
  }

  async sourceFreshness(): Promise<SourceFreshness[]> {
    const { rows } = await sql<FreshnessRow>`
      SELECT source,
        MAX(started_at) AS last_attempt_at,
        (SELECT s2.status FROM source_runs s2 WHERE s2.source = s.source ORDER BY s2.started_at DESC LIMIT 1)
          AS last_attempt_status,
        (SELECT s3.error FROM source_runs s3 WHERE s3.source = s.source ORDER BY s3.started_at DESC LIMIT 1)
          AS last_error,
        MAX(CASE WHEN status = 'succeeded' THEN finished_at END) AS last_success_at
      FROM source_runs s GROUP BY source ORDER BY source`.execute(this.db)
    return rows.map((row) => ({
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
  async stageSnapshots(
    runId: number,
    computed: ComputedSnapshot[],
    computedAt: string = new Date().toISOString(),
  ): Promise<number> {
    return stageSnapshots(this.db, runId, computed, computedAt)
  }

  /**
   * Publishes a run: moves every staged service's pointer, records RAG changes, stores the recheck dates given and
   * marks the run complete, all in one transaction (the caller's when called inside `Store.write`, so what it writes
   * there publishes with it). A pointer already moved by a judgement computed later is left alone.
   */
  async publish(runId: number, servicesComputed: number, options: PublishOptions = {}): Promise<PublishOutcome> {
    const outcome = await publishStaged(this.db, runId, servicesComputed, options)
    await this.platform?.runLock.release(runId)
    return outcome
  }

  /** Stage and publish in one transaction: the small runs of entries made during the day. */
  async stageAndPublish(
    runId: number,
    computed: ComputedSnapshot[],
    options: PublishOptions = {},
  ): Promise<PublishOutcome> {
    const outcome = await inTransaction(this.db, async (trx) => {
      await stageSnapshots(trx, runId, computed, options.now ?? new Date().toISOString())
      return publishStaged(trx, runId, computed.length, options)
    })
    await this.platform?.runLock.release(runId)
    return outcome
  }

  async current(serviceId: number): Promise<CurrentSnapshot | null> {
    const { rows } = await sql<CurrentRow>`
      SELECT c.service_id, c.snapshot_id, c.run_id, c.changed_at, COALESCE(c.rag_since, c.changed_at) AS rag_since,
        sn.result
      FROM current_snapshots c JOIN snapshots sn ON sn.id = c.snapshot_id WHERE c.service_id = ${serviceId}`.execute(
      this.db,
    )
    return rows[0] ? toCurrent(rows[0]) : null
  }

  async history(serviceId: number): Promise<HistoryPoint[]> {
    const { rows } = await sql<HistoryRow>`
      SELECT sn.computed_at, sn.as_of, sn.rag, sn.computed_rag, sn.score, sn.run_id
      FROM snapshots sn JOIN refresh_runs r ON r.id = sn.run_id
      WHERE sn.service_id = ${serviceId} AND r.published_at IS NOT NULL ORDER BY sn.as_of, sn.id`.execute(this.db)
    return rows.map(toHistoryPoint)
  }

  /** The published history of each of these services (at most 500 per call), keyed by service id. */
  async historyOf(serviceIds: readonly number[]): Promise<Map<number, HistoryPoint[]>> {
    const ids = [...new Set(serviceIds)].slice(0, IDS_PER_QUERY)
    const histories = new Map<number, HistoryPoint[]>(ids.map((id) => [id, []]))
    if (ids.length === 0) return histories
    const { rows } = await sql<HistoryRow & { service_id: number }>`
      SELECT sn.service_id, sn.computed_at, sn.as_of, sn.rag, sn.computed_rag, sn.score, sn.run_id
      FROM snapshots sn JOIN refresh_runs r ON r.id = sn.run_id
      WHERE sn.service_id IN (${sql.join(ids)}) AND r.published_at IS NOT NULL
      ORDER BY sn.service_id, sn.as_of, sn.id`.execute(this.db)
    for (const row of rows) histories.get(row.service_id)?.push(toHistoryPoint(row))
    return histories
  }

  /** RAG changes made by this run and any later (entry) runs: the morning list. */
  async changesSince(runId: number, limit = 500): Promise<RagChange[]> {
    const { rows } = await sql<RagChangeRow>`
      SELECT * FROM rag_changes WHERE run_id >= ${runId} ORDER BY id DESC LIMIT ${limit}`.execute(this.db)
    return rows.map(toRagChange)
  }

  async ragCounts(): Promise<Record<Rag, number>> {
    const counts: Record<Rag, number> = { red: 0, amber: 0, green: 0 }
    const { rows } = await sql<{ rag: Rag; n: number }>`
      SELECT rag, COUNT(*) AS n FROM current_snapshots GROUP BY rag`.execute(this.db)
    for (const row of rows) counts[row.rag] = Number(row.n)
    return counts
  }
}

function toRagChange(row: RagChangeRow): RagChange {
  return {
    id: row.id,
    runId: row.run_id,
    serviceId: row.service_id,
    fromRag: row.from_rag,
    toRag: row.to_rag,
    at: row.at,
    reasons: JSON.parse(row.reasons) as string[],
  }
}
