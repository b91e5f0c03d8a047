import type { Statement } from 'better-sqlite3'
import { advisoryChangeCount } from './advisoryWrite.js'
import type { Db } from './database.js'
import type { RiskResult } from '../domain/riskResult.js'
import type { ContractStatus, Rag, ServiceType } from '../domain/vocabulary.js'

export const LISTING_SORTS = ['rag', 'name', 'provider', 'type', 'area', 'eligible', 'changed'] as const
export type ListingSort = (typeof LISTING_SORTS)[number]

export interface ListingFilter {
  rag?: Rag[]
  area?: string[]
  type?: ServiceType[]
  /** Matches provider or service name, case-insensitive substring. */
  q?: string
  ref?: string[]
  deteriorating?: boolean
  /** Eligible for new packages under at least one DPS lot it is admitted to (true), or under none (false). */
  eligible?: boolean
  sort?: ListingSort
  direction?: 'asc' | 'desc'
  limit?: number
  offset?: number
}

export interface ListedService {
  id: number
  ref: string
  name: string
  providerId: number
  providerName: string
  serviceType: ServiceType
  area: string
  capacity: number | null
  contractStatus: ContractStatus
  cqcLocationId: string | null
  rag: Rag | null
  score: number | null
  changedAt: string | null
  result: RiskResult | null
  /** true: may receive new packages under some DPS lot; false: admitted but refused by every gate; null: on no DPS. */
  dpsEligible: boolean | null
}

interface ListingRow {
  id: number
  ref: string
  name: string
  provider_id: number
  provider_name: string
  service_type: ServiceType
  area: string
  capacity: number | null
  contract_status: ContractStatus
  cqc_location_id: string | null
  rag: Rag | null
  score: number | null
  changed_at: string | null
  result: string | null
  dps_eligible: number | null
}

/** Names sort alphabetically whatever their case ("abc care" beside "ABC Care", not after "Zeta"). */
/**
 * 1 when the service may receive new packages under at least one DPS lot it is admitted to, 0 when it is admitted
 * but every lot's gate refuses it, NULL when it is on no DPS. A membership not yet evaluated counts as eligible.
 */
const DPS_ELIGIBLE = `(SELECT MAX(COALESCE(e.eligible, 1)) FROM dps_memberships m
  LEFT JOIN membership_eligibility e ON e.membership_id = m.id
  WHERE m.service_id = s.id AND m.status = 'admitted')`

/** Longest an answer is kept while other processes write without publishing a run. */
const ANSWER_MAX_AGE_MS = 30_000

const ORDER_BY: Record<ListingSort, string> = {
  rag: `CASE c.rag WHEN 'red' THEN 0 WHEN 'amber' THEN 1 WHEN 'green' THEN 2 ELSE 3 END {dir}, c.score {inv}, lower(s.name)`,
  name: 'lower(s.name) {dir}, s.ref',
  provider: 'lower(p.name) {dir}, lower(s.name)',
  type: 's.service_type {dir}, lower(s.name)',
  area: 'lower(s.area) {dir}, lower(s.name)',
  eligible: `COALESCE(${DPS_ELIGIBLE}, -1) {dir}, lower(s.name)`,
  changed: 'COALESCE(c.rag_since, c.changed_at) {dir}, lower(s.name)',
}

/**
 * The dashboard's read model: services with their published judgement, filtered, sorted and paged in SQL so a
 * 30,000-service register renders a page of 50 without loading the rest.
 */
export class ServiceListingRepository {
  /** Prepared statements by SQL text: the filter combinations in use are few, so each is prepared once. */
  private readonly statements = new Map<string, Statement>()

  /**
   * Answers by filter, kept until what the dashboard shows may have changed (see dataVersion). A dashboard under load
   * asks the same few pages again and again between runs; for 30,000 services a count and sort cost tens of ms.
   */
  private readonly answers = new Map<string, { version: string; total: number; rows: ListedService[] }>()
  private readonly versionStatements
  /** The last published run, read again only when another connection has committed since. */
  private published: { othersCommits: number; runId: number } | null = null

  constructor(private readonly db: Db) {
    this.versionStatements = {
      totalChanges: db.prepare('SELECT total_changes()').pluck(),
      lastPublishedRun: db
        .prepare('SELECT id FROM refresh_runs WHERE published_at IS NOT NULL ORDER BY id DESC LIMIT 1')
        .pluck(),
      // Moves only when another connection commits: until it does, no other process can have published a run.
      othersCommits: db.prepare('PRAGMA data_version').pluck(),
    }
  }

  /**
   * Moves when this connection writes (`total_changes()`, less its advisory writes: see advisoryChangeCount), when any
   * process publishes a run (judgements move only then, SPEC §6), and every ANSWER_MAX_AGE_MS whatever happens. Not on every commit of another process: a refresh
   * commits its staging and heartbeats every few hundred milliseconds, and recomputing the dashboard each time (a
   * second under load) stalled the server for its whole run. Other processes' writes that publish no run (the run
   * log's source lines) show within ANSWER_MAX_AGE_MS.
   */
  dataVersion(): string {
    const bucket = Math.floor(Date.now() / ANSWER_MAX_AGE_MS)
    const changes = (this.versionStatements.totalChanges.get() as number) - advisoryChangeCount(this.db)
    const othersCommits = this.versionStatements.othersCommits.get() as number
    if (this.published?.othersCommits !== othersCommits) {
      this.published = { othersCommits, runId: (this.versionStatements.lastPublishedRun.get() as number | undefined) ?? 0 }
    }
    // This connection's own publishing moves `changes`.
    return `${changes}:${this.published.runId}:${bucket}`
  }

