import type { NewAuditEntry } from '../data/audit.js'
import type { ObservationRepository } from '../data/observations.js'
import type { Service, ServiceInput, ServiceRepository } from '../data/services.js'
import type { NewObservation } from '../domain/observation.js'
import type { Readable } from 'node:stream'
import {
  assessmentObservation,
  intelligenceNumbering,
  parseCouncilCsv,
  parseCouncilCsvInBatches,
  safeguardingCountObservation,
  type CouncilCsvResult,
  type CouncilImportKind,
  type CouncilObservationFields,
  type CouncilRow,
  type CsvInput,
  type ParsedRow,
  type RowReject,
  type ServiceRow,
  type AssessmentRow,
  type IntelligenceRow,
  type SafeguardingCountRow,
} from '../ingest/council/index.js'
import type { RiskService } from './riskService.js'

export type ImportSource = 'council_csv' | 'council_inbox'

export interface ImportOptions {
  /** Who imports: a user's email, or 'inbox' / 'cli'. Recorded as enteredBy and in the audit log. */
  actor: string
  source: ImportSource
  /** The file's name as people know it, for the run trigger and the audit log. */
  fileLabel: string
  /**
   * Recompute the touched services before answering (default true). The overnight run passes false, as it recomputes
   * every service right after its sources: the import then publishes no run and returns `touchedServiceIds`.
   */
  recompute?: boolean
  /**
   * Runs the import's database writes, called once per import (even when there is nothing to write). The inbox wraps
   * them in one transaction with its record of the file. `write` does database work only and resolves with the
   * result (runId still null).
   */
  commit?: (write: () => Promise<ImportResult>) => Promise<ImportResult>
}

export interface BatchedImportOptions extends ImportOptions {
  /** Good rows written per transaction. */
  batchSize: number
  /**
   * Runs the writes of one full batch (every batch but the last, which goes to `commit` with the rest of the file's
   * record). The inbox runs each in its own transaction: a run killed mid-file keeps the batches committed, and
   * reading the file again adds nothing twice, as observations are deduplicated by natural key.
   */
  commitBatch: (write: () => Promise<void>) => Promise<void>
}

export interface ImportResult {
  /** The kind imported; null when it could not be told (unknown kind, or a header that is no council file). */
  kind: CouncilImportKind | null
  rowsRead: number
  /** Rows that added or changed something. */
  imported: number
  /** Good rows that matched what is already stored: re-importing a file adds nothing. */
  duplicates: number
  /** One entry per problem, by spreadsheet row number (the header is row 1). */
  rejects: RowReject[]
  /** A problem with the whole file: nothing was imported. */
  fileError: string | null
  /** The entry run that recomputed the touched services; null when nothing changed (or `recompute` was false). */
  runId: number | null
  /** With `recompute: false`: the services whose data changed, for the caller to recompute. */
  touchedServiceIds?: number[]
}

interface ImportOutcome {
  imported: number
  duplicates: number
  touched: number[]
}

/** What an import will write once its rows are checked: duplicates are known before, the rest when written. */
interface ImportPlan {
  duplicates: number
  write: () => Promise<ImportOutcome>
}

const NOTHING_TO_WRITE: ImportPlan = { duplicates: 0, write: async () => ({ imported: 0, duplicates: 0, touched: [] }) }

export interface ImportServiceDeps {
  services: ServiceRepository
  observations: ObservationRepository
  risk: Pick<RiskService, 'recomputeServices'>
  /** The council's calendar date (ISO): dated events cannot be later. */
  today: () => string
  audit?: (entry: NewAuditEntry) => Promise<void>
}

interface ServiceNaming {
  serviceRef: string | null
  cqcLocationId: string | null
}

/** A register file's rows so far: which row named each service, and which service each CQC location is. */
interface RegisterSoFar {
  rowOfRef: Map<string, number>
  refOfLocation: Map<string, string>
}

type Resolution = { ok: true; serviceId: number } | { ok: false; column: string; reason: string }

