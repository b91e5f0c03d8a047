import type { Db } from './database.js'

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
  private readonly statements

  constructor(private readonly db: Db) {
    this.statements = {
      // Skipped when a later judgement stands: its recheck row is newer, or it moved the pointer (publishNow's rule).
      upsert: db.prepare(
        `INSERT INTO judgement_rechecks (service_id, recheck_on, rule_set_version, run_id, computed_at)
         SELECT @serviceId, @recheckOn, @ruleSetVersion, @runId, @computedAt
         WHERE NOT EXISTS (
           SELECT 1 FROM current_snapshots c JOIN snapshots sn ON sn.id = c.snapshot_id
           WHERE c.service_id = @serviceId AND sn.run_id <> @runId AND sn.computed_at > @computedAt)
         ON CONFLICT (service_id) DO UPDATE SET recheck_on = excluded.recheck_on,
           rule_set_version = excluded.rule_set_version, run_id = excluded.run_id, computed_at = excluded.computed_at
         WHERE judgement_rechecks.computed_at <= excluded.computed_at`,
      ),
      byService: db.prepare<[number], RecheckRow>('SELECT * FROM judgement_rechecks WHERE service_id = ?'),
      // A service with no published judgement, no recheck row, another rule set's, or a recheck date reached.
      due: db.prepare<{ asOf: string; version: number }, { id: number; reason: DueReason }>(
        `SELECT s.id,
           CASE
             WHEN c.service_id IS NULL THEN 'never_judged'
             WHEN r.service_id IS NULL THEN 'no_recheck'
             WHEN r.rule_set_version <> @version THEN 'rule_set_changed'
             ELSE 'recheck_reached'
           END AS reason
         FROM services s
         LEFT JOIN current_snapshots c ON c.service_id = s.id
         LEFT JOIN judgement_rechecks r ON r.service_id = s.id
         WHERE c.service_id IS NULL OR r.service_id IS NULL OR r.rule_set_version <> @version
           OR r.recheck_on <= @asOf`,
      ),
      // Through the observations_recorded index: the few rows recorded since the last full run (DISTINCT would make
      // SQLite walk the whole table in service order instead).
      recordedSince: db.prepare<[string], { service_id: number }>(
        'SELECT service_id FROM observations WHERE recorded_at >= ?',
      ),
      serviceExists: db.prepare<[number], { id: number }>('SELECT id FROM services WHERE id = ?'),
      serviceCount: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM services'),
    }
  }

  /**
   * Stores the recheck dates of judgements a run computed. Synchronous, for the run's publish transaction
   * (RunRepository.publish's `extra`), so a judgement and its recheck date are published together.
   */
  writeNow(runId: number, rechecks: readonly JudgementRecheck[]): number {
    const work = () => {
      let written = 0
      for (const recheck of rechecks) {
        written += this.statements.upsert.run({ ...recheck, runId }).changes
      }
      return written
    }
    return this.db.inTransaction ? work() : this.db.transaction(work).immediate()
  }

  async get(serviceId: number): Promise<(JudgementRecheck & { runId: number }) | null> {
    const row = this.statements.byService.get(serviceId)
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
    for (const row of this.statements.due.all({ asOf: query.asOf, version: query.ruleSetVersion })) {
      reasons.set(row.id, row.reason)
    }
    for (const row of this.statements.recordedSince.iterate(query.since)) {
      if (!reasons.has(row.service_id)) reasons.set(row.service_id, 'new_observations')
    }
    for (const id of query.changedServiceIds ?? []) {
      if (!reasons.has(id) && this.statements.serviceExists.get(id)) reasons.set(id, 'reported_changed')
    }
    const byReason = Object.fromEntries(REASONS.map((reason) => [reason, 0])) as Record<DueReason, number>
    for (const reason of reasons.values()) byReason[reason]++
    const total = this.statements.serviceCount.get()?.n ?? 0
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