  async list(filter: ListingFilter): Promise<{ total: number; rows: ListedService[] }> {
    const key = JSON.stringify(filter)
    const version = this.dataVersion()
    const known = this.answers.get(key)
    if (known && known.version === version) return { total: known.total, rows: known.rows.map((row) => ({ ...row })) }
    const answer = this.query(filter)
    if (this.answers.size >= 200) this.answers.clear()
    this.answers.set(key, { version, ...answer })
    return { total: answer.total, rows: answer.rows.map((row) => ({ ...row })) }
  }

  private prepare(sql: string): Statement {
    let statement = this.statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      if (this.statements.size > 500) this.statements.clear()
      this.statements.set(sql, statement)
    }
    return statement
  }

  private query(filter: ListingFilter): { total: number; rows: ListedService[] } {
    const where: string[] = []
    const params: Record<string, unknown> = {}
    const inList = (column: string, name: string, values: readonly string[] | undefined) => {
      if (!values || values.length === 0) return
      const keys = values.map((value, i) => {
        params[`${name}${i}`] = value
        return `@${name}${i}`
      })
      where.push(`${column} IN (${keys.join(', ')})`)
    }
    inList('c.rag', 'rag', filter.rag)
    inList('s.area', 'area', filter.area)
    inList('s.service_type', 'type', filter.type)
    inList('s.ref', 'ref', filter.ref)
    if (filter.q) {
      params.q = `%${filter.q.toLowerCase().replace(/[\\%_]/g, (m) => `\\${m}`)}%`
      where.push(`(lower(p.name) LIKE @q ESCAPE '\\' OR lower(s.name) LIKE @q ESCAPE '\\' OR lower(s.ref) LIKE @q ESCAPE '\\')`)
    }
    if (filter.deteriorating) where.push('c.deteriorating = 1')
    if (filter.eligible === true) where.push(`${DPS_ELIGIBLE} = 1`)
    if (filter.eligible === false) where.push(`COALESCE(${DPS_ELIGIBLE}, 0) = 0`)
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : ''
    // The count and the page's order need a snapshot's JSON only to filter on it: joining the large rows of
    // `snapshots` for 30,000 services (and sorting them) cost more than everything else, so the page is chosen by id
    // first and only its rows are read in full.
    const from = `FROM services s JOIN providers p ON p.id = s.provider_id
      LEFT JOIN current_snapshots c ON c.service_id = s.id`
    const total = (this.prepare(`SELECT COUNT(*) AS n ${from} ${whereSql}`).get(params) as { n: number }).n
    const direction = filter.direction === 'desc' ? 'DESC' : 'ASC'
    const inverse = direction === 'ASC' ? 'DESC' : 'ASC'
    const order = ORDER_BY[filter.sort ?? 'rag'].replaceAll('{dir}', direction).replaceAll('{inv}', inverse)
    const limit = filter.limit ?? 50
    const offset = filter.offset ?? 0
    const ids = (
      this.prepare(`SELECT s.id ${from} ${whereSql} ORDER BY ${order} LIMIT @limit OFFSET @offset`).all({
        ...params,
        limit,
        offset,
      }) as Array<{ id: number }>
    ).map((row) => row.id)
    const byId = new Map<number, ListingRow>()
    if (ids.length > 0) {
      const found = this.prepare(
        `SELECT s.id, s.ref, s.name, s.provider_id, p.name AS provider_name, s.service_type, s.area, s.capacity,
           s.contract_status, s.cqc_location_id, c.rag, c.score, COALESCE(c.rag_since, c.changed_at) AS changed_at, sn.result,
           ${DPS_ELIGIBLE} AS dps_eligible
         FROM services s JOIN providers p ON p.id = s.provider_id
           LEFT JOIN current_snapshots c ON c.service_id = s.id
           LEFT JOIN snapshots sn ON sn.id = c.snapshot_id
         WHERE s.id IN (SELECT value FROM json_each(@ids))`,
      ).all({ ids: JSON.stringify(ids) }) as ListingRow[]
      for (const row of found) byId.set(row.id, row)
    }
    const rows = ids.flatMap((id) => {
      const row = byId.get(id)
      return row ? [row] : []
    })
    return {
      total,
      rows: rows.map((row) => ({
        id: row.id,
        ref: row.ref,
        name: row.name,
        providerId: row.provider_id,
        providerName: row.provider_name,
        serviceType: row.service_type,
        area: row.area,
        capacity: row.capacity,
        contractStatus: row.contract_status,
        cqcLocationId: row.cqc_location_id,
        rag: row.rag,
        score: row.score,
        changedAt: row.changed_at,
        result: row.result ? (JSON.parse(row.result) as RiskResult) : null,
        dpsEligible: row.dps_eligible === null ? null : row.dps_eligible === 1,
      })),
    }
  }
}
