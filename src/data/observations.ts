import { sql } from 'kysely'
import { inTransaction, toExecutor, type Executor, type ExecutorSource } from './executor.js'
import type { NewObservation, Observation } from '../domain/observation.js'
import type { IndicatorKey, Source } from '../domain/vocabulary.js'

interface ObservationRow {
  id: number
  service_id: number
  indicator: IndicatorKey
  source: Source
  natural_key: string
  observed_on: string
  end_date: string | null
  value: string
  detail: string
  reference: string | null
  notes: string | null
  entered_by: string | null
  recorded_at: string
  supersedes_id: number | null
}

export interface StoredObservation extends Observation {
  serviceId: number
  naturalKey: string
  supersedesId: number | null
  /** Set when a later edit replaced this row. */
  supersededById: number | null
}

export interface AppendResult {
  inserted: number
  unchanged: number
  /** Ids of the services that gained at least one observation. */
  changedServiceIds: number[]
  insertedIds: number[]
}

const LIVE = sql`NOT EXISTS (SELECT 1 FROM observations later WHERE later.supersedes_id = o.id)`
const SUPERSEDED_BY = sql`(SELECT later.id FROM observations later WHERE later.supersedes_id = o.id)`
/** Rows of one multi-row INSERT, and ids of one IN list: well inside both databases' parameter limits. */
const BATCH = 500

function toObservation(row: ObservationRow): Observation {
  return {
    id: row.id,
    indicator: row.indicator,
    source: row.source,
    observedOn: row.observed_on,
    endDate: row.end_date,
    value: row.value,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
    reference: row.reference,
    notes: row.notes,
    enteredBy: row.entered_by,
    recordedAt: row.recorded_at,
  }
}

interface ToInsert {
  observation: NewObservation
  naturalKey: string
  supersedes: number | null
}

function toStored(row: ObservationRow & { superseded_by_id: number | null }): StoredObservation {
  return {
    ...toObservation(row),
    serviceId: row.service_id,
    naturalKey: row.natural_key,
    supersedesId: row.supersedes_id,
    supersededById: row.superseded_by_id,
  }
}

function groupByService(rows: ObservationRow[], into: Map<number, Observation[]>): Map<number, Observation[]> {
  for (const row of rows) {
    let list = into.get(row.service_id)
    if (!list) into.set(row.service_id, (list = []))
    list.push(toObservation(row))
  }
  return into
}

/** Append-only facts about services. Rows are never updated or deleted. */
export class ObservationRepository {
  private readonly db: Executor

  constructor(db: ExecutorSource) {
    this.db = toExecutor(db)
  }

  /**
   * Appends the new facts in one transaction (joining one already open), skipping those already known
   * (see NewObservation.dedupe).
   */
  async append(observations: NewObservation[]): Promise<AppendResult> {
    return this.appendWith(observations, false)
  }

  /**
   * Appends facts a source may send again corrected (a council export re-sending an embargo now lifted). A fact whose
   * natural key is already stored adds nothing when the source's content is unchanged, and otherwise supersedes the
   * live version (stored under `<naturalKey>#<id of the version it replaces>`). Content compared: date, end date,
   * value, detail, reference and notes. A version someone else wrote on top (a form edit) stands until the source
   * itself changes the fact again.
   */
  async appendOrSupersede(observations: NewObservation[]): Promise<AppendResult> {
    return this.appendWith(observations, true)
  }

  private async appendWith(observations: NewObservation[], supersedeChanged: boolean): Promise<AppendResult> {
    const recordedAt = new Date().toISOString()
    return inTransaction(this.db, async (trx) => {
      const result: AppendResult = { inserted: 0, unchanged: 0, changedServiceIds: [], insertedIds: [] }
      const changed = new Set<number>()
      // Facts that need no read first go in multi-row INSERTs; a fact whose dedupe reads what is stored waits until
      // the facts before it are written.
      let pending: ToInsert[] = []
      const flush = async () => {
        for (let start = 0; start < pending.length; start += BATCH) {
          const batch = pending.slice(start, start + BATCH)
          const inserted = await this.insertBatch(trx, batch, recordedAt)
          result.inserted += inserted.length
          result.unchanged += batch.length - inserted.length
          for (const row of inserted) {
            result.insertedIds.push(row.id)
            changed.add(row.service_id)
          }
        }
        pending = []
      }
      for (const o of observations) {
        let naturalKey = o.naturalKey
        let supersedes = o.supersedes ?? null
        const dedupe = o.dedupe ?? 'natural_key'
        if (supersedeChanged && supersedes === null && dedupe === 'natural_key') {
          await flush()
          const revision = await this.revisionOf(trx, o)
          if (revision === 'unchanged') {
            result.unchanged++
            continue
          }
          if (revision !== null) {
            naturalKey = `${o.naturalKey}#${revision}`
            supersedes = revision
          }
        }
        if (dedupe === 'latest_value' || dedupe === 'latest_state') {
          await flush()
          const { rows } = await sql<{ value: string; end_date: string | null; detail: string }>`
            SELECT o.value, o.end_date, o.detail FROM observations o
            WHERE o.service_id = ${o.serviceId} AND o.indicator = ${o.indicator} AND o.source = ${o.source} AND ${LIVE}
            ORDER BY o.observed_on DESC, o.id DESC LIMIT 1`.execute(trx)
          const latest = rows[0]
          const sameDetail = dedupe === 'latest_value' || latest?.detail === JSON.stringify(o.detail ?? {})
          if (latest && latest.value === o.value && latest.end_date === (o.endDate ?? null) && sameDetail) {
            result.unchanged++
            continue
          }
          naturalKey = `${o.naturalKey}@${o.observedOn}`
        }
        pending.push({ observation: o, naturalKey, supersedes })
      }
      await flush()
      result.changedServiceIds = [...changed]
      return result
    })
  }