/**
 * Imports one council CSV file (SPEC §9 `npm run import`, §6 inbox): validates every row, imports the good ones in
 * one transaction, reports the bad ones by row, column and reason, and recomputes the touched services before it
 * answers.
 */
export class ImportService {
  constructor(private readonly deps: ImportServiceDeps) {}

  async importFile(kind: CouncilImportKind | 'auto', input: CsvInput, options: ImportOptions): Promise<ImportResult> {
    const today = { today: this.deps.today() }
    const parsed: CouncilCsvResult =
      kind === 'auto' ? await parseCouncilCsv(input, 'auto', today) : await parseCouncilCsv(input, kind, today)
    const rejects = [...parsed.rejects]
    const plan =
      parsed.fileError === undefined && parsed.kind !== null
        ? await this.planner(options).plan(parsed.kind, parsed.rows, rejects)
        : NOTHING_TO_WRITE
    return this.finish(kind, parsed, rejects, [plan], options)
  }

  /**
   * importFile for a file too large to hold (the inbox's): `open` is called twice. The first read only checks the
   * file as a whole (header, encoding, CSV syntax), so a file refused whole writes nothing; the second validates and
   * writes its good rows batch by batch, holding one batch at a time. The result is the whole-file import's.
   */
  async importInBatches(
    kind: CouncilImportKind | 'auto',
    open: () => Readable,
    options: BatchedImportOptions,
  ): Promise<ImportResult> {
    const today = this.deps.today()
    const checked = await parseCouncilCsvInBatches(open(), kind, { today, batchSize: Infinity, checkOnly: true })
    if (checked.fileError !== undefined || checked.kind === null) {
      return this.finish(kind, checked, [], [NOTHING_TO_WRITE], options)
    }
    const planner = this.planner(options)
    const rejects: RowReject[] = []
    const batches: ImportOutcome[] = []
    const parsed = await parseCouncilCsvInBatches(open(), checked.kind, {
      today,
      batchSize: options.batchSize,
      onBatch: async (batchKind, rows) => {
        const plan = await planner.plan(batchKind, rows, rejects)
        await options.commitBatch(async () => {
          const outcome = await plan.write()
          batches.push({ ...outcome, duplicates: outcome.duplicates + plan.duplicates })
        })
      },
    })
    if (parsed.fileError !== undefined || parsed.kind === null) {
      throw new Error(`the file changed while it was read (${parsed.fileError ?? 'its header is gone'})`)
    }
    rejects.push(...parsed.rejects)
    const last = await planner.plan(parsed.kind, parsed.rows, rejects)
    const written: ImportPlan[] = batches.map((outcome) => ({ duplicates: 0, write: async () => outcome }))
    return this.finish(kind, parsed, rejects, [...written, last], options)
  }

  /**
   * Writes what is left to write through `options.commit` (the plans of batches already committed only report their
   * outcome), then recomputes the touched services and audits the import.
   */
  private async finish(
    kind: CouncilImportKind | 'auto',
    parsed: CouncilCsvResult,
    rejects: RowReject[],
    plans: ImportPlan[],
    options: ImportOptions,
  ): Promise<ImportResult> {
    rejects.sort((a, b) => a.rowNumber - b.rowNumber)
    const touchedIds = new Set<number>()
    const writeRows = async (): Promise<ImportResult> => {
      let imported = 0
      let duplicates = 0
      for (const plan of plans) {
        const outcome = await plan.write()
        imported += outcome.imported
        duplicates += plan.duplicates + outcome.duplicates
        outcome.touched.forEach((id) => touchedIds.add(id))
      }
      return {
        kind: parsed.kind,
        rowsRead: parsed.rowsRead,
        imported,
        duplicates,
        rejects,
        fileError: parsed.fileError ?? null,
        runId: null,
      }
    }
    const written = options.commit ? await options.commit(writeRows) : await writeRows()
    const touched = [...touchedIds]

    const recompute = options.recompute ?? true
    let runId: number | null = null
    if (recompute && touched.length > 0) {
      const trigger = `import ${parsed.kind ?? kind} ${options.fileLabel}`
      runId = (await this.deps.risk.recomputeServices(touched, trigger)).runId
    }
    const result: ImportResult = { ...written, runId, ...(recompute ? {} : { touchedServiceIds: touched }) }
    await this.deps.audit?.({
      actor: options.actor,
      action: 'import',
      entityType: 'import',
      entityId: options.fileLabel,
      after: {
        kind: result.kind,
        source: options.source,
        rowsRead: result.rowsRead,
        imported: result.imported,
        duplicates: result.duplicates,
        rejected: new Set(result.rejects.map((r) => r.rowNumber)).size,
        fileError: result.fileError,
        runId,
      },
    })
    return result
  }

