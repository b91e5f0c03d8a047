import { z } from 'zod'
import {
  ACTION_KINDS,
  ACTION_KIND_LABELS,
  type ActionKind,
  type AssessmentOnRecord,
  type ComplianceAction,
  type ComplianceActionsRepository,
  type ComplianceFactsRepository,
} from '../data/complianceActions.js'
import type { OverridesRepository, RagOverride, SetOverrideOutcome } from '../data/overrides.js'
import { addDays, daysBetween, isIsoDate } from '../domain/dates.js'
import { isCountedAssessment } from '../domain/indicators/qualityAssessment.js'
import type { Observation } from '../domain/observation.js'
import { normaliseWord, RAGS, type Rag } from '../domain/vocabulary.js'
import type { RiskService } from './riskService.js'
import { safeText } from '../domain/strictInput.js'

/** SPEC §3: an override must expire, at most this many days ahead. */
export const MAX_OVERRIDE_DAYS = 90
/** SPEC §7: an action plan is due this many days after a Requires Improvement or Poor assessment. */
export const ACTION_PLAN_DUE_DAYS = 14
export const REASON_MAX_LENGTH = 1000

/** Why an override is revoked early: a reason is required, as for setting one. */
export const revokeSchema = z.object({
  reason: safeText(
    z
      .string({ error: 'Enter why the override is being revoked' })
      .trim()
      .min(1, 'Enter why the override is being revoked')
      .max(REASON_MAX_LENGTH, `The reason must be ${REASON_MAX_LENGTH} characters or fewer`),
    { multiline: true },
  ),
})
export const OWNER_MAX_LENGTH = 200
export const NOTES_MAX_LENGTH = 5000
export const REFERENCE_MAX_LENGTH = 100

export interface FieldError {
  field: string
  message: string
}

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] }

export interface OverrideInput {
  level: Rag
  reason: string
  expiresOn: string
}

export interface NewActionInput {
  kind: ActionKind
  owner: string
  reference: string | null
  openedOn: string
  dueOn: string | null
  notes: string | null
}

export interface ClosureInput {
  closedOn: string
  outcome: string
}

/** "14 March 2026", for messages. */
function longDate(iso: string): string {
  return new Date(`${iso}T00:00:00Z`).toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  })
}

/**
 * A date field as the routes hand it over: undefined or '' when left blank, else `YYYY-MM-DD` (which may not be a
 * real date: the routes join the day, month and year boxes as typed). `check` adds the field's own rules.
 */
function dateField(label: string, check: (iso: string) => string | null = () => null) {
  return z
    .string({ error: `Enter the ${label}` })
    .trim()
    .superRefine((value, ctx) => {
      if (value === '') return void ctx.addIssue({ code: 'custom', message: `Enter the ${label}` })
      if (!isIsoDate(value)) {
        return void ctx.addIssue({ code: 'custom', message: `The ${label} must be a real date` })
      }
      const problem = check(value)
      if (problem) ctx.addIssue({ code: 'custom', message: problem })
    })
}

function optionalText(max: number, label: string) {
  return safeText(z.string().trim().max(max, `${label} must be ${max} characters or fewer`).optional(), {
    multiline: true,
  }).transform((value) => (value === undefined || value === '' ? null : value))
}

function notInFuture(label: string, today: string) {
  return (iso: string) => (iso > today ? `The ${label} must be today or in the past` : null)
}

export function overrideSchema(today: string) {
  const latest = addDays(today, MAX_OVERRIDE_DAYS)
  return z.object({
    level: z.enum(RAGS, { error: 'Select the RAG to override to' }),
    reason: safeText(
      z
        .string({ error: 'Enter the reason for the override' })
        .trim()
        .min(1, 'Enter the reason for the override')
        .max(REASON_MAX_LENGTH, `The reason must be ${REASON_MAX_LENGTH} characters or fewer`),
      { multiline: true },
    ),
    expiresOn: dateField('expiry date', (iso) =>
      iso < today
        ? 'The expiry date must be today or in the future'
        : iso > latest
          ? `The expiry date must be within ${MAX_OVERRIDE_DAYS} days, on or before ${longDate(latest)}`
          : null,
    ),
  })
}

