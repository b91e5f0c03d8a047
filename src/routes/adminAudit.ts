import { Router } from 'express'
import { z } from 'zod'
import { requireRole } from '../auth/authentication.js'
import type { AuditEntry, AuditFilter } from '../data/audit.js'
import { isIsoDate } from '../domain/dates.js'
import type { FieldError } from '../services/complianceService.js'
import type { Services } from '../services/container.js'
import { auditActionLabel, describeAuditEntry } from './auditText.js'
import { errorView } from './compliance.js'
import { formatDateTime, withQuery } from './display.js'
import { decimal } from '../domain/strictInput.js'

export const AUDIT_PAGE_SIZE = 50

function optionalText(max: number, label: string) {
  return z
    .string({ error: `${label} must be a single value` })
    .trim()
    .max(max, `${label} must be ${max} characters or fewer`)
    .optional()
    .transform((value) => (value === '' ? undefined : value))
}

function optionalDate(label: string) {
  return z
    .string({ error: `${label} must be a single value` })
    .trim()
    .optional()
    .transform((value) => (value === '' ? undefined : value))
    .refine((value) => value === undefined || isIsoDate(value), `${label} must be a real date, like 2026-03-14`)
}

const auditQuerySchema = z
  .object({
    actor: optionalText(254, 'Who'),
    action: optionalText(100, 'Action'),
    entityType: optionalText(50, 'Entity type'),
    entityId: optionalText(100, 'Entity id'),
    from: optionalDate('From'),
    to: optionalDate('To'),
    page: decimal(
      z
        .number({ error: 'Page must be a number' })
        .int('Page must be a whole number')
        .min(1, 'Page must be 1 or more')
        .max(1_000_000, 'Page is too large')
        .default(1),
    ),
  })
  .superRefine((query, ctx) => {
    if (query.from && query.to && isIsoDate(query.from) && isIsoDate(query.to) && query.from > query.to) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'To must be the same as or after From' })
    }
  })

type AuditQuery = z.infer<typeof auditQuerySchema>

function stringOf(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

function entryRow(entry: AuditEntry, timeZone: string) {
  return {
    id: entry.id,
    at: formatDateTime(entry.at, timeZone),
    actor: entry.actor,
    action: auditActionLabel(entry.action),
    rawAction: entry.action,
    entity: entry.entityId === null ? entry.entityType : `${entry.entityType} ${entry.entityId}`,
    summary: describeAuditEntry(entry),
    before: entry.before === null ? null : JSON.stringify(entry.before, null, 2),
    after: entry.after === null ? null : JSON.stringify(entry.after, null, 2),
  }
}

/** `/admin/audit` (admin only): the append-only audit log with filters and paging. */
export function adminAuditRoutes(services: Services): Router {
  const router = Router()

  router.get('/admin/audit', requireRole('admin'), async (req, res) => {
    const raw = req.query as Record<string, unknown>
    const filters = {
      actor: stringOf(raw.actor),
      action: stringOf(raw.action),
      entityType: stringOf(raw.entityType),
      entityId: stringOf(raw.entityId),
      from: stringOf(raw.from),
      to: stringOf(raw.to),
    }
    const actions = await services.audit.actions()
    const actionItems = [
      { value: '', text: 'Any action' },
      ...actions.map((action) => ({ value: action, text: action })),
    ]
    const parsed = auditQuerySchema.safeParse(raw)
    if (!parsed.success) {
      const errors: FieldError[] = []
      for (const issue of parsed.error.issues) {
        const field = issue.path.join('.') || '(form)'
        if (!errors.some((e) => e.field === field)) errors.push({ field, message: issue.message })
      }
      return res.status(400).render('pages/admin-audit', {
        pageTitle: 'Audit log',
        backLink: { href: '/admin', text: 'Back to admin' },
        filters,
        actionItems,
        entries: [],
        ...errorView(errors),
      })
    }
    const query: AuditQuery = parsed.data
    const filter: AuditFilter = {
      actor: query.actor,
      action: query.action,
      entityType: query.entityType,
      entityId: query.entityId,
      from: query.from,
      to: query.to,
    }
    const search: AuditFilter = { ...filter, ...(await serviceEntityIds(services, query)) }
    const [total, entries] = await Promise.all([
      services.audit.count(search),
      services.audit.list({ ...search, limit: AUDIT_PAGE_SIZE, offset: (query.page - 1) * AUDIT_PAGE_SIZE }),
    ])
    const pageCount = Math.max(1, Math.ceil(total / AUDIT_PAGE_SIZE))
    const linkQuery = { ...filter }
    const link = (page: number) => withQuery('/admin/audit', linkQuery, { page: page === 1 ? undefined : page })
    res.render('pages/admin-audit', {
      pageTitle: 'Audit log',
      backLink: { href: '/admin', text: 'Back to admin' },
      filters,
      actionItems,
      entries: entries.map((entry) => entryRow(entry, services.config.TZ)),
      total,
      firstRow: total === 0 ? 0 : (query.page - 1) * AUDIT_PAGE_SIZE + 1,
      lastRow: Math.min(total, query.page * AUDIT_PAGE_SIZE),
      filtered: Object.values(filter).some((value) => value !== undefined),
      pagination:
        pageCount > 1
          ? {
              previous: query.page > 1 ? { href: link(query.page - 1) } : undefined,
              next: query.page < pageCount ? { href: link(query.page + 1) } : undefined,
              items: pageItems(query.page, pageCount).map((number) =>
                number === null ? { ellipsis: true } : { number, href: link(number), current: number === query.page },
              ),
            }
          : null,
    })
  })

  return router
}

/**
 * A service is audited under its id (overrides, actions, follows) or its reference (intelligence and assessment
 * entries): filtering on either finds both.
 */
async function serviceEntityIds(
  services: Services,
  query: AuditQuery,
): Promise<Pick<AuditFilter, 'entityId' | 'entityIds'>> {
  if (query.entityType !== 'service' || query.entityId === undefined) return {}
  const byRef = await services.serviceRepository.findByRef(query.entityId)
  const byId = /^\d{1,15}$/.test(query.entityId)
    ? await services.serviceRepository.findById(Number(query.entityId))
    : null
  const service = byRef ?? byId
  return service ? { entityId: undefined, entityIds: [...new Set([String(service.id), service.ref])] } : {}
}

/** Page numbers around the current one, with null for an ellipsis: 1 … 4 5 6 … 20. */
function pageItems(current: number, count: number): Array<number | null> {
  const wanted = new Set([1, count, current - 1, current, current + 1].filter((n) => n >= 1 && n <= count))
  const sorted = [...wanted].sort((a, b) => a - b)
  const items: Array<number | null> = []
  for (const [index, number] of sorted.entries()) {
    const previous = sorted[index - 1]
    if (previous !== undefined && number - previous > 1) items.push(null)
    items.push(number)
  }
  return items
}
