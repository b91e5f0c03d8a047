import { Router, type Request, type Response } from 'express'
import { z } from 'zod'
import { requireRole } from '../auth/authentication.js'
import { actorOf } from '../auth/requestUser.js'
import { ACTION_KINDS, ACTION_KIND_LABELS, type ComplianceAction } from '../data/complianceActions.js'
import type { Service } from '../data/services.js'
import { addDays, isIsoDate } from '../domain/dates.js'
import { RAGS } from '../domain/vocabulary.js'
import {
  actionKindLabel,
  isOverdue,
  MAX_OVERRIDE_DAYS,
  type ActionPlanDue,
  type FieldError,
  type ServiceCompliance,
} from '../services/complianceService.js'
import type { Services } from '../services/container.js'
import { auditActionLabel, describeAuditEntry } from './auditText.js'
import { formatDate, formatDateTime, ragTag, type Tag } from './display.js'
import { positiveId } from '../domain/strictInput.js'

export { auditActionLabel, describeAuditEntry }

export const COMPLIANCE_ROLES = ['compliance', 'admin'] as const
/** How many audit entries the service page shows; admins can page through the rest in /admin/audit. */
export const SERVICE_AUDIT_ENTRIES = 25

const refSchema = z.string().trim().min(1).max(100)
const idSchema = positiveId

type Body = Record<string, unknown>

function bodyOf(req: Request): Body {
  return typeof req.body === 'object' && req.body !== null ? (req.body as Body) : {}
}

/** A single form value: a repeated field or a missing one counts as not given. */
export function formValue(body: Body, name: string): string | undefined {
  const value = body[name]
  return typeof value === 'string' ? value : undefined
}

export interface DateParts {
  day: string
  month: string
  year: string
}

export function datePartsOf(body: Body, prefix: string): DateParts {
  const part = (name: string) => (formValue(body, `${prefix}-${name}`) ?? '').trim()
  return { day: part('day'), month: part('month'), year: part('year') }
}

export function datePartsOfIso(iso: string | null | undefined): DateParts {
  if (!iso || !isIsoDate(iso)) return { day: '', month: '', year: '' }
  const [year, month, day] = iso.split('-') as [string, string, string]
  return { day: String(Number(day)), month: String(Number(month)), year }
}

/**
 * The GOV.UK date input's three boxes as one value for validation: '' when all are blank, `YYYY-MM-DD` when they
 * look like numbers (validation then checks it is a real date), else 'invalid'.
 */
export function dateFromParts(parts: DateParts): string {
  if (parts.day === '' && parts.month === '' && parts.year === '') return ''
  if (!/^\d{1,2}$/.test(parts.day) || !/^\d{1,2}$/.test(parts.month) || !/^\d{4}$/.test(parts.year)) return 'invalid'
  return `${parts.year}-${parts.month.padStart(2, '0')}-${parts.day.padStart(2, '0')}`
}

/** Field errors as the error summary (`errorList`, linking to each field) and per-field messages (`fieldErrors`). */
export function errorView(errors: FieldError[], hrefs: Record<string, string> = {}) {
  const fieldErrors: Record<string, string> = {}
  for (const error of errors) fieldErrors[error.field] ??= error.message
  return {
    errorList: errors.map((error) => ({
      text: error.message,
      href: hrefs[error.field] ?? (error.field === '(form)' ? undefined : `#${error.field}`),
    })),
    fieldErrors,
  }
}

async function findService(services: Services, rawRef: unknown): Promise<Service | null> {
  const ref = refSchema.safeParse(rawRef)
  return ref.success ? services.serviceRepository.findByRef(ref.data) : null
}

function servicePath(service: Service): string {
  return `/services/${encodeURIComponent(service.ref)}`
}

function serviceHeading(service: Service) {
  return { ref: service.ref, name: service.name, providerName: service.providerName, href: servicePath(service) }
}

// ---------------------------------------------------------------------------------------------------------------------
// The service page's compliance section (compliance and admin only)

interface ActionState {
  text: string
  tag: Tag
}