  /** Inserts the facts whose key is new; returns the rows inserted, in input order. */
  private async insertBatch(
    trx: Executor,
    batch: ToInsert[],
    recordedAt: string,
  ): Promise<{ id: number; service_id: number }[]> {
    const values = batch.map(
      ({ observation: o, naturalKey, supersedes }) => sql`(${o.serviceId}, ${o.indicator}, ${o.source}, ${naturalKey},
        ${o.observedOn}, ${o.endDate ?? null}, ${o.value}, ${JSON.stringify(o.detail ?? {})}, ${o.reference ?? null},
        ${o.notes ?? null}, ${o.enteredBy ?? null}, ${recordedAt}, ${supersedes})`,
    )
    const { rows } = await sql<{ id: number; service_id: number }>`
      INSERT INTO observations (service_id, indicator, source, natural_key, observed_on, end_date, value, detail,
        reference, notes, entered_by, recorded_at, supersedes_id)
      VALUES ${sql.join(values)}
      ON CONFLICT (service_id, indicator, natural_key) DO NOTHING
      RETURNING id, service_id`.execute(trx)
    return [...rows].sort((a, b) => a.id - b.id)
  }

  /**
   * For a fact already stored under its natural key: 'unchanged' when the source last sent the same content, else the
   * id of the live version to supersede. null when the key is new.
   */
  private async revisionOf(db: Executor, o: NewObservation): Promise<number | 'unchanged' | null> {
    const { rows } = await sql<ObservationRow>`
      SELECT * FROM observations
      WHERE service_id = ${o.serviceId} AND indicator = ${o.indicator} AND natural_key = ${o.naturalKey}`.execute(db)
    const original = rows[0]
    if (!original) return null
    const supersededBy = async (id: number): Promise<ObservationRow | undefined> =>
      (await sql<ObservationRow>`SELECT * FROM observations WHERE supersedes_id = ${id} ORDER BY id LIMIT 1`.execute(db))
        .rows[0]
    let live = original
    let lastFromSource = original
    for (let next = await supersededBy(live.id); next; next = await supersededBy(live.id)) {
      live = next
      if (next.natural_key.startsWith(`${o.naturalKey}#`)) lastFromSource = next
    }
    const same =
      lastFromSource.observed_on === o.observedOn &&
      lastFromSource.end_date === (o.endDate ?? null) &&
      lastFromSource.value === o.value &&
      lastFromSource.detail === JSON.stringify(o.detail ?? {}) &&
      lastFromSource.reference === (o.reference ?? null) &&
      lastFromSource.notes === (o.notes ?? null)
    return same ? 'unchanged' : live.id
  }

  async listLive(serviceId: number): Promise<Observation[]> {
    const { rows } = await sql<ObservationRow>`
      SELECT o.* FROM observations o WHERE o.service_id = ${serviceId} AND ${LIVE} ORDER BY o.observed_on, o.id`.execute(
      this.db,
    )
    return rows.map(toObservation)
  }

  /** Live observations of services with fromId <= id < toId, grouped by service: the full recompute reads in batches. */
  async listLiveForIdRange(fromId: number, toId: number): Promise<Map<number, Observation[]>> {
    const { rows } = await sql<ObservationRow>`
      SELECT o.* FROM observations o WHERE o.service_id >= ${fromId} AND o.service_id < ${toId} AND ${LIVE}
      ORDER BY o.service_id, o.observed_on, o.id`.execute(this.db)
    return groupByService(rows, new Map())
  }

  /** Live observations of the given services, grouped by service: the selective recompute reads scattered ids. */
  async listLiveForIds(serviceIds: readonly number[]): Promise<Map<number, Observation[]>> {
    const grouped = new Map<number, Observation[]>()
    const ids = [...new Set(serviceIds)].sort((a, b) => a - b)
    for (let start = 0; start < ids.length; start += BATCH) {
      const { rows } = await sql<ObservationRow>`
        SELECT o.* FROM observations o WHERE o.service_id IN (${sql.join(ids.slice(start, start + BATCH))}) AND ${LIVE}
        ORDER BY o.service_id, o.observed_on, o.id`.execute(this.db)
      groupByService(rows, grouped)
    }
    return grouped
  }

  /** Every observation of a service, newest first, including superseded versions (the history of edits). */
  async listHistory(serviceId: number): Promise<StoredObservation[]> {
    const { rows } = await sql<ObservationRow & { superseded_by_id: number | null }>`
      SELECT o.*, ${SUPERSEDED_BY} AS superseded_by_id
      FROM observations o WHERE o.service_id = ${serviceId} ORDER BY o.observed_on DESC, o.id DESC`.execute(this.db)
    return rows.map(toStored)
  }

  async findById(id: number): Promise<StoredObservation | null> {
    const { rows } = await sql<ObservationRow & { superseded_by_id: number | null }>`
      SELECT o.*, ${SUPERSEDED_BY} AS superseded_by_id FROM observations o WHERE o.id = ${id}`.execute(this.db)
    return rows[0] ? toStored(rows[0]) : null
  }

  async count(): Promise<number> {
    const { rows } = await sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM observations`.execute(this.db)
    return Number(rows[0]?.n ?? 0)
  }
}
