import { sql } from 'kysely'
import { changes, inTransaction, toExecutor, type Executor, type ExecutorSource } from './executor.js'

/** A judgement's recheck date as its run computed it (src/domain/recheck.ts). */
export interface JudgementRecheck {
  serviceId: number
  /** ISO date; null: nothing date-dependent remains. */
  recheckOn: string | null
  ruleSetVersion: number
  /** ISO timestamp the judgement was computed at: a later judgement's recheck is never overwritten by an earlier. */
  computedAt: string
}

/** Why a service is due for recomputing (the first that applies, in this order). */
export type DueReason =
  | 'never_judged'
  | 'no_recheck'
  | 'rule_set_changed'
  | 'recheck_reached'
  | 'new_observations'
  | 'reported_changed'

export interface DueQuery {
  /** The council's date the run judges as of. */
  asOf: string
  /** The active rule set's version. */
  ruleSetVersion: number
  /** ISO timestamp: services with observations recorded at or after it are due (the last published full run's start). */
  since: string
  /** Services a source step of this run reported changed. */
  changedServiceIds?: readonly number[]
}

export interface DueServices {
  /** Every due service id, ascending. */
  ids: number[]
  /** How many services are registered, due or not. */
  total: number
  byReason: Record<DueReason, number>
}

/** Rows per multi-row statement (four parameters each). */
const ROWS_PER_STATEMENT = 500

const REASONS: DueReason[] = [
  'never_judged',
  'no_recheck',
  'rule_set_changed',
  'recheck_reached',
  'new_observations',
  'reported_changed',
]

/**
 * Each service's recheck date (table judgement_rechecks), and which services the nightly refresh must recompute: the
 * rest would be judged exactly as they are (SPEC §6).
 */
export class RecheckRepository {
  private readonly db: Executor

  constructor(db: ExecutorSource) {
    this.db = toExecutor(db)
  }

  /**
   * Stores the recheck dates of judgements a run computed. The run's publish writes them in its own transaction
   * (RunRepository.publish), so a judgement and its recheck date are published together.
   */
  async write(runId: number, rechecks: readonly JudgementRecheck[]): Promise<number> {
    // The last of each service's, as writing them one after the other would leave.
    const latest = [...new Map(rechecks.map((r) => [r.serviceId, r])).values()]
    if (latest.length === 0) return 0
    return inTransaction(this.db, async (trx) => {
      let written = 0
      for (let i = 0; i < latest.length; i += ROWS_PER_STATEMENT) {
        const values = latest
          .slice(i, i + ROWS_PER_STATEMENT)
          .map(
            (r) => sql`(CAST(${r.serviceId} AS INTEGER), CAST(${r.recheckOn} AS TEXT),
              CAST(${r.ruleSetVersion} AS INTEGER), CAST(${r.computedAt} AS TEXT))`,
          )
        // Skipped when a later judgement stands: its recheck row is newer, or it moved the pointer (publish's rule).
        const result = await sql`
          INSERT INTO judgement_rechecks (service_id, recheck_on, rule_set_version, run_id, computed_at)
          SELECT v.column1, v.column2, v.column3, CAST(${runId} AS INTEGER), v.column4
          FROM (VALUES ${sql.join(values)}) AS v
          WHERE NOT EXISTS (
            SELECT 1 FROM current_snapshots c JOIN snapshots sn ON sn.id = c.snapshot_id
            WHERE c.service_id = v.column1 AND sn.run_id <> ${runId} AND sn.computed_at > v.column4)
          ON CONFLICT (service_id) DO UPDATE SET recheck_on = excluded.recheck_on,
            rule_set_version = excluded.rule_set_version, run_id = excluded.run_id, computed_at = excluded.computed_at
          WHERE judgement_rechecks.computed_at <= excluded.computed_at`.execute(trx)
        written += changes(result)
      }
      return written
    })
  }

  async get(serviceId: number): Promise<(JudgementRecheck & { runId: number }) | null> {
    const { rows } = await sql<RecheckRow>`
      SELECT * FROM judgement_rechecks WHERE service_id = ${serviceId}`.execute(this.db)
    const row = rows[0]
    return row
      ? {
          serviceId: row.service_id,
          recheckOn: row.recheck_on,
          ruleSetVersion: row.rule_set_version,
          runId: row.run_id,
          computedAt: row.computed_at,
        }
      : null
  }

  /** The services whose judgement could differ from their published one, and why. */
  async due(query: DueQuery): Promise<DueServices> {
    const reasons = new Map<number, DueReason>()
    // A service with no published judgement, no recheck row, another rule set's, or a recheck date reached.
    const due = await sql<{ id: number; reason: DueReason }>`
      SELECT s.id,
        CASE
          WHEN c.service_id IS NULL THEN 'never_judged'
          WHEN r.service_id IS NULL THEN 'no_recheck'
          WHEN r.rule_set_version <> ${query.ruleSetVersion} THEN 'rule_set_changed'
          ELSE 'recheck_reached'
        END AS reason
      FROM services s
      LEFT JOIN current_snapshots c ON c.service_id = s.id
      LEFT JOIN judgement_rechecks r ON r.service_id = s.id
      WHERE c.service_id IS NULL OR r.service_id IS NULL OR r.rule_set_version <> ${query.ruleSetVersion}
        OR r.recheck_on <= ${query.asOf}`.execute(this.db)
    for (const row of due.rows) reasons.set(row.id, row.reason)
    // Through the observations_recorded index: the few rows recorded since the last full run (DISTINCT would make
    // SQLite walk the whole table in service order instead).
    const recorded = await sql<{ service_id: number }>`
      SELECT service_id FROM observations WHERE recorded_at >= ${query.since}`.execute(this.db)
    for (const row of recorded.rows) {
      if (!reasons.has(row.service_id)) reasons.set(row.service_id, 'new_observations')
    }
    const reported = [...new Set(query.changedServiceIds ?? [])].filter((id) => !reasons.has(id))
    for (let i = 0; i < reported.length; i += 500) {
      const chunk = reported.slice(i, i + 500)
      const existing = await sql<{ id: number }>`
        SELECT id FROM services WHERE id IN (${sql.join(chunk)})`.execute(this.db)
      for (const row of existing.rows) reasons.set(row.id, 'reported_changed')
    }
    const byReason = Object.fromEntries(REASONS.map((reason) => [reason, 0])) as Record<DueReason, number>
    for (const reason of reasons.values()) byReason[reason]++
    const count = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM services`.execute(this.db)
    const total = Number(count.rows[0]?.n ?? 0)
    return { ids: [...reasons.keys()].sort((a, b) => a - b), total, byReason }
  }
}

interface RecheckRow {
  service_id: number
  recheck_on: string | null
  rule_set_version: number
  run_id: number
  computed_at: string
}
