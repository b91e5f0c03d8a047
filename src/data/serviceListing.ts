import { sql, type RawBuilder } from 'kysely'
import { toExecutor, type Executor, type ExecutorSource } from './executor.js'
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

/**
 * 1 when the service may receive new packages under at least one DPS lot it is admitted to, 0 when it is admitted
 * but every lot's gate refuses it, NULL when it is on no DPS. A membership not yet evaluated counts as eligible.
 */
const DPS_ELIGIBLE = `(SELECT MAX(COALESCE(e.eligible, 1)) FROM dps_memberships m
  LEFT JOIN membership_eligibility e ON e.membership_id = m.id
  WHERE m.service_id = s.id AND m.status = 'admitted')`

/**
 * Names sort alphabetically whatever their case ("abc care" beside "ABC Care", not after "Zeta"). Nullable keys say
 * where NULLs go as SQLite puts them (first ascending), which PostgreSQL would otherwise reverse.
 */
const ORDER_BY: Record<ListingSort, string> = {
  rag: `CASE c.rag WHEN 'red' THEN 0 WHEN 'amber' THEN 1 WHEN 'green' THEN 2 ELSE 3 END {dir}, c.score {inv} {invNulls}, lower(s.name)`,
  name: 'lower(s.name) {dir}, s.ref',
  provider: 'lower(p.name) {dir}, lower(s.name)',
  type: 's.service_type {dir}, lower(s.name)',
  area: 'lower(s.area) {dir}, lower(s.name)',
  eligible: `COALESCE(${DPS_ELIGIBLE}, -1) {dir}, lower(s.name)`,
  changed: 'COALESCE(c.rag_since, c.changed_at) {dir} {dirNulls}, lower(s.name)',
}

const NULLS: Record<'ASC' | 'DESC', string> = { ASC: 'NULLS FIRST', DESC: 'NULLS LAST' }

/** The services read in full per statement, once the page is chosen. */
const IDS_PER_QUERY = 500

/**
 * The dashboard's read model: services with their published judgement, filtered, sorted and paged in SQL so a
 * 30,000-service register renders a page of 50 without loading the rest. Answers are kept by the dashboard service
 * (keyed on Store.dataVersion), not here: a repository is built per transaction.
 */
export class ServiceListingRepository {
  private readonly db: Executor

  constructor(db: ExecutorSource) {
    this.db = toExecutor(db)
  }

  async list(filter: ListingFilter): Promise<{ total: number; rows: ListedService[] }> {
    const where: RawBuilder<unknown>[] = []
    const inList = (column: string, values: readonly string[] | undefined) => {
      if (values && values.length > 0) where.push(sql`${sql.raw(column)} IN (${sql.join(values)})`)
    }
    inList('c.rag', filter.rag)
    inList('s.area', filter.area)
    inList('s.service_type', filter.type)
    inList('s.ref', filter.ref)
    if (filter.q) {
      const q = `%${filter.q.toLowerCase().replace(/[\\%_]/g, (m) => `\\${m}`)}%`
      where.push(
        sql`(lower(p.name) LIKE ${q} ESCAPE '\\' OR lower(s.name) LIKE ${q} ESCAPE '\\' OR lower(s.ref) LIKE ${q} ESCAPE '\\')`,
      )
    }
    if (filter.deteriorating) where.push(sql`c.deteriorating = 1`)
    if (filter.eligible === true) where.push(sql.raw(`${DPS_ELIGIBLE} = 1`))
    if (filter.eligible === false) where.push(sql.raw(`COALESCE(${DPS_ELIGIBLE}, 0) = 0`))
    const whereSql = where.length ? sql`WHERE ${sql.join(where, sql` AND `)}` : sql``
    // The count and the page's order need a snapshot's JSON only to filter on it: joining the large rows of
    // `snapshots` for 30,000 services (and sorting them) cost more than everything else, so the page is chosen by id
    // first and only its rows are read in full.
    const from = sql`FROM services s JOIN providers p ON p.id = s.provider_id
      LEFT JOIN current_snapshots c ON c.service_id = s.id`
    const counted = await sql<{ n: number }>`SELECT COUNT(*) AS n ${from} ${whereSql}`.execute(this.db)
    const total = Number(counted.rows[0]?.n ?? 0)
    const direction = filter.direction === 'desc' ? 'DESC' : 'ASC'
    const inverse = direction === 'ASC' ? 'DESC' : 'ASC'
    const order = ORDER_BY[filter.sort ?? 'rag']
      .replaceAll('{dirNulls}', NULLS[direction])
      .replaceAll('{invNulls}', NULLS[inverse])
      .replaceAll('{dir}', direction)
      .replaceAll('{inv}', inverse)
    const page = await sql<{ id: number }>`
      SELECT s.id ${from} ${whereSql} ORDER BY ${sql.raw(order)}
      LIMIT ${filter.limit ?? 50} OFFSET ${filter.offset ?? 0}`.execute(this.db)
    const ids = page.rows.map((row) => row.id)
    const byId = new Map<number, ListingRow>()
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
      const { rows } = await sql<ListingRow>`
        SELECT s.id, s.ref, s.name, s.provider_id, p.name AS provider_name, s.service_type, s.area, s.capacity,
          s.contract_status, s.cqc_location_id, c.rag, c.score, COALESCE(c.rag_since, c.changed_at) AS changed_at,
          sn.result, ${sql.raw(DPS_ELIGIBLE)} AS dps_eligible
        FROM services s JOIN providers p ON p.id = s.provider_id
          LEFT JOIN current_snapshots c ON c.service_id = s.id
          LEFT JOIN snapshots sn ON sn.id = c.snapshot_id
        WHERE s.id IN (${sql.join(ids.slice(i, i + IDS_PER_QUERY))})`.execute(this.db)
      for (const row of rows) byId.set(row.id, row)
    }
    const rows = ids.flatMap((id) => {
      const row = byId.get(id)
      return row ? [toListed(row)] : []
    })
    return { total, rows }
  }
}

function toListed(row: ListingRow): ListedService {
  return {
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
    dpsEligible: row.dps_eligible === null ? null : Number(row.dps_eligible) === 1,
  }
}
