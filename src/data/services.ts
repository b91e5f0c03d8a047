import type { Db } from './database.js'
import type { ContractStatus, ServiceType } from '../domain/vocabulary.js'

export interface Provider {
  id: number
  cqcProviderId: string | null
  companiesHouseNumber: string | null
  name: string
}

export interface Service {
  id: number
  ref: string
  name: string
  providerId: number
  providerName: string
  cqcProviderId: string | null
  companiesHouseNumber: string | null
  cqcLocationId: string | null
  fhrsId: string | null
  serviceType: ServiceType
  area: string
  capacity: number | null
  contractStatus: ContractStatus
  registeredOn: string | null
  deregisteredOn: string | null
}

export interface ServiceInput {
  ref: string
  name: string
  providerName: string
  cqcProviderId?: string | null
  companiesHouseNumber?: string | null
  cqcLocationId?: string | null
  fhrsId?: string | null
  serviceType: ServiceType
  area: string
  capacity?: number | null
  contractStatus: ContractStatus
  registeredOn?: string | null
}

export type UpsertOutcome = { ref: string; id: number; created: boolean }

interface ServiceRow {
  id: number
  ref: string
  name: string
  provider_id: number
  provider_name: string
  cqc_provider_id: string | null
  companies_house_number: string | null
  cqc_location_id: string | null
  fhrs_id: string | null
  service_type: ServiceType
  area: string
  capacity: number | null
  contract_status: ContractStatus
  registered_on: string | null
  deregistered_on: string | null
}

const SERVICE_SELECT = `
  SELECT s.id, s.ref, s.name, s.provider_id, p.name AS provider_name, p.cqc_provider_id, p.companies_house_number,
         s.cqc_location_id, s.fhrs_id, s.service_type, s.area, s.capacity, s.contract_status, s.registered_on,
         s.deregistered_on
  FROM services s JOIN providers p ON p.id = s.provider_id`

function toService(row: ServiceRow): Service {
  return {
    id: row.id,
    ref: row.ref,
    name: row.name,
    providerId: row.provider_id,
    providerName: row.provider_name,
    cqcProviderId: row.cqc_provider_id,
    companiesHouseNumber: row.companies_house_number,
    cqcLocationId: row.cqc_location_id,
    fhrsId: row.fhrs_id,
    serviceType: row.service_type,
    area: row.area,
    capacity: row.capacity,
    contractStatus: row.contract_status,
    registeredOn: row.registered_on,
    deregisteredOn: row.deregistered_on,
  }
}

/** Providers and the services they run (SPEC §2). */
export class ServiceRepository {
  private readonly statements

  constructor(private readonly db: Db) {
    this.statements = {
      byRef: db.prepare<[string], ServiceRow>(`${SERVICE_SELECT} WHERE s.ref = ?`),
      byId: db.prepare<[number], ServiceRow>(`${SERVICE_SELECT} WHERE s.id = ?`),
      byCqcLocation: db.prepare<[string], ServiceRow>(`${SERVICE_SELECT} WHERE s.cqc_location_id = ?`),
      all: db.prepare<[], ServiceRow>(`${SERVICE_SELECT} ORDER BY s.ref`),
      count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM services'),
      providerByCqcId: db.prepare<[string], { id: number }>('SELECT id FROM providers WHERE cqc_provider_id = ?'),
      currentProviderByName: db.prepare<[string, string], { id: number }>(
        `SELECT p.id FROM services s JOIN providers p ON p.id = s.provider_id
         WHERE s.ref = ? AND lower(p.name) = lower(?)`,
      ),
      providerByName: db.prepare<[string], { id: number }>(
        'SELECT id FROM providers WHERE cqc_provider_id IS NULL AND lower(name) = lower(?) ORDER BY id LIMIT 1',
      ),
      insertProvider: db.prepare(
        `INSERT INTO providers (cqc_provider_id, companies_house_number, name, created_at, updated_at)
         VALUES (@cqcProviderId, @companiesHouseNumber, @name, @now, @now)`,
      ),
      updateProvider: db.prepare(
        `UPDATE providers SET name = @name,
           companies_house_number = COALESCE(@companiesHouseNumber, companies_house_number), updated_at = @now
         WHERE id = @id`,
      ),
      upsertService: db.prepare(
        `INSERT INTO services (ref, name, provider_id, cqc_location_id, fhrs_id, service_type, area, capacity,
           contract_status, registered_on, created_at, updated_at)
         VALUES (@ref, @name, @providerId, @cqcLocationId, @fhrsId, @serviceType, @area, @capacity, @contractStatus,
           @registeredOn, @now, @now)
         ON CONFLICT (ref) DO UPDATE SET name = excluded.name, provider_id = excluded.provider_id,
           cqc_location_id = excluded.cqc_location_id, fhrs_id = excluded.fhrs_id, service_type = excluded.service_type,
           area = excluded.area, capacity = excluded.capacity, contract_status = excluded.contract_status,
           registered_on = COALESCE(excluded.registered_on, services.registered_on), updated_at = excluded.updated_at`,
      ),
      setRegistration: db.prepare(
        `UPDATE services SET registered_on = COALESCE(@registeredOn, registered_on), deregistered_on = @deregisteredOn,
           updated_at = @now WHERE id = @id`,
      ),
      setProviderCompany: db.prepare(
        `UPDATE providers SET companies_house_number = @companiesHouseNumber, updated_at = @now
         WHERE id = @id AND (companies_house_number IS NULL OR companies_house_number <> @companiesHouseNumber)`,
      ),
      areas: db.prepare<[], { area: string }>('SELECT DISTINCT area FROM services ORDER BY area'),
    }
  }