export function newActionSchema(today: string) {
  return z
    .object({
      kind: z.enum(ACTION_KINDS, { error: 'Select the type of action' }),
      owner: safeText(
        z
          .string({ error: 'Enter who owns the action' })
          .trim()
          .min(1, 'Enter who owns the action')
          .max(OWNER_MAX_LENGTH, `The owner must be ${OWNER_MAX_LENGTH} characters or fewer`),
      ),
      openedOn: dateField('date opened', notInFuture('date opened', today)),
      dueOn: z
        .string()
        .trim()
        .optional()
        .transform((value) => (value === undefined || value === '' ? null : value))
        .superRefine((value, ctx) => {
          if (value !== null && !isIsoDate(value))
            ctx.addIssue({ code: 'custom', message: 'The due date must be a real date' })
        }),
      reference: optionalText(REFERENCE_MAX_LENGTH, 'The reference'),
      notes: optionalText(NOTES_MAX_LENGTH, 'Notes'),
    })
    .superRefine((action, ctx) => {
      if (action.dueOn !== null && isIsoDate(action.dueOn) && action.dueOn < action.openedOn) {
        ctx.addIssue({ code: 'custom', path: ['dueOn'], message: 'The due date must be on or after the date opened' })
      }
    })
}

export function closureSchema(today: string, openedOn: string) {
  return z.object({
    closedOn: dateField('date closed', (iso) =>
      iso > today
        ? 'The date closed must be today or in the past'
        : iso < openedOn
          ? `The date closed must be on or after the date opened (${longDate(openedOn)})`
          : null,
    ),
    outcome: z
      .string({ error: 'Enter the outcome' })
      .trim()
      .min(1, 'Enter the outcome')
      .max(REASON_MAX_LENGTH, `The outcome must be ${REASON_MAX_LENGTH} characters or fewer`),
  })
}

function validate<T>(schema: z.ZodType<T>, raw: unknown): Validated<T> {
  const parsed = schema.safeParse(raw)
  if (parsed.success) return { ok: true, value: parsed.data }
  const errors: FieldError[] = []
  for (const issue of parsed.error.issues) {
    const field = issue.path.join('.') || '(form)'
    // One message per field, the first: the error summary lists a field once.
    if (!errors.some((error) => error.field === field)) errors.push({ field, message: issue.message })
  }
  return { ok: false, errors }
}

/** A Requires Improvement or Poor assessment that no action plan has followed yet. */
export interface ActionPlanDue {
  serviceId: number
  assessedOn: string
  outcome: 'requires_improvement' | 'poor'
  dueOn: string
}

/**
 * SPEC §7: an action plan is due 14 days after a Requires Improvement or Poor assessment. For each service whose
 * latest counted assessment has such an outcome and no action plan opened on or after it, the plan's due date. Pure.
 */
export function actionPlansDue(
  assessments: readonly AssessmentOnRecord[],
  actionPlansOpened: ReadonlyMap<number, readonly string[]>,
): ActionPlanDue[] {
  const latest = new Map<number, AssessmentOnRecord>()
  for (const assessment of assessments) {
    if (!isCountedAssessment({ detail: assessment.detail } as Observation)) continue
    const current = latest.get(assessment.serviceId)
    if (!current || assessment.observedOn >= current.observedOn) latest.set(assessment.serviceId, assessment)
  }
  const due: ActionPlanDue[] = []
  for (const assessment of latest.values()) {
    const outcome = normaliseWord(assessment.value)
    if (outcome !== 'requires_improvement' && outcome !== 'poor') continue
    const opened = actionPlansOpened.get(assessment.serviceId) ?? []
    if (opened.some((date) => date >= assessment.observedOn)) continue
    due.push({
      serviceId: assessment.serviceId,
      assessedOn: assessment.observedOn,
      outcome,
      dueOn: addDays(assessment.observedOn, ACTION_PLAN_DUE_DAYS),
    })
  }
  return due.sort((a, b) => (a.dueOn < b.dueOn ? -1 : a.dueOn > b.dueOn ? 1 : a.serviceId - b.serviceId))
}

export function actionKindLabel(kind: string): string {
  return ACTION_KIND_LABELS[kind as ActionKind] ?? kind
}

/** Whether an open action is past its due date as of `today`. */
export function isOverdue(action: Pick<ComplianceAction, 'closedOn' | 'dueOn'>, today: string): boolean {
  return action.closedOn === null && action.dueOn !== null && daysBetween(action.dueOn, today) > 0
}

export interface ComplianceServiceDeps {
  overrides: OverridesRepository
  actions: ComplianceActionsRepository
  /** The service's quality assessments, for the due date of an action plan. */
  facts: Pick<ComplianceFactsRepository, 'assessmentsOf'>
  risk: RiskService
  today: () => string
}

export interface ServiceCompliance {
  activeOverride: RagOverride | null
  overrides: RagOverride[]
  actions: ComplianceAction[]
}

/**
 * The compliance workflow (SPEC §3 overrides, §7 actions): validates, writes (audited by the repositories) and, for
 * overrides, recomputes the service at once so the new RAG shows everywhere before the request answers.
 */
