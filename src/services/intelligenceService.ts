import type { ObservationRepository, StoredObservation } from '../data/observations.js'
import type { Store } from '../data/store.js'
import type { RunRepository } from '../data/runs.js'
import type { Service, ServiceRepository } from '../data/services.js'
import { versionChain, type NewObservation } from '../domain/observation.js'
import type { RiskResult } from '../domain/riskResult.js'
import type { IndicatorKey, IntelligenceKind, Source } from '../domain/vocabulary.js'
import { intelligenceObservation, parseCouncilRecord, type IntelligenceRow } from '../ingest/council/index.js'
import type { RiskService } from './riskService.js'

/** A problem with one field of an entry, named by the CSV's column name (date, end_date, outcome...). */
export interface FieldProblem {
  field: string
  message: string
}

/** Where an entry came from: a page form or `POST /api/v1/services/{ref}/intelligence`. */
export type EntrySource = Extract<Source, 'council_form' | 'council_api'>

export interface EntryContext {
  /** The audit actor and enteredBy: a user's email or `api-token:<name>`. */
  actor: string
  source: EntrySource
}

/** One observation read as a council intelligence entry. */
export interface IntelligenceEntry {
  id: number
  serviceId: number
  kind: IntelligenceKind
  indicator: IndicatorKey
  value: string
  date: string
  endDate: string | null
  outcome: string | null
  reference: string | null
  notes: string | null
  source: Source
  enteredBy: string | null
  recordedAt: string
  supersedesId: number | null
  /** Set when a later version replaced this one: it is kept as an earlier version. */
  supersededById: number | null
}

export type EntryOutcome =
  | {
      ok: true
      service: Service
      entry: IntelligenceEntry
      previous: IntelligenceEntry | null
      risk: RiskResult | null
    }
  | { ok: false; status: 400 | 404 | 409; error: string; problems: FieldProblem[] }

export interface IntelligenceServiceDeps {
  services: Pick<ServiceRepository, 'findByRef'>
  observations: Pick<ObservationRepository, 'listHistory' | 'findById'>
  runs: Pick<RunRepository, 'current'>
  risk: Pick<RiskService, 'recomputeServices'>
  /** The entry and its audit entry are written in one transaction. */
  store: Pick<Store, 'write'>
  /** The council's calendar date (ISO): events cannot be dated after it. */
  today: () => string
}

/** The row fields a caller may send; the service is named by the path, never the body. */
const NAMING_FIELDS = new Set(['service_ref', 'cqc_location_id'])

/** The kind of council intelligence an observation records, or null when it is none (a CQC fact, a count...). */
export function kindOfObservation(
  observation: Pick<StoredObservation, 'indicator' | 'value' | 'source'>,
): IntelligenceKind | null {
  if (observation.source.startsWith('cqc') || observation.source.startsWith('fhrs')) return null
  switch (observation.indicator) {
    case 'safeguarding':
      return observation.value === 'decision' ? 'safeguarding_decision' : null
    case 'embargo':
      return 'embargo'
    case 'default_notice':
      return 'default_notice'
    case 'unexpected_deaths':
      return 'unexpected_death'
    case 'contract_concerns':
      return 'contract_concern'
    case 'manager_vacancy':
      return observation.value === 'vacant' ? 'manager_vacancy' : null
    default:
      return null
  }
}

export function toEntry(observation: StoredObservation): IntelligenceEntry | null {
  const kind = kindOfObservation(observation)
  if (kind === null) return null
  const detailOutcome = typeof observation.detail.outcome === 'string' ? observation.detail.outcome : null
  return {
    id: observation.id,
    serviceId: observation.serviceId,
    kind,
    indicator: observation.indicator,
    value: observation.value,
    date: observation.observedOn,
    endDate: observation.endDate,
    outcome: kind === 'contract_concern' ? observation.value : detailOutcome,
    reference: observation.reference,
    notes: observation.notes,
    source: observation.source,
    enteredBy: observation.enteredBy,
    recordedAt: observation.recordedAt,
    supersedesId: observation.supersedesId,
    supersededById: observation.supersededById,
  }
}

/** An entry as the CSV's fields, for filling in an edit form. */
export function entryFields(entry: IntelligenceEntry): Record<string, string> {
  return {
    kind: entry.kind,
    date: entry.date,
    end_date: entry.endDate ?? '',
    outcome: entry.outcome ?? '',
    reference: entry.reference ?? '',
    notes: entry.notes ?? '',
  }
}

