import { sql } from 'kysely'
import { toExecutor, type Executor, type ExecutorSource } from './executor.js'
import type { MarketMembership, MarketService, ProviderServiceRisk } from '../domain/market.js'
import type { RiskResult } from '../domain/riskResult.js'
import type { ContractStatus, Rag, ServiceType } from '../domain/vocabulary.js'

export interface ProviderRecord {
  id: number
  name: string
  cqcProviderId: string | null
  companiesHouseNumber: string | null
}

/** A provider's service with its published judgement, for the provider page. */
export interface ProviderServiceRow extends ProviderServiceRisk {
  serviceId: number
  capacity: number | null
  contractStatus: ContractStatus
  reason: string | null
  changedAt: string | null
}

interface ServiceRow {
  id: number
  ref: string
  name: string
  provider_id: number
  provider_name: string
  service_type: ServiceType
  area: string
  capacity: number | null
  contract_status: ContractStatus
  registered_on: string | null
  deregistered_on: string | null
}

interface MembershipRow {
  service_id: number
  dps_id: number
  dps_name: string
  lot_name: string
  status: MarketMembership['status']
  admitted_on: string
  status_changed_on: string
}

interface CurrentRow {
  service_id: number
  provider_id: number
  provider_name: string
  ref: string
  name: string
  area: string
  service_type: ServiceType
  capacity: number | null
  contract_status: ContractStatus
  rag: Rag | null
  changed_at: string | null
  result: string | null
}

const CURRENT_SELECT = sql`
  SELECT s.id AS service_id, s.provider_id, p.name AS provider_name, s.ref, s.name, s.area, s.service_type, s.capacity,
         s.contract_status, c.rag, COALESCE(c.rag_since, c.changed_at) AS changed_at, sn.result
  FROM services s JOIN providers p ON p.id = s.provider_id
  LEFT JOIN current_snapshots c ON c.service_id = s.id
  LEFT JOIN snapshots sn ON sn.id = c.snapshot_id`

function toProviderServiceRow(row: CurrentRow): ProviderServiceRow {
  const result = row.result ? (JSON.parse(row.result) as RiskResult) : null
  return {
    serviceId: row.service_id,
    providerId: row.provider_id,
    providerName: row.provider_name,
    ref: row.ref,
    name: row.name,
    area: row.area,
    serviceType: row.service_type,
    capacity: row.capacity,
    contractStatus: row.contract_status,
    rag: row.rag,
    deteriorating: Boolean(result?.flags.deteriorating),
    reason: result?.reasons[0] ?? null,
    changedAt: row.changed_at,
  }
}

/** Read model of the market summary and the provider view: the register, DPS memberships and current judgements. */
export class MarketRepository {
  private readonly db: Executor

  constructor(db: ExecutorSource) {
    this.db = toExecutor(db)
  }

  /** Every service with its DPS memberships, in id order. */
  async listMarketServices(): Promise<MarketService[]> {
    const memberships = new Map<number, MarketMembership[]>()
    const membershipRows = await sql<MembershipRow>`
      SELECT m.service_id, d.id AS dps_id, d.name AS dps_name, l.name AS lot_name, m.status, m.admitted_on,
        m.status_changed_on
      FROM dps_memberships m JOIN dps_lots l ON l.id = m.lot_id JOIN dps d ON d.id = l.dps_id
      ORDER BY m.service_id, m.id`.execute(this.db)
    for (const row of membershipRows.rows) {
      let list = memberships.get(row.service_id)
      if (!list) memberships.set(row.service_id, (list = []))
      list.push({
        dpsId: row.dps_id,
        dpsName: row.dps_name,
        lotName: row.lot_name,
        status: row.status,
        admittedOn: row.admitted_on,
        statusChangedOn: row.status_changed_on,
      })
    }
    const { rows } = await sql<ServiceRow>`
      SELECT s.id, s.ref, s.name, s.provider_id, p.name AS provider_name, s.service_type, s.area, s.capacity,
        s.contract_status, s.registered_on, s.deregistered_on
      FROM services s JOIN providers p ON p.id = s.provider_id ORDER BY s.id`.execute(this.db)
    return rows.map((row) => ({
      id: row.id,
      ref: row.ref,
      name: row.name,
      providerId: row.provider_id,
      providerName: row.provider_name,
      serviceType: row.service_type,
      area: row.area,
      capacity: row.capacity,
      contractStatus: row.contract_status,
      registeredOn: row.registered_on,
      deregisteredOn: row.deregistered_on,
      memberships: memberships.get(row.id) ?? [],
    }))
  }

  async findProvider(providerId: number): Promise<ProviderRecord | null> {
    const { rows } = await sql<{
      id: number
      name: string
      cqc_provider_id: string | null
      companies_house_number: string | null
    }>`SELECT id, name, cqc_provider_id, companies_house_number FROM providers WHERE id = ${providerId}`.execute(this.db)
    const row = rows[0]
    return row
      ? { id: row.id, name: row.name, cqcProviderId: row.cqc_provider_id, companiesHouseNumber: row.companies_house_number }
      : null
  }

  /** A provider's services with their published judgements, by name. */
  async providerServices(providerId: number): Promise<ProviderServiceRow[]> {
    const { rows } = await sql<CurrentRow>`
      ${CURRENT_SELECT} WHERE s.provider_id = ${providerId} ORDER BY LOWER(s.name), s.ref`.execute(this.db)
    return rows.map(toProviderServiceRow)
  }

  /** Every service with its published judgement, grouped by provider id order (the providers list). */
  async currentServiceRisks(): Promise<ProviderServiceRow[]> {
    const { rows } = await sql<CurrentRow>`${CURRENT_SELECT} ORDER BY s.provider_id, s.id`.execute(this.db)
    return rows.map(toProviderServiceRow)
  }
}