function actionState(action: ComplianceAction, today: string): ActionState {
  if (action.closedOn !== null) return { text: 'Closed', tag: { text: 'Closed', classes: 'govuk-tag--grey' } }
  if (isOverdue(action, today)) return { text: 'Overdue', tag: { text: 'Overdue', classes: 'govuk-tag--red' } }
  return { text: 'Open', tag: { text: 'Open', classes: 'govuk-tag--blue' } }
}

export function actionRow(service: Service, action: ComplianceAction, today: string) {
  return {
    id: action.id,
    kind: actionKindLabel(action.kind),
    owner: action.owner,
    openedOn: formatDate(action.openedOn),
    dueOn: action.dueOn ? formatDate(action.dueOn) : '',
    closedOn: action.closedOn ? formatDate(action.closedOn) : '',
    outcome: action.outcome ?? '',
    notes: action.notes ?? '',
    state: actionState(action, today),
    open: action.closedOn === null,
    href: `${servicePath(service)}/actions/${action.id}`,
  }
}

/**
 * The service's audit entries, newest first. Entries about a service are written with its id (overrides, actions)
 * or its reference (intelligence and assessment entries), so both are read and merged.
 */
async function serviceAudit(services: Services, service: Service, limit: number) {
  const filter = { entityType: 'service', entityIds: [...new Set([String(service.id), service.ref])] }
  const [entries, total] = await Promise.all([services.audit.list({ ...filter, limit }), services.audit.count(filter)])
  return { entries, total }
}

/**
 * The view model of the compliance section of the service page: overrides, actions and the audit trail. Null for
 * roles that may not see it (assessors).
 */
