import { Router, type Request, type Response } from 'express'
import { z } from 'zod'
import { requireRole } from '../auth/authentication.js'
import { ACTION_KINDS, ACTION_KIND_LABELS } from '../data/complianceActions.js'
import { daysBetween } from '../domain/dates.js'
import type { Services } from '../services/container.js'
import { csvFileName, toCsv, type CsvColumn } from '../services/csvExport.js'
import { openActions, type OpenActionRow } from '../services/openActions.js'
import { COMPLIANCE_ROLES } from './compliance.js'
import { formatDate, ragTag, withQuery } from './display.js'
import { fieldErrors } from './queryParams.js'

const blankAsUndefined = (value: unknown) => (value === '' ? undefined : value)

const actionsQuerySchema = z.object({
  kind: z.preprocess(
    blankAsUndefined,
    z.enum(ACTION_KINDS, { error: 'Select a type of action from the list' }).optional(),
  ),
  owner: z.preprocess(
    blankAsUndefined,
    z.string({ error: 'Select one owner' }).trim().max(200, 'The owner must be 200 characters or fewer').optional(),
  ),
  due: z.preprocess(blankAsUndefined, z.enum(['overdue'], { error: 'Select any due date or overdue only' }).optional()),
})

type ActionsQuery = z.infer<typeof actionsQuerySchema>

function servicePath(ref: string): string {
  return `/services/${encodeURIComponent(ref)}`
}

const CSV_COLUMNS: ReadonlyArray<CsvColumn<OpenActionRow>> = [
  { header: 'Service reference', value: (r) => r.serviceRef },
  { header: 'Service', value: (r) => r.serviceName },
  { header: 'Provider', value: (r) => r.providerName },
  { header: 'RAG', value: (r) => (r.rag ? ragTag(r.rag).text : '') },
  { header: 'Action', value: (r) => ACTION_KIND_LABELS[r.action.kind] },
  { header: 'Owner', value: (r) => r.action.owner },
  { header: 'Reference', value: (r) => r.action.reference ?? '' },
  { header: 'Opened', value: (r) => r.action.openedOn },
  { header: 'Due', value: (r) => r.action.dueOn ?? '' },
  { header: 'Overdue', value: (r) => (r.overdue ? 'Yes' : 'No') },
]

function filterItems(query: ActionsQuery, owners: string[]) {
  return {
    kind: [
      { value: '', text: 'Any type', selected: !query.kind },
      ...ACTION_KINDS.map((kind) => ({ value: kind, text: ACTION_KIND_LABELS[kind], selected: query.kind === kind })),
    ],
    owner: [
      { value: '', text: 'Anyone', selected: !query.owner },
      ...owners.map((owner) => ({ value: owner, text: owner, selected: query.owner === owner })),
    ],
    due: [
      { value: '', text: 'Any due date', selected: !query.due },
      { value: 'overdue', text: 'Overdue only', selected: query.due === 'overdue' },
    ],
  }
}

/** `/actions`: open compliance actions across every service, with filters and a CSV of exactly what is shown. */
export function actionsRoutes(services: Services): Router {
  const router = Router()
  const handler = (asCsv: boolean) => async (req: Request, res: Response) => {
    const parsed = actionsQuerySchema.safeParse(req.query)
    if (!parsed.success) {
      return res.status(400).render('pages/bad-request', {
        pageTitle: 'There is a problem with the filters',
        errors: fieldErrors(parsed.error),
        backHref: '/actions',
      })
    }
    const query = parsed.data
    const { rows, owners } = await openActions(services, {
      kind: query.kind,
      owner: query.owner,
      overdueOnly: query.due === 'overdue',
    })
    const today = services.clock.today()
    if (asCsv) {
      return res
        .type('text/csv; charset=utf-8')
        .attachment(csvFileName(`open-actions-${today}`))
        .send(toCsv(CSV_COLUMNS, rows))
    }
    const current = { kind: query.kind, owner: query.owner, due: query.due }
    res.render('pages/actions', {
      pageTitle: 'Open compliance actions',
      filters: filterItems(query, owners),
      filtered: Boolean(query.kind || query.owner || query.due),
      csvHref: withQuery('/actions.csv', current, {}),
      count: rows.length,
      overdueCount: rows.filter((row) => row.overdue).length,
      rows: rows.map((row) => ({
        serviceHref: servicePath(row.serviceRef),
        href: `${servicePath(row.serviceRef)}/actions/${row.action.id}`,
        serviceName: row.serviceName,
        providerName: row.providerName,
        tag: row.rag ? ragTag(row.rag) : null,
        kind: ACTION_KIND_LABELS[row.action.kind],
        owner: row.action.owner,
        reference: row.action.reference,
        openedOn: formatDate(row.action.openedOn),
        dueOn: row.action.dueOn ? formatDate(row.action.dueOn) : 'No due date',
        overdueBy: row.overdue && row.action.dueOn ? daysBetween(row.action.dueOn, today) : null,
      })),
    })
  }
  router.get('/actions', requireRole(...COMPLIANCE_ROLES), handler(false))
  router.get('/actions.csv', requireRole(...COMPLIANCE_ROLES), handler(true))
  return router
}