export class ComplianceService {
  readonly overrides: OverridesRepository
  readonly actions: ComplianceActionsRepository

  constructor(private readonly deps: ComplianceServiceDeps) {
    this.overrides = deps.overrides
    this.actions = deps.actions
  }

  today(): string {
    return this.deps.today()
  }

  async serviceCompliance(serviceId: number): Promise<ServiceCompliance> {
    const [activeOverride, overrides, actions] = await Promise.all([
      this.deps.overrides.activeForService(serviceId, this.deps.today()),
      this.deps.overrides.listForService(serviceId),
      this.deps.actions.listForService(serviceId),
    ])
    return { activeOverride: activeOverride ?? null, overrides, actions }
  }

  async setOverride(serviceId: number, raw: unknown, actor: string): Promise<Validated<SetOverrideOutcome>> {
    const today = this.deps.today()
    const input = validate(overrideSchema(today), raw)
    if (!input.ok) return input
    const computed = (await this.deps.risk.assess(serviceId, today)).computedRag
    if (input.value.level === computed) {
      const colour = `${computed.charAt(0).toUpperCase()}${computed.slice(1)}`
      return {
        ok: false,
        errors: [
          {
            field: 'level',
            message: `The rules already give ${colour}: choose another RAG, or revoke the override to go back to the rules’ RAG`,
          },
        ],
      }
    }
    const outcome = await this.deps.overrides.set(
      { serviceId, rag: input.value.level, reason: input.value.reason, expiresOn: input.value.expiresOn },
      actor,
      today,
    )
    await this.deps.risk.recomputeServices([serviceId], `override set by ${actor}`)
    return { ok: true, value: outcome }
  }

  /** Revokes the service's override early, for the reason given; undefined when the override is not this service's. */
  async revokeOverride(
    serviceId: number,
    overrideId: number,
    actor: string,
    reason = 'Revoked early',
  ): Promise<RagOverride | undefined> {
    const existing = await this.deps.overrides.findById(overrideId)
    if (!existing || existing.serviceId !== serviceId) return undefined
    if (existing.revokedAt !== null) return existing
    const revoked = await this.deps.overrides.revoke(overrideId, actor, reason)
    await this.deps.risk.recomputeServices([serviceId], `override revoked by ${actor}`)
    return revoked
  }

  /**
   * The action plan the service owes (SPEC §7, §8): its latest counted assessment is Requires Improvement or Poor and
   * no action plan has been opened since; due 14 days after the assessment. Null when none is owed.
   */
  async actionPlanDueFor(serviceId: number): Promise<ActionPlanDue | null> {
    const [assessments, actions] = await Promise.all([
      this.deps.facts.assessmentsOf(serviceId),
      this.deps.actions.listForService(serviceId),
    ])
    const plans = actions.filter((action) => action.kind === 'action_plan').map((action) => action.openedOn)
    return actionPlansDue(assessments, new Map([[serviceId, plans]]))[0] ?? null
  }

  /**
   * Opens an action. An action plan left without a due date, for a service that owes one after a Requires Improvement
   * or Poor assessment, is due 14 days after that assessment.
   */
  async openAction(serviceId: number, raw: unknown, actor: string): Promise<Validated<ComplianceAction>> {
    const input = validate(newActionSchema(this.deps.today()), raw)
    if (!input.ok) return input
    let dueOn = input.value.dueOn
    if (input.value.kind === 'action_plan' && dueOn === null)
      dueOn = (await this.actionPlanDueFor(serviceId))?.dueOn ?? null
    const action = await this.deps.actions.open({ serviceId, ...input.value, dueOn }, actor)
    // A default notice or a suspension is an indicator's fact: the RAG moves before the answer.
    if (action.observationId !== null) {
      await this.deps.risk.recomputeServices([serviceId], `action opened: ${action.kind} by ${actor}`)
    }
    return { ok: true, value: action }
  }

  /** Closes an open action; an action already closed gives a form error rather than a second closure. */
  async closeAction(action: ComplianceAction, raw: unknown, actor: string): Promise<Validated<ComplianceAction>> {
    const input = validate(closureSchema(this.deps.today(), action.openedOn), raw)
    if (!input.ok) return input
    const closed = await this.deps.actions.close(action.id, input.value, actor)
    if (closed.ok && closed.action.observationId !== null) {
      await this.deps.risk.recomputeServices([action.serviceId], `action closed: ${action.kind} by ${actor}`)
    }
    if (closed.ok) return { ok: true, value: closed.action }
    return { ok: false, errors: [{ field: '(form)', message: 'This action has already been closed' }] }
  }
}