/** What the audit log keeps of an entry (notes included: the audit is for compliance and admin only). */
function auditView(service: Service, entry: IntelligenceEntry) {
  return {
    service: service.ref,
    observationId: entry.id,
    kind: entry.kind,
    date: entry.date,
    endDate: entry.endDate,
    outcome: entry.outcome,
    reference: entry.reference,
    notes: entry.notes,
    source: entry.source,
  }
}

const OCCURRENCE_KEY = /^council:([a-z_]+):on:(\d{4}-\d{2}-\d{2}):(\d+)$/

/**
 * Council intelligence entered one event at a time (SPEC §7 entry forms, §9 `POST /services/{ref}/intelligence`):
 * validated with the CSV's rules, stored as an observation (an edit supersedes the old version, which is kept),
 * audited, and the service's risk and eligibility recomputed before the caller answers.
 */
export class IntelligenceService {
  constructor(private readonly deps: IntelligenceServiceDeps) {}

  async findService(ref: string): Promise<Service | null> {
    return this.deps.services.findByRef(ref)
  }

  /** Every intelligence entry of a service, newest first, earlier versions included. */
  async entriesFor(serviceId: number): Promise<IntelligenceEntry[]> {
    const history = await this.deps.observations.listHistory(serviceId)
    return history.map(toEntry).filter((entry): entry is IntelligenceEntry => entry !== null)
  }

  /** One entry of the service, or null when the id is not an intelligence entry of that service. */
  async entry(serviceId: number, id: number): Promise<IntelligenceEntry | null> {
    const observation = await this.deps.observations.findById(id)
    if (!observation || observation.serviceId !== serviceId) return null
    return toEntry(observation)
  }

  /** The chain of versions an entry belongs to, newest first. */
  async versionsOf(serviceId: number, id: number): Promise<IntelligenceEntry[]> {
    return versionChain(await this.entriesFor(serviceId), id)
  }

  /** Records a new event for the service named `ref`, from fields named as the CSV's columns. */
  async record(ref: string, fields: Record<string, unknown>, context: EntryContext): Promise<EntryOutcome> {
    const service = await this.deps.services.findByRef(ref)
    if (!service) return notFound(ref)
    const parsed = this.parse(service, fields)
    if (!parsed.ok) return invalid(parsed.problems)
    const row = parsed.value

    const history = await this.deps.observations.listHistory(service.id)
    let occurrence = 1
    if (row.reference !== null) {
      const key = intelligenceObservation(row).naturalKey
      if (history.some((o) => o.naturalKey === key)) {
        return invalid([
          {
            field: 'reference',
            message: `${row.reference} is already recorded for this service: change that entry instead`,
          },
        ])
      }
    } else {
      for (const o of history) {
        const match = OCCURRENCE_KEY.exec(o.naturalKey)
        if (match && match[1] === row.kind && match[2] === row.date)
          occurrence = Math.max(occurrence, Number(match[3]) + 1)
      }
    }
    const observation: NewObservation = {
      ...intelligenceObservation(row, occurrence),
      serviceId: service.id,
      source: context.source,
      enteredBy: context.actor,
    }
    return this.store(service, observation, null, context, 'intelligence.recorded')
  }

  /**
   * Changes an entry (lifting an embargo, resolving a default notice, correcting a date): a new version superseding
   * the old, which stays as history. Its kind cannot change. Refused with 409 when someone changed it first.
   */
  async edit(ref: string, id: number, fields: Record<string, unknown>, context: EntryContext): Promise<EntryOutcome> {
    const service = await this.deps.services.findByRef(ref)
    if (!service) return notFound(ref)
    const old = await this.entry(service.id, id)
    if (!old)
      return {
        ok: false,
        status: 404,
        error: 'Entry not found',
        problems: [{ field: 'id', message: `No intelligence entry ${id} for ${ref}` }],
      }
    if (old.supersededById !== null) return changedMeanwhile(old)

    const parsed = this.parse(service, { ...fields, kind: old.kind })
    if (!parsed.ok) return invalid(parsed.problems)
    const fresh = intelligenceObservation(parsed.value)
    const unchanged =
      fresh.observedOn === old.date &&
      fresh.endDate === old.endDate &&
      fresh.value === old.value &&
      (fresh.detail.outcome ?? null) === (old.kind === 'contract_concern' ? null : old.outcome) &&
      fresh.reference === old.reference &&
      fresh.notes === old.notes
    if (unchanged) return invalid([{ field: 'form', message: 'Nothing has changed: change a field, or go back' }])

    const observation: NewObservation = {
      ...fresh,
      // Not the source's own key: a later CSV export of the original event compares against what it last sent.
      naturalKey: `edit:${old.id}`,
      supersedes: old.id,
      serviceId: service.id,
      source: context.source,
      enteredBy: context.actor,
    }
    return this.store(service, observation, old, context, 'intelligence.changed')
  }

