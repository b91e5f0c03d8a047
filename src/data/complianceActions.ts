import type { ContractStatus, Rag } from '../domain/vocabulary.js'
import { sql } from 'kysely'
import { recordAuditEntry } from './audit.js'
import { changes, inTransaction, toExecutor, type Executor, type ExecutorSource } from './executor.js'

/** The escalation ladder (SPEC §7), mildest first. */
export const ACTION_KINDS = [
  'notice_of_concern',
  'action_plan',
  'improvement_plan',
  'remedial_notice',
  'default_notice',
  'special_measures_improvement_plan',
  'suspension_of_new_placements',
  'termination',
] as const
export type ActionKind = (typeof ACTION_KINDS)[number]

export const ACTION_KIND_LABELS: Record<ActionKind, string> = {
  notice_of_concern: 'Notice of concern',
  action_plan: 'Action plan',
  improvement_plan: 'Improvement plan',
  remedial_notice: 'Remedial notice',
  default_notice: 'Default notice',
  special_measures_improvement_plan: 'Special measures improvement plan',
  suspension_of_new_placements: 'Suspension of new placements',
  termination: 'Termination',
}

/** The actions that are an indicator's fact, entered once (SPEC §9): the indicator each one is. */
export const ACTION_FACTS: Partial<Record<ActionKind, { indicator: string; value: string }>> = {
  default_notice: { indicator: 'default_notice', value: 'default_notice' },
  suspension_of_new_placements: { indicator: 'embargo', value: 'embargo' },
}

/** The observation source of a fact recorded by opening a compliance action. */
export const ACTION_SOURCE = 'compliance_action'

export interface ComplianceAction {
  id: number
  serviceId: number
  kind: ActionKind
  owner: string
  reference: string | null
  /** The indicator fact this action is (a default notice, a suspension), or null. */
  observationId: number | null
  /** ISO dates. */
  openedOn: string
  dueOn: string | null
  closedOn: string | null
  outcome: string | null
  notes: string | null
  createdBy: string
  createdAt: string
  closedBy: string | null
  updatedAt: string
}

export interface NewComplianceAction {
  serviceId: number
  kind: ActionKind
  owner: string
  reference?: string | null
  openedOn: string
  dueOn: string | null
  notes: string | null
}

export interface ActionClosure {
  closedOn: string
  outcome: string
}

/** An action with the service it is about, for lists across services. */
export interface ComplianceActionWithService extends ComplianceAction {
  serviceRef: string
  serviceName: string
}

export type CloseOutcome =
  | { ok: true; action: ComplianceAction }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'already_closed'; action: ComplianceAction }

interface ActionRow {
  id: number
  service_id: number
  kind: ActionKind
  owner: string
  reference: string | null
  observation_id: number | null
  opened_on: string
  due_on: string | null
  closed_on: string | null
  outcome: string | null
  notes: string | null
  created_by: string
  created_at: string
  closed_by: string | null
  updated_at: string
}

interface ActionWithServiceRow extends ActionRow {
  service_ref: string
  service_name: string
}

function toAction(row: ActionRow): ComplianceAction {
  return {
    id: row.id,
    serviceId: row.service_id,
    kind: row.kind,
    owner: row.owner,
    reference: row.reference,
    observationId: row.observation_id,
    openedOn: row.opened_on,
    dueOn: row.due_on,
    closedOn: row.closed_on,
    outcome: row.outcome,
    notes: row.notes,
    createdBy: row.created_by,
    createdAt: row.created_at,
    closedBy: row.closed_by,
    updatedAt: row.updated_at,
  }
}

function toActionWithService(row: ActionWithServiceRow): ComplianceActionWithService {
  return { ...toAction(row), serviceRef: row.service_ref, serviceName: row.service_name }
}

function auditView(action: ComplianceAction): Record<string, unknown> {
  return {
    actionId: action.id,
    kind: action.kind,
    owner: action.owner,
    reference: action.reference,
    openedOn: action.openedOn,
    dueOn: action.dueOn,
    closedOn: action.closedOn,
    outcome: action.outcome,
    notes: action.notes,
  }
}

const WITH_SERVICE = sql`SELECT a.*, s.ref AS service_ref, s.name AS service_name
  FROM compliance_actions a JOIN services s ON s.id = a.service_id`

interface FactInput {
  serviceId: number
  indicator: string
  value: string
  naturalKey: string
  observedOn: string
  endDate: string | null
  reference: string | null
  actor: string
  now: string
  supersedes: number | null
}

async function actionById(db: Executor, id: number): Promise<ActionRow | undefined> {
  return (await sql<ActionRow>`SELECT * FROM compliance_actions WHERE id = ${id}`.execute(db)).rows[0]
}