  async count(): Promise<number> {
    return this.statements.count.get()?.n ?? 0
  }

  async findByRef(ref: string): Promise<Service | null> {
    const row = this.statements.byRef.get(ref)
    return row ? toService(row) : null
  }

  async findById(id: number): Promise<Service | null> {
    const row = this.statements.byId.get(id)
    return row ? toService(row) : null
  }

  async findByCqcLocationId(locationId: string): Promise<Service | null> {
    const row = this.statements.byCqcLocation.get(locationId)
    return row ? toService(row) : null
  }

  async listAll(): Promise<Service[]> {
    return this.statements.all.all().map(toService)
  }

  async listAreas(): Promise<string[]> {
    return this.statements.areas.all().map((r) => r.area)
  }

  /**
   * Creates or updates services by ref, creating providers as needed (matched by CQC provider ID, else by name),
   * all in one transaction: either every input lands or none.
   */
  async upsertMany(inputs: ServiceInput[]): Promise<UpsertOutcome[]> {
    const now = new Date().toISOString()
    const run = this.db.transaction((items: ServiceInput[]) =>
      items.map((input) => {
        const providerId = this.ensureProvider(input, now)
        const existed = this.statements.byRef.get(input.ref) !== undefined
        this.statements.upsertService.run({
          ref: input.ref,
          name: input.name,
          providerId,
          cqcLocationId: input.cqcLocationId ?? null,
          fhrsId: input.fhrsId ?? null,
          serviceType: input.serviceType,
          area: input.area,
          capacity: input.capacity ?? null,
          contractStatus: input.contractStatus,
          registeredOn: input.registeredOn ?? null,
          now,
        })
        const id = this.statements.byRef.get(input.ref)?.id as number
        return { ref: input.ref, id, created: !existed }
      }),
    )
    return run.immediate(inputs)
  }

  /** Registration facts learnt from CQC (registered / deregistered dates). */
  async setRegistration(serviceId: number, registeredOn: string | null, deregisteredOn: string | null): Promise<void> {
    this.statements.setRegistration.run({ id: serviceId, registeredOn, deregisteredOn, now: new Date().toISOString() })
  }

  /** The company number CQC holds for a provider, when the council's register lacks or differs from it. */
  async setProviderCompanyNumber(providerId: number, companiesHouseNumber: string): Promise<void> {
    this.statements.setProviderCompany.run({ id: providerId, companiesHouseNumber, now: new Date().toISOString() })
  }

  private ensureProvider(input: ServiceInput, now: string): number {
    // Without a CQC provider id, a service re-imported under its provider's name stays with that provider (which may
    // have a CQC id the file does not carry); otherwise match a provider without a CQC id by name.
    const existing = input.cqcProviderId
      ? this.statements.providerByCqcId.get(input.cqcProviderId)
      : (this.statements.currentProviderByName.get(input.ref, input.providerName) ??
        this.statements.providerByName.get(input.providerName))
    if (existing) {
      this.statements.updateProvider.run({
        id: existing.id,
        name: input.providerName,
        companiesHouseNumber: input.companiesHouseNumber ?? null,
        now,
      })
      return existing.id
    }
    const result = this.statements.insertProvider.run({
      cqcProviderId: input.cqcProviderId ?? null,
      companiesHouseNumber: input.companiesHouseNumber ?? null,
      name: input.providerName,
      now,
    })
    return Number(result.lastInsertRowid)
  }
}