  /** Plans the writes of a file's rows, a batch at a time: what must be known across batches is kept here. */
  private planner(options: ImportOptions): {
    plan: (kind: CouncilImportKind, rows: ParsedRow<CouncilRow>[], rejects: RowReject[]) => Promise<ImportPlan>
  } {
    const resolve = this.serviceResolver()
    const numberIntelligence = intelligenceNumbering()
    const register: RegisterSoFar = { rowOfRef: new Map(), refOfLocation: new Map() }
    return {
      plan: async (kind, rows, rejects) => {
        switch (kind) {
          case 'services':
            return this.planServices(rows as ParsedRow<ServiceRow>[], rejects, register)
          case 'assessments': {
            const typed = rows as ParsedRow<AssessmentRow>[]
            const fields = typed.map((row) => assessmentObservation(row.value))
            return this.planObservations(typed, fields, rejects, options, resolve)
          }
          case 'intelligence': {
            const typed = rows as ParsedRow<IntelligenceRow>[]
            const fields = numberIntelligence(typed.map((row) => row.value))
            return this.planObservations(typed, fields, rejects, options, resolve)
          }
          case 'safeguarding_counts': {
            const typed = rows as ParsedRow<SafeguardingCountRow>[]
            const fields = typed.map((row) => safeguardingCountObservation(row.value))
            return this.planObservations(typed, fields, rejects, options, resolve)
          }
        }
      },
    }
  }

  /** Observation kinds: every row must name a known service; the good rows are appended in one transaction. */
  private async planObservations(
    rows: ParsedRow<ServiceNaming>[],
    fields: CouncilObservationFields[],
    rejects: RowReject[],
    options: ImportOptions,
    resolve: (naming: ServiceNaming) => Promise<Resolution>,
  ): Promise<ImportPlan> {
    const observations: NewObservation[] = []
    for (const [index, row] of rows.entries()) {
      const resolution = await resolve(row.value)
      if (!resolution.ok) {
        rejects.push({ rowNumber: row.rowNumber, column: resolution.column, reason: resolution.reason })
        continue
      }
      observations.push({
        ...(fields[index] as CouncilObservationFields),
        serviceId: resolution.serviceId,
        source: options.source,
        enteredBy: options.actor,
      })
    }
    if (observations.length === 0) return NOTHING_TO_WRITE
    return {
      duplicates: 0,
      write: async () => {
        const appended = await this.deps.observations.appendOrSupersede(observations)
        return { imported: appended.inserted, duplicates: appended.unchanged, touched: appended.changedServiceIds }
      },
    }
  }

  /** Looks services up by ref, else by CQC location id, remembering answers across the rows of one file. */
  private serviceResolver(): (naming: ServiceNaming) => Promise<Resolution> {
    const byRef = new Map<string, Service | null>()
    const byLocation = new Map<string, Service | null>()
    const lookUp = async <K>(cache: Map<K, Service | null>, key: K, find: (key: K) => Promise<Service | null>) => {
      if (!cache.has(key)) cache.set(key, await find(key))
      return cache.get(key) ?? null
    }
    return async ({ serviceRef, cqcLocationId }) => {
      if (serviceRef !== null) {
        const service = await lookUp(byRef, serviceRef, (ref) => this.deps.services.findByRef(ref))
        if (!service) {
          return { ok: false, column: 'service_ref', reason: `"${serviceRef}" is not a service on the register` }
        }
        if (cqcLocationId !== null && service.cqcLocationId !== null && service.cqcLocationId !== cqcLocationId) {
          return {
            ok: false,
            column: 'cqc_location_id',
            reason: `${cqcLocationId} is not the CQC location of ${serviceRef} (${service.cqcLocationId} is)`,
          }
        }
        return { ok: true, serviceId: service.id }
      }
      const location = cqcLocationId as string
      const service = await lookUp(byLocation, location, (id) => this.deps.services.findByCqcLocationId(id))
      return service
        ? { ok: true, serviceId: service.id }
        : {
            ok: false,
            column: 'cqc_location_id',
            reason: `${location} is not the CQC location of a service on the register`,
          }
    }
  }

