import type { Db } from './database.js'
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

const LIVE = 'NOT EXISTS (SELECT 1 FROM observations later WHERE later.supersedes_id = o.id)'

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

/** Append-only facts about services. Rows are never updated or deleted. */
export class ObservationRepository {
  private readonly statements

  constructor(private readonly db: Db) {
    this.statements = {
      insert: db.prepare(
        `INSERT INTO observations (service_id, indicator, source, natural_key, observed_on, end_date, value, detail,
           reference, notes, entered_by, recorded_at, supersedes_id)
         VALUES (@serviceId, @indicator, @source, @naturalKey, @observedOn, @endDate, @value, @detail, @reference,
           @notes, @enteredBy, @recordedAt, @supersedes)
         ON CONFLICT (service_id, indicator, natural_key) DO NOTHING`,
      ),
      latestFromSource: db.prepare<
        [number, string, string],
        { value: string; end_date: string | null; detail: string }
      >(
        `SELECT o.value, o.end_date, o.detail FROM observations o
         WHERE o.service_id = ? AND o.indicator = ? AND o.source = ? AND ${LIVE}
         ORDER BY o.observed_on DESC, o.id DESC LIMIT 1`,
      ),
      liveForService: db.prepare<[number], ObservationRow>(
        `SELECT o.* FROM observations o WHERE o.service_id = ? AND ${LIVE} ORDER BY o.observed_on, o.id`,
      ),
      liveForRange: db.prepare<[number, number], ObservationRow>(
        `SELECT o.* FROM observations o WHERE o.service_id >= ? AND o.service_id < ? AND ${LIVE}
         ORDER BY o.service_id, o.observed_on, o.id`,
      ),
      liveForIds: db.prepare<[string], ObservationRow>(
        `SELECT o.* FROM observations o WHERE o.service_id IN (SELECT value FROM json_each(?)) AND ${LIVE}
         ORDER BY o.service_id, o.observed_on, o.id`,
      ),
      allForService: db.prepare<[number], ObservationRow & { superseded_by_id: number | null }>(
        `SELECT o.*, (SELECT later.id FROM observations later WHERE later.supersedes_id = o.id) AS superseded_by_id
         FROM observations o WHERE o.service_id = ? ORDER BY o.observed_on DESC, o.id DESC`,
      ),
      byId: db.prepare<[number], ObservationRow & { superseded_by_id: number | null }>(
        `SELECT o.*, (SELECT later.id FROM observations later WHERE later.supersedes_id = o.id) AS superseded_by_id
         FROM observations o WHERE o.id = ?`,
      ),
      count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM observations'),
      byNaturalKey: db.prepare<[number, string, string], ObservationRow>(
        'SELECT * FROM observations WHERE service_id = ? AND indicator = ? AND natural_key = ?',
      ),
      supersededBy: db.prepare<[number], ObservationRow>(
        'SELECT * FROM observations WHERE supersedes_id = ? ORDER BY id LIMIT 1',
      ),
    }
  }

  /** Appends the new facts in one transaction, skipping those already known (see NewObservation.dedupe). */
  async append(observations: NewObservation[]): Promise<AppendResult> {
    return this.appendNow(observations)
  }