export async function complianceSection(services: Services, service: Service, role: string | undefined) {
  if (role !== 'compliance' && role !== 'admin') return null
  const today = services.clock.today()
  const tz = services.config.TZ
  const [state, audit]: [ServiceCompliance, Awaited<ReturnType<typeof serviceAudit>>] = await Promise.all([
    services.compliance.serviceCompliance(service.id),
    serviceAudit(services, service, SERVICE_AUDIT_ENTRIES),
  ])
  const active = state.activeOverride
  return {
    overrideHref: `${servicePath(service)}/override`,
    newActionHref: `${servicePath(service)}/actions/new`,
    activeOverride: active
      ? {
          id: active.id,
          tag: ragTag(active.rag),
          reason: active.reason,
          expiresOn: formatDate(active.expiresOn),
          setBy: active.setBy,
          setAt: formatDateTime(active.setAt, tz),
          revokeHref: `${servicePath(service)}/override/${active.id}/revoke`,
        }
      : null,
    actions: state.actions.map((action) => actionRow(service, action, today)),
    openActions: state.actions.filter((action) => action.closedOn === null).length,
    audit: audit.entries.map((entry) => ({
      at: formatDateTime(entry.at, tz),
      actor: entry.actor,
      action: auditActionLabel(entry.action),
      summary: describeAuditEntry(entry),
    })),
    auditTotal: audit.total,
    auditMore: audit.total > audit.entries.length,
    auditHref: role === 'admin' ? `/admin/audit?entityType=service&entityId=${encodeURIComponent(service.ref)}` : null,
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Override form

const OVERRIDE_HREFS = { expiresOn: '#expiresOn-day' }

interface OverrideFormValues {
  level: string
  reason: string
  expiresOn: DateParts
}

async function renderOverrideForm(
  res: Response,
  services: Services,
  service: Service,
  values: OverrideFormValues,
  errors: FieldError[] = [],
) {
  const today = services.clock.today()
  const [current, compliance] = await Promise.all([
    services.runs.current(service.id),
    services.compliance.serviceCompliance(service.id),
  ])
  const active = compliance.activeOverride
  res.status(errors.length > 0 ? 400 : 200).render('pages/override', {
    pageTitle: `Override the RAG of ${service.name}`,
    backLink: { href: servicePath(service), text: 'Back to the service' },
    service: serviceHeading(service),
    computedTag: current ? ragTag(current.result.computedRag) : null,
    activeOverride: active
      ? {
          tag: ragTag(active.rag),
          reason: active.reason,
          expiresOn: formatDate(active.expiresOn),
          setBy: active.setBy,
          revokeHref: `${servicePath(service)}/override/${active.id}/revoke`,
        }
      : null,
    action: `${servicePath(service)}/override`,
    levelItems: RAGS.map((rag) => ({ value: rag, text: ragTag(rag).text }))
      .reverse()
      .map((item) => ({ ...item, checked: values.level === item.value })),
    values,
    expiryHint: `The override applies up to and including this day: at most ${MAX_OVERRIDE_DAYS} days ahead, on or before ${formatDate(addDays(today, MAX_OVERRIDE_DAYS))}.`,
    ...errorView(errors, OVERRIDE_HREFS),
  })
}

// ---------------------------------------------------------------------------------------------------------------------
// Action forms

const ACTION_HREFS = { openedOn: '#openedOn-day', dueOn: '#dueOn-day', closedOn: '#closedOn-day' }

interface ActionFormValues {
  kind: string
  owner: string
  openedOn: DateParts
  dueOn: DateParts
  notes: string
}

const newActionQuerySchema = z.object({
  kind: z.enum(ACTION_KINDS).optional().catch(undefined),
  due: z.string().refine(isIsoDate).optional().catch(undefined),
})

/** The sentence the form shows when the service owes an action plan after its latest assessment. */
function actionPlanOwed(due: ActionPlanDue | null): string | null {
  if (!due) return null
  const outcome = due.outcome === 'poor' ? 'Poor' : 'Requires Improvement'
  return `The ${outcome} assessment of ${formatDate(due.assessedOn)} needs an action plan by ${formatDate(due.dueOn)}. An action plan opened without a due date is due then.`
}

function renderNewActionForm(
  res: Response,
  service: Service,
  values: ActionFormValues,
  owed: ActionPlanDue | null,
  errors: FieldError[] = [],
) {
  res.status(errors.length > 0 ? 400 : 200).render('pages/action-new', {
    actionPlanOwed: actionPlanOwed(owed),
    pageTitle: `Open a compliance action for ${service.name}`,
    backLink: { href: servicePath(service), text: 'Back to the service' },
    service: serviceHeading(service),
    action: `${servicePath(service)}/actions`,
    kindItems: [
      { value: '', text: 'Choose the type of action' },
      ...ACTION_KINDS.map((kind) => ({ value: kind, text: ACTION_KIND_LABELS[kind] })),
    ],
    values,
    ...errorView(errors, ACTION_HREFS),
  })
}

interface ClosureFormValues {
  closedOn: DateParts
  outcome: string
}

function renderActionPage(
  res: Response,
  services: Services,
  service: Service,
  action: ComplianceAction,
  values: ClosureFormValues,
  errors: FieldError[] = [],
) {
  const tz = services.config.TZ
  res.status(errors.length > 0 ? 400 : 200).render('pages/action', {
    pageTitle: `${actionKindLabel(action.kind)} for ${service.name}`,
    backLink: { href: servicePath(service), text: 'Back to the service' },
    service: serviceHeading(service),
    item: {
      ...actionRow(service, action, services.clock.today()),
      createdBy: action.createdBy,
      createdAt: formatDateTime(action.createdAt, tz),
      closedBy: action.closedBy ?? '',
    },
    closeAction: `${servicePath(service)}/actions/${action.id}/close`,
    values,
    ...errorView(errors, ACTION_HREFS),
  })
}

// ---------------------------------------------------------------------------------------------------------------------

/** Overrides and compliance actions on a service (SPEC §3, §7): compliance officers and admins only. */
export function complianceRoutes(services: Services): Router {
  const router = Router()
  const officers = requireRole(...COMPLIANCE_ROLES)

  router.get('/services/:ref/override', officers, async (req, res, next) => {
    const service = await findService(services, req.params.ref)
    if (!service) return next()
    await renderOverrideForm(res, services, service, {
      level: '',
      reason: '',
      expiresOn: { day: '', month: '', year: '' },
    })
  })

  router.post('/services/:ref/override', officers, async (req, res, next) => {
    const service = await findService(services, req.params.ref)
    if (!service) return next()
    const body = bodyOf(req)
    const values: OverrideFormValues = {
      level: formValue(body, 'level') ?? '',
      reason: formValue(body, 'reason') ?? '',
      expiresOn: datePartsOf(body, 'expiresOn'),
    }
    const outcome = await services.compliance.setOverride(
      service.id,
      {
        level: formValue(body, 'level'),
        reason: formValue(body, 'reason'),
        expiresOn: dateFromParts(values.expiresOn),
      },
      actorOf(req.user!),
    )
    if (!outcome.ok) return renderOverrideForm(res, services, service, values, outcome.errors)
    res.redirect(303, `${servicePath(service)}#compliance`)
  })

  router.get('/services/:ref/actions/new', officers, async (req, res, next) => {
    const service = await findService(services, req.params.ref)
    if (!service) return next()
    const query = newActionQuerySchema.parse(req.query)
    const owed = await services.compliance.actionPlanDueFor(service.id)
    const due = query.due ?? (query.kind === 'action_plan' ? owed?.dueOn : undefined)
    renderNewActionForm(
      res,
      service,
      {
        kind: query.kind ?? '',
        owner: req.user!.email,
        openedOn: datePartsOfIso(services.clock.today()),
        dueOn: datePartsOfIso(due),
        notes: '',
      },
      owed,
    )
  })

  router.post('/services/:ref/actions', officers, async (req, res, next) => {
    const service = await findService(services, req.params.ref)
    if (!service) return next()
    const body = bodyOf(req)
    const values: ActionFormValues = {
      kind: formValue(body, 'kind') ?? '',
      owner: formValue(body, 'owner') ?? '',
      openedOn: datePartsOf(body, 'openedOn'),
      dueOn: datePartsOf(body, 'dueOn'),
      notes: formValue(body, 'notes') ?? '',
    }
    const outcome = await services.compliance.openAction(
      service.id,
      {
        kind: formValue(body, 'kind') || undefined,
        owner: formValue(body, 'owner'),
        openedOn: dateFromParts(values.openedOn),
        dueOn: dateFromParts(values.dueOn),
        notes: formValue(body, 'notes'),
      },
      actorOf(req.user!),
    )
    if (!outcome.ok) {
      return renderNewActionForm(
        res,
        service,
        values,
        await services.compliance.actionPlanDueFor(service.id),
        outcome.errors,
      )
    }
    res.redirect(303, `${servicePath(service)}#compliance`)
  })

  async function findAction(req: Request) {
    const service = await findService(services, req.params.ref)
    const id = idSchema.safeParse(req.params.id)
    if (!service || !id.success) return null
    const action = await services.compliance.actions.findById(id.data)
    return action && action.serviceId === service.id ? { service, action } : null
  }

  router.get('/services/:ref/actions/:id', officers, async (req, res, next) => {
    const found = await findAction(req)
    if (!found) return next()
    renderActionPage(res, services, found.service, found.action, {
      closedOn: datePartsOfIso(services.clock.today()),
      outcome: '',
    })
  })

  router.post('/services/:ref/actions/:id/close', officers, async (req, res, next) => {
    const found = await findAction(req)
    if (!found) return next()
    const body = bodyOf(req)
    const values: ClosureFormValues = {
      closedOn: datePartsOf(body, 'closedOn'),
      outcome: formValue(body, 'outcome') ?? '',
    }
    const outcome = await services.compliance.closeAction(
      found.action,
      { closedOn: dateFromParts(values.closedOn), outcome: formValue(body, 'outcome') },
      actorOf(req.user!),
    )
    if (!outcome.ok) return renderActionPage(res, services, found.service, found.action, values, outcome.errors)
    res.redirect(303, `${servicePath(found.service)}#compliance`)
  })

  return router
}