  /**
   * The register: creates or updates services by ref (a row named only by CQC location id updates the service at
   * that location, or creates one with the location id as its ref). Rows identical to what is stored are duplicates.
   */
  private async planServices(
    rows: ParsedRow<ServiceRow>[],
    rejects: RowReject[],
    { rowOfRef, refOfLocation }: RegisterSoFar,
  ): Promise<ImportPlan> {
    const inputs: ServiceInput[] = []
    let duplicates = 0
    for (const { rowNumber, value: row } of rows) {
      const atLocation = row.cqcLocationId ? await this.deps.services.findByCqcLocationId(row.cqcLocationId) : null
      const ref = row.serviceRef ?? atLocation?.ref ?? (row.cqcLocationId as string)
      const reject = (column: string, reason: string) => rejects.push({ rowNumber, column, reason })

      const earlierRow = rowOfRef.get(ref)
      if (earlierRow !== undefined) {
        reject(
          row.serviceRef !== null ? 'service_ref' : 'cqc_location_id',
          `names the same service as row ${earlierRow}`,
        )
        continue
      }
      if (row.cqcLocationId !== null) {
        const owner =
          refOfLocation.get(row.cqcLocationId) ?? (atLocation && atLocation.ref !== ref ? atLocation.ref : null)
        if (owner !== null && owner !== ref) {
          reject('cqc_location_id', `${row.cqcLocationId} is already the CQC location of service ${owner}`)
          continue
        }
        refOfLocation.set(row.cqcLocationId, ref)
      }
      rowOfRef.set(ref, rowNumber)

      const input: ServiceInput = {
        ref,
        name: row.name,
        providerName: row.providerName,
        cqcProviderId: row.cqcProviderId,
        companiesHouseNumber: row.companiesHouseNumber,
        cqcLocationId: row.cqcLocationId,
        fhrsId: row.fhrsId,
        serviceType: row.serviceType,
        area: row.area,
        capacity: row.capacity,
        contractStatus: row.contractStatus,
      }
      const existing = atLocation?.ref === ref ? atLocation : await this.deps.services.findByRef(ref)
      if (existing && sameService(existing, input)) duplicates++
      else inputs.push(input)
    }
    if (inputs.length === 0) return { ...NOTHING_TO_WRITE, duplicates }
    return {
      duplicates,
      write: async () => {
        const outcomes = await this.deps.services.upsertMany(inputs)
        return { imported: outcomes.length, duplicates: 0, touched: outcomes.map((o) => o.id) }
      },
    }
  }
}

/** Whether upserting `input` would change nothing (blank company number and registration keep what is known). */
function sameService(existing: Service, input: ServiceInput): boolean {
  return (
    existing.name === input.name &&
    existing.providerName === input.providerName &&
    (input.cqcProviderId == null || existing.cqcProviderId === input.cqcProviderId) &&
    (input.companiesHouseNumber == null || existing.companiesHouseNumber === input.companiesHouseNumber) &&
    existing.cqcLocationId === (input.cqcLocationId ?? null) &&
    existing.fhrsId === (input.fhrsId ?? null) &&
    existing.serviceType === input.serviceType &&
    existing.area === input.area &&
    existing.capacity === (input.capacity ?? null) &&
    existing.contractStatus === input.contractStatus
  )
}