  /** The problems `record` would report for these fields, without writing anything. */
  validate(service: Service, fields: Record<string, unknown>): FieldProblem[] {
    const parsed = this.parse(service, fields)
    return parsed.ok ? [] : parsed.problems
  }

  private parse(service: Service, fields: Record<string, unknown>) {
    const row: Record<string, unknown> = {}
    for (const [name, value] of Object.entries(fields)) if (!NAMING_FIELDS.has(name)) row[name] = value
    row.service_ref = service.ref
    const parsed = parseCouncilRecord('intelligence', row, { today: this.deps.today() })
    if (parsed.ok) return { ok: true as const, value: parsed.value as IntelligenceRow }
    return {
      ok: false as const,
      problems: parsed.problems.map((p) => ({ field: p.column ?? 'kind', message: p.reason })),
    }
  }

  private async store(
    service: Service,
    observation: NewObservation,
    previous: IntelligenceEntry | null,
    context: EntryContext,
    action: string,
  ): Promise<EntryOutcome> {
    // The entry and its audit entry in one transaction: a crash between them cannot leave an unaudited write.
    const id = await this.deps.store.write(async ({ observations, audit }) => {
      const inserted = (await observations.append([observation])).insertedIds[0]
      if (inserted === undefined) return undefined
      const written = toEntry(asStored(observation, inserted))
      if (!written) throw new Error(`Observation ${inserted} is not an intelligence entry`)
      await audit.record({
        actor: context.actor,
        action,
        entityType: 'service',
        entityId: service.ref,
        before: previous ? auditView(service, previous) : null,
        after: auditView(service, written),
      })
      return inserted
    })
    if (id === undefined) {
      // The key was taken between our check and the write: someone recorded or changed it at the same moment.
      return previous
        ? changedMeanwhile(previous)
        : invalid([{ field: 'reference', message: 'This entry is already recorded' }])
    }
    const stored = await this.deps.observations.findById(id)
    const entry = stored ? toEntry(stored) : null
    if (!entry) throw new Error(`Stored observation ${id} is not an intelligence entry`)
    await this.deps.risk.recomputeServices([service.id], `${action} ${entry.kind} ${service.ref} by ${context.actor}`)
    const current = await this.deps.runs.current(service.id)
    return { ok: true, service, entry, previous, risk: current?.result ?? null }
  }
}

/** An observation just appended under `id`, as it reads back (for its audit entry, inside the write's transaction). */
export function asStored(observation: NewObservation, id: number): StoredObservation {
  return {
    id,
    serviceId: observation.serviceId,
    indicator: observation.indicator,
    source: observation.source,
    observedOn: observation.observedOn,
    endDate: observation.endDate ?? null,
    value: observation.value,
    detail: observation.detail ?? {},
    reference: observation.reference ?? null,
    notes: observation.notes ?? null,
    enteredBy: observation.enteredBy ?? null,
    recordedAt: new Date().toISOString(),
    naturalKey: observation.naturalKey,
    supersedesId: observation.supersedes ?? null,
    supersededById: null,
  }
}

function notFound(ref: string): EntryOutcome {
  return {
    ok: false,
    status: 404,
    error: 'Service not found',
    problems: [{ field: 'ref', message: `No service ${ref}` }],
  }
}

function invalid(problems: FieldProblem[]): EntryOutcome {
  return { ok: false, status: 400, error: 'Invalid intelligence entry', problems }
}

function changedMeanwhile(old: IntelligenceEntry): EntryOutcome {
  return {
    ok: false,
    status: 409,
    error: 'This entry has been changed since',
    problems: [
      {
        field: 'id',
        message: `Entry ${old.id} has been replaced by a later version (${old.supersededById ?? 'just now'}): change the latest version`,
      },
    ],
  }
}