/** Records the indicator fact an action is and links the action to it (the fact's newest version). */
async function insertLinkedFact(db: Executor, actionId: number, fact: FactInput): Promise<void> {
  const { rows } = await sql<{ id: number }>`
    INSERT INTO observations (service_id, indicator, source, natural_key, observed_on, end_date, value, detail,
      reference, entered_by, recorded_at, supersedes_id)
    VALUES (${fact.serviceId}, ${fact.indicator}, ${ACTION_SOURCE}, ${fact.naturalKey}, ${fact.observedOn},
      ${fact.endDate}, ${fact.value}, '{}', ${fact.reference}, ${fact.actor}, ${fact.now}, ${fact.supersedes})
    RETURNING id`.execute(db)
  await sql`UPDATE compliance_actions SET observation_id = ${rows[0]?.id} WHERE id = ${actionId}`.execute(db)
}

/**
 * Compliance actions on the escalation ladder (SPEC §7). Opening and closing are audited against the service
 * (entity type 'service'), in the same transaction as the write.
 */
export class ComplianceActionsRepository {
  private readonly db: Executor

  constructor(db: ExecutorSource) {
    this.db = toExecutor(db)
  }

  /** Opens an action (audited as `action.opened`). Validation is the caller's. */
  async open(input: NewComplianceAction, actor: string): Promise<ComplianceAction> {
    const now = new Date().toISOString()
    return inTransaction(this.db, async (trx): Promise<ComplianceAction> => {
      const reference = input.reference ?? null
      const { rows } = await sql<{ id: number }>`
        INSERT INTO compliance_actions (service_id, kind, owner, reference, opened_on, due_on, notes, created_by,
          created_at, updated_at)
        VALUES (${input.serviceId}, ${input.kind}, ${input.owner}, ${reference}, ${input.openedOn}, ${input.dueOn},
          ${input.notes}, ${actor}, ${now}, ${now})
        RETURNING id`.execute(trx)
      const id = (rows[0] as { id: number }).id
      const fact = ACTION_FACTS[input.kind]
      if (fact) {
        await insertLinkedFact(trx, id, {
          serviceId: input.serviceId,
          indicator: fact.indicator,
          value: fact.value,
          naturalKey: `action:${id}`,
          observedOn: input.openedOn,
          endDate: null,
          reference,
          actor,
          now,
          supersedes: null,
        })
      }
      const action = toAction((await actionById(trx, id)) as ActionRow)
      await recordAuditEntry(
        trx,
        { actor, action: 'action.opened', entityType: 'service', entityId: input.serviceId, after: auditView(action) },
        now,
      )
      return action
    })
  }

  /** Closes an open action with its outcome (audited as `action.closed`). A closed action is not closed again. */
  async close(id: number, closure: ActionClosure, actor: string): Promise<CloseOutcome> {
    const now = new Date().toISOString()
    return inTransaction(this.db, async (trx): Promise<CloseOutcome> => {
      const before = await actionById(trx, id)
      if (!before) return { ok: false, reason: 'not_found' }
      const closed = await sql`
        UPDATE compliance_actions SET closed_on = ${closure.closedOn}, outcome = ${closure.outcome},
          closed_by = ${actor}, updated_at = ${now}
        WHERE id = ${id} AND closed_on IS NULL`.execute(trx)
      if (changes(closed) === 0) return { ok: false, reason: 'already_closed', action: toAction(before) }
      // Closing the action ends the fact it is: the notice resolved, the suspension lifted, on the date closed.
      const fact =
        before.observation_id === null
          ? undefined
          : (
              await sql<{ id: number; indicator: string; value: string; observed_on: string; reference: string | null }>`
                SELECT o.id, o.indicator, o.value, o.observed_on, o.reference FROM observations o
                WHERE o.id = ${before.observation_id}
                  AND NOT EXISTS (SELECT 1 FROM observations later WHERE later.supersedes_id = o.id)`.execute(trx)
            ).rows[0]
      if (fact) {
        await insertLinkedFact(trx, id, {
          serviceId: before.service_id,
          indicator: fact.indicator,
          value: fact.value,
          naturalKey: `action:${id}:closed`,
          observedOn: fact.observed_on,
          endDate: closure.closedOn,
          reference: fact.reference,
          actor,
          now,
          supersedes: fact.id,
        })
      }
      const action = toAction((await actionById(trx, id)) as ActionRow)
      await recordAuditEntry(
        trx,
        {
          actor,
          action: 'action.closed',
          entityType: 'service',
          entityId: before.service_id,
          before: auditView(toAction(before)),
          after: auditView(action),
        },
        now,
      )
      return { ok: true, action }
    })
  }

