import { sql, type RawBuilder } from 'kysely'
import type { RiskResult } from '../domain/riskResult.js'
import type { Rag } from '../domain/vocabulary.js'
import { inTransaction, type Executor } from './executor.js'
import { RecheckRepository } from './rechecks.js'
import { fingerprint, type ComputedSnapshot, type PublishOptions, type PublishOutcome } from './runModel.js'

/** Rows per multi-row statement: within SQLite's 32,766 parameters and PostgreSQL's 65,535 at 11 a row. */
const ROWS_PER_STATEMENT = 500

function chunks<T>(items: readonly T[], size = ROWS_PER_STATEMENT): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

async function insertRows(db: Executor, rows: RawBuilder<unknown>[], statement: (values: RawBuilder<unknown>) => RawBuilder<unknown>) {
  for (const chunk of chunks(rows)) await statement(sql.join(chunk)).execute(db)
}

/** The last of each service's entries: what writing them one after the other would have left. */
function lastPerService<T extends { serviceId: number }>(items: readonly T[]): T[] {
  return [...new Map(items.map((item) => [item.serviceId, item])).values()]
}

/**
 * Stages judgements under a run, keeping only those that differ from the service's current one (history grows with
 * changes, not with nights). Readers do not see staged rows until `publishStaged`.
 */
export async function stageSnapshots(
  db: Executor,
  runId: number,
  computed: readonly ComputedSnapshot[],
  computedAt: string,
): Promise<number> {
  const judgements = lastPerService(computed)
  if (judgements.length === 0) return 0
  return inTransaction(db, async (trx) => {
    const current = new Map<number, string>()
    for (const ids of chunks(judgements.map((c) => c.serviceId))) {
      const { rows } = await sql<{ service_id: number; fingerprint: string }>`
        SELECT c.service_id, sn.fingerprint FROM current_snapshots c JOIN snapshots sn ON sn.id = c.snapshot_id
        WHERE c.service_id IN (${sql.join(ids)})`.execute(trx)
      for (const row of rows) current.set(row.service_id, row.fingerprint)
    }
    const values: RawBuilder<unknown>[] = []
    for (const { serviceId, result } of judgements) {
      const print = fingerprint(result)
      if (current.get(serviceId) === print) continue
      values.push(sql`(${runId}, ${serviceId}, ${result.asOf}, ${computedAt}, ${result.rag}, ${result.computedRag},
        ${result.score}, ${JSON.stringify(result)}, ${print}, ${result.ruleSetVersion},
        ${result.flags.deteriorating ? 1 : 0})`)
    }
    await insertRows(
      trx,
      values,
      (rows) => sql`
        INSERT INTO snapshots (run_id, service_id, as_of, computed_at, rag, computed_rag, score, result, fingerprint,
          rule_set_version, deteriorating)
        VALUES ${rows}
        ON CONFLICT (run_id, service_id) DO UPDATE SET as_of = excluded.as_of, computed_at = excluded.computed_at,
          rag = excluded.rag, computed_rag = excluded.computed_rag, score = excluded.score, result = excluded.result,
          fingerprint = excluded.fingerprint, rule_set_version = excluded.rule_set_version,
          deteriorating = excluded.deteriorating`,
    )
    return values.length
  })
}

interface StagedRow {
  id: number
  service_id: number
  rag: Rag
  score: number
  computed_at: string
  as_of: string
  result: string
  deteriorating: number
  current_snapshot_id: number | null
  current_rag: Rag | null
  current_computed_at: string | null
}

/**
 * Publishes a run: moves every staged service's pointer, records RAG changes, stores the judgements' recheck dates
 * and marks the run complete, all in one transaction (joining the caller's when there is one). A pointer already
 * moved by a judgement computed later (an entry made during the run) is left alone.
 */
export async function publishStaged(
  db: Executor,
  runId: number,
  servicesComputed: number,
  options: PublishOptions = {},
): Promise<PublishOutcome> {
  return inTransaction(db, async (trx) => {
    const now = options.now ?? new Date().toISOString()
    const run = await sql<{ kind: string }>`SELECT kind FROM refresh_runs WHERE id = ${runId}`.execute(trx)
    // A seed run judges a past date: its changes happened then, not on the day the demo was seeded.
    const judgesThePast = run.rows[0]?.kind === 'seed'
    const { rows: staged } = await sql<StagedRow>`
      SELECT sn.id, sn.service_id, sn.rag, sn.score, sn.computed_at, sn.as_of, sn.result, sn.deteriorating,
        c.snapshot_id AS current_snapshot_id, c.rag AS current_rag, cs.computed_at AS current_computed_at
      FROM snapshots sn
        LEFT JOIN current_snapshots c ON c.service_id = sn.service_id
        LEFT JOIN snapshots cs ON cs.id = c.snapshot_id
      WHERE sn.run_id = ${runId} ORDER BY sn.service_id`.execute(trx)

    const pointers: RawBuilder<unknown>[] = []
    const ragChanges: RawBuilder<unknown>[] = []
    const changedServiceIds: number[] = []
    for (const row of staged) {
      const changeAt = judgesThePast ? `${row.as_of.slice(0, 10)}T00:00:00.000Z` : now
      if (row.current_computed_at !== null && row.current_computed_at > row.computed_at) continue
      if (row.current_snapshot_id === row.id) continue
      pointers.push(sql`(${row.service_id}, ${row.id}, ${row.current_snapshot_id}, ${runId}, ${now}, ${row.rag},
        ${row.score}, ${row.deteriorating}, ${changeAt})`)
      changedServiceIds.push(row.service_id)
      if (row.current_rag !== row.rag) {
        const result = JSON.parse(row.result) as RiskResult
        ragChanges.push(sql`(${runId}, ${row.service_id}, ${row.current_rag}, ${row.rag}, ${changeAt},
          ${JSON.stringify(result.reasons)})`)
      }
    }
    await insertRows(
      trx,
      pointers,
      (rows) => sql`
        INSERT INTO current_snapshots (service_id, snapshot_id, previous_snapshot_id, run_id, changed_at, rag, score,
          deteriorating, rag_since)
        VALUES ${rows}
        ON CONFLICT (service_id) DO UPDATE SET snapshot_id = excluded.snapshot_id,
          previous_snapshot_id = excluded.previous_snapshot_id, run_id = excluded.run_id,
          changed_at = excluded.changed_at, rag = excluded.rag, score = excluded.score,
          deteriorating = excluded.deteriorating,
          rag_since = CASE WHEN current_snapshots.rag = excluded.rag AND current_snapshots.rag_since IS NOT NULL
            THEN current_snapshots.rag_since ELSE excluded.rag_since END`,
    )
    await insertRows(
      trx,
      ragChanges,
      (rows) => sql`INSERT INTO rag_changes (run_id, service_id, from_rag, to_rag, at, reasons) VALUES ${rows}`,
    )
    if (options.rechecks) await new RecheckRepository(trx).write(runId, options.rechecks)
    await sql`
      UPDATE refresh_runs SET status = 'completed', finished_at = ${now}, published_at = ${now},
        services_computed = ${servicesComputed}, services_changed = ${pointers.length}
      WHERE id = ${runId}`.execute(trx)
    return { changed: pointers.length, ragChanges: ragChanges.length, changedServiceIds }
  })
}