  /**
   * The synchronous core of append, for callers inside the data layer that must combine it with other writes in one
   * transaction. Opens its own transaction unless one is already open.
   */
  appendNow(observations: NewObservation[]): AppendResult {
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

  private appendWith(observations: NewObservation[], supersedeChanged: boolean): AppendResult {
    const recordedAt = new Date().toISOString()
    const work = () => {
      const result: AppendResult = { inserted: 0, unchanged: 0, changedServiceIds: [], insertedIds: [] }
      const changed = new Set<number>()
      for (const o of observations) {
        let naturalKey = o.naturalKey
        let supersedes = o.supersedes ?? null
        const dedupe = o.dedupe ?? 'natural_key'
        if (supersedeChanged && supersedes === null && dedupe === 'natural_key') {
          const revision = this.revisionOf(o)
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
          const latest = this.statements.latestFromSource.get(o.serviceId, o.indicator, o.source)
          const sameDetail = dedupe === 'latest_value' || latest?.detail === JSON.stringify(o.detail ?? {})
          if (latest && latest.value === o.value && latest.end_date === (o.endDate ?? null) && sameDetail) {
            result.unchanged++
            continue
          }
          naturalKey = `${o.naturalKey}@${o.observedOn}`
        }
        const info = this.statements.insert.run({
          serviceId: o.serviceId,
          indicator: o.indicator,
          source: o.source,
          naturalKey,
          observedOn: o.observedOn,
          endDate: o.endDate ?? null,
          value: o.value,
          detail: JSON.stringify(o.detail ?? {}),
          reference: o.reference ?? null,
          notes: o.notes ?? null,
          enteredBy: o.enteredBy ?? null,
          recordedAt,
          supersedes,
        })
        if (info.changes > 0) {
          result.inserted++
          result.insertedIds.push(Number(info.lastInsertRowid))
          changed.add(o.serviceId)
        } else {
          result.unchanged++
        }
      }
      result.changedServiceIds = [...changed]
      return result
    }
    return this.db.inTransaction ? work() : this.db.transaction(work).immediate()
  }

  /**
   * For a fact already stored under its natural key: 'unchanged' when the source last sent the same content, else the
   * id of the live version to supersede. null when the key is new.
   */
  private revisionOf(o: NewObservation): number | 'unchanged' | null {
    const original = this.statements.byNaturalKey.get(o.serviceId, o.indicator, o.naturalKey)
    if (!original) return null
    let live = original
    let lastFromSource = original
    for (let next = this.statements.supersededBy.get(live.id); next; next = this.statements.supersededBy.get(live.id)) {
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
    return this.statements.liveForService.all(serviceId).map(toObservation)
  }

  /** Live observations of services with fromId <= id < toId, grouped by service: the full recompute reads in batches. */
  async listLiveForIdRange(fromId: number, toId: number): Promise<Map<number, Observation[]>> {
    const grouped = new Map<number, Observation[]>()
    for (const row of this.statements.liveForRange.iterate(fromId, toId)) {
      let list = grouped.get(row.service_id)
      if (!list) grouped.set(row.service_id, (list = []))
      list.push(toObservation(row))
    }
    return grouped
  }

  /** Live observations of the given services, grouped by service: the selective recompute reads scattered ids. */
  async listLiveForIds(serviceIds: readonly number[]): Promise<Map<number, Observation[]>> {
    const grouped = new Map<number, Observation[]>()
    if (serviceIds.length === 0) return grouped
    for (const row of this.statements.liveForIds.iterate(JSON.stringify(serviceIds))) {
      let list = grouped.get(row.service_id)
      if (!list) grouped.set(row.service_id, (list = []))
      list.push(toObservation(row))
    }
    return grouped
  }

  /** Every observation of a service, newest first, including superseded versions (the history of edits). */
  async listHistory(serviceId: number): Promise<StoredObservation[]> {
    return this.statements.allForService.all(serviceId).map((row) => ({
      ...toObservation(row),
      serviceId: row.service_id,
      naturalKey: row.natural_key,
      supersedesId: row.supersedes_id,
      supersededById: row.superseded_by_id,
    }))
  }

  async findById(id: number): Promise<StoredObservation | null> {
    const row = this.statements.byId.get(id)
    if (!row) return null
    return {
      ...toObservation(row),
      serviceId: row.service_id,
      naturalKey: row.natural_key,
      supersedesId: row.supersedes_id,
      supersededById: row.superseded_by_id,
    }
  }

  async count(): Promise<number> {
    return this.statements.count.get()?.n ?? 0
  }
}