  async findById(id: number): Promise<ComplianceAction | undefined> {
    const row = await actionById(this.db, id)
    return row && toAction(row)
  }

  /** The service's actions: open ones first, then newest first. */
  async listForService(serviceId: number): Promise<ComplianceAction[]> {
    const { rows } = await sql<ActionRow>`
      SELECT * FROM compliance_actions WHERE service_id = ${serviceId}
      ORDER BY CASE WHEN closed_on IS NULL THEN 0 ELSE 1 END, opened_on DESC, id DESC`.execute(this.db)
    return rows.map(toAction)
  }

  /** Open actions whose due date is before `asOf`, most overdue first. */
  async overdue(asOf: string): Promise<ComplianceActionWithService[]> {
    const { rows } = await sql<ActionWithServiceRow>`
      ${WITH_SERVICE} WHERE a.closed_on IS NULL AND a.due_on IS NOT NULL AND a.due_on < ${asOf}
      ORDER BY a.due_on, a.id`.execute(this.db)
    return rows.map(toActionWithService)
  }

  /** The dates actions of a kind were opened, by service (oldest first). */
  async openedDatesByService(kind: ActionKind): Promise<Map<number, string[]>> {
    const byService = new Map<number, string[]>()
    const { rows } = await sql<{ service_id: number; opened_on: string }>`
      SELECT service_id, opened_on FROM compliance_actions WHERE kind = ${kind}
      ORDER BY service_id, opened_on`.execute(this.db)
    for (const row of rows) {
      const dates = byService.get(row.service_id) ?? []
      dates.push(row.opened_on)
      byService.set(row.service_id, dates)
    }
    return byService
  }
}

/** A live quality assessment observation, as the morning page's rules read it. */
export interface AssessmentOnRecord {
  serviceId: number
  observedOn: string
  value: string
  detail: Record<string, unknown>
}

/** A service with its current judgement, for ranking the assessments due. */
export interface ServiceState {
  serviceId: number
  ref: string
  name: string
  contractStatus: ContractStatus
  /** null until the service has been computed. */
  rag: Rag | null
  score: number | null
}

function parseDetail(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text)
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {}
  } catch {
    return {}
  }
}

type AssessmentRow = { service_id: number; observed_on: string; value: string; detail: string }

function toAssessmentOnRecord(row: AssessmentRow): AssessmentOnRecord {
  return { serviceId: row.service_id, observedOn: row.observed_on, value: row.value, detail: parseDetail(row.detail) }
}

/**
 * Read-only facts across services that the compliance officer's morning needs and no other repository offers in bulk:
 * every live quality assessment, and every service with its current RAG.
 */
export class ComplianceFactsRepository {
  private readonly db: Executor

  constructor(db: ExecutorSource) {
    this.db = toExecutor(db)
  }

  /** Live (not superseded) quality assessments of every service, by service then oldest first. */
  async assessmentsOnRecord(): Promise<AssessmentOnRecord[]> {
    const { rows } = await sql<AssessmentRow>`
      SELECT o.service_id, o.observed_on, o.value, o.detail FROM observations o
      WHERE o.indicator = 'quality_assessment'
        AND NOT EXISTS (SELECT 1 FROM observations later WHERE later.supersedes_id = o.id)
      ORDER BY o.service_id, o.observed_on, o.id`.execute(this.db)
    return rows.map(toAssessmentOnRecord)
  }

  /** Live quality assessments of one service, oldest first. */
  async assessmentsOf(serviceId: number): Promise<AssessmentOnRecord[]> {
    const { rows } = await sql<AssessmentRow>`
      SELECT o.service_id, o.observed_on, o.value, o.detail FROM observations o
      WHERE o.service_id = ${serviceId} AND o.indicator = 'quality_assessment'
        AND NOT EXISTS (SELECT 1 FROM observations later WHERE later.supersedes_id = o.id)
      ORDER BY o.observed_on, o.id`.execute(this.db)
    return rows.map(toAssessmentOnRecord)
  }

  /** Every registered (not deregistered) service with its current RAG and score. */
  async serviceStates(): Promise<ServiceState[]> {
    const { rows } = await sql<{
      id: number
      ref: string
      name: string
      contract_status: ContractStatus
      rag: Rag | null
      score: number | null
    }>`
      SELECT s.id, s.ref, s.name, s.contract_status, cs.rag, cs.score
      FROM services s LEFT JOIN current_snapshots cs ON cs.service_id = s.id
      WHERE s.deregistered_on IS NULL
      ORDER BY s.id`.execute(this.db)
    return rows.map((row) => ({
      serviceId: row.id,
      ref: row.ref,
      name: row.name,
      contractStatus: row.contract_status,
      rag: row.rag,
      score: row.score,
    }))
  }
}
