import { Router, type Request, type Response } from 'express'
import { z } from 'zod'
import type { ListedService } from '../data/serviceListing.js'
import type { TimelineEvent } from '../domain/market.js'
import { actionKindLabel } from '../services/complianceService.js'
import type { Services } from '../services/container.js'
import { csvFileName, csvStream, tablesToCsv, toCsv, type CsvColumn } from '../services/csvExport.js'
import { formatDate, formatDateTime, indicatorLabel, ragTag, serviceTypeLabel } from './display.js'
import { fieldErrors, serviceFilterSchema, toListingFilter } from './queryParams.js'
import { canSeeIntelligence, servicePageViewModel } from './servicePage.js'
import { membershipRows } from './serviceMemberships.js'
import { TABLES_ONLY } from '../views/renderedPages.js'
import { linksItsTables, pageTables } from './pageTables/index.js'

const refSchema = z.string().trim().min(1).max(100)

/** Rows read per query while streaming the CSV: the whole filtered view, never only one page of it. */
const CSV_CHUNK = 2000

const CONTRACT_LABELS: Record<string, string> = {
  contracted: 'Contracted',
  spot: 'Spot purchase',
  off_contract: 'Off contract',
}

/** The dashboard table's columns first (same order as the page), then what a spreadsheet user also wants. */
const SERVICE_COLUMNS: Array<CsvColumn<ListedService>> = [
  { header: 'RAG', value: (s) => (s.rag ? ragTag(s.rag).text : 'Not computed') },
  { header: 'Reference', value: (s) => s.ref },
  { header: 'Service', value: (s) => s.name },
  { header: 'Provider', value: (s) => s.providerName },
  { header: 'Service type', value: (s) => serviceTypeLabel(s.serviceType) },
  { header: 'Area', value: (s) => s.area },
  {
    header: 'DPS eligibility',
    value: (s) => (s.dpsEligible === null ? 'Not on a DPS' : s.dpsEligible ? 'Eligible' : 'Not eligible'),
  },
  { header: 'Last change', value: (s) => s.changedAt },
  { header: 'Reason', value: (s) => s.result?.reasons[0] ?? '' },
  { header: 'All reasons', value: (s) => s.result?.reasons.join('; ') ?? '' },
  { header: 'Score', value: (s) => s.score },
  {
    header: 'Override',
    value: (s) =>
      s.result?.override ? `${ragTag(s.result.override.rag).text} until ${s.result.override.expiresOn}` : '',
  },
  { header: 'Deteriorating', value: (s) => Boolean(s.result?.flags.deteriorating) },
  { header: 'Capacity', value: (s) => s.capacity },
  { header: 'Contract status', value: (s) => CONTRACT_LABELS[s.contractStatus] ?? s.contractStatus },
  { header: 'CQC location ID', value: (s) => s.cqcLocationId },
]

/** The service page's timeline table, newest first. */
const TIMELINE_COLUMNS: Array<CsvColumn<TimelineEvent>> = [
  { header: 'Date', value: (e) => e.date },
  { header: 'Event', value: (e) => (e.kind === 'rag_change' ? 'RAG change' : 'Observation') },
  { header: 'What happened', value: (e) => e.title },
  { header: 'Detail', value: (e) => e.detail },
  { header: 'Adverse', value: (e) => e.adverse },
  { header: 'New RAG', value: (e) => (e.rag ? ragTag(e.rag).text : '') },
]

/** CSV exports of the dashboard's view and the printable service report (evidence packs). Every role. */
export function exportRoutes(services: Services): Router {
  const router = Router()

  router.get('/services.csv', async (req, res) => {
    const parsed = serviceFilterSchema.safeParse(req.query)
    if (!parsed.success) {
      return res.status(400).render('pages/bad-request', {
        pageTitle: 'There is a problem with the filters',
        errors: fieldErrors(parsed.error),
        backHref: '/',
      })
    }
    const filter = toListingFilter(parsed.data)
    const chunk = (offset: number) => services.dashboard.list({ ...filter, limit: CSV_CHUNK, offset })
    // The first read fails before anything is sent, so the error handler can still answer properly.
    let rows = (await chunk(0)).rows
    res.type('text/csv; charset=utf-8').attachment(csvFileName(`services-${services.clock.today()}`))
    const csv = csvStream(SERVICE_COLUMNS)
    csv.stream.pipe(res)
    try {
      for (let offset = 0; ;) {
        for (const row of rows) csv.write(row)
        if (rows.length < CSV_CHUNK) break
        offset += CSV_CHUNK
        rows = (await chunk(offset)).rows
      }
      csv.end()
    } catch (error) {
      req.log.error({ err: error }, 'CSV export failed part way')
      res.destroy(error as Error)
    }
  })

  router.get('/services/:ref/timeline.csv', async (req, res, next) => {
    const ref = refSchema.safeParse(req.params.ref)
    if (!ref.success) return next()
    const detail = await services.dashboard.serviceDetail(ref.data)
    if (!detail) return next()
    const timeline = await services.market.timeline(detail.service.id, detail.history)
    res
      .type('text/csv; charset=utf-8')
      .attachment(csvFileName(`timeline-${detail.service.ref}-${services.clock.today()}`))
      .send(toCsv(TIMELINE_COLUMNS, timeline.events))
  })

  router.get('/services/:ref/report', async (req, res, next) => {
    const ref = refSchema.safeParse(req.params.ref)
    if (!ref.success) return next()
    const detail = await services.dashboard.serviceDetail(ref.data)
    if (!detail) return next()
    const role = res.locals.user?.role
    const seeCompliance = canSeeIntelligence(role)
    const [memberships, compliance] = await Promise.all([
      services.dpsRepository.membershipsForService(detail.service.id),
      seeCompliance ? services.compliance.serviceCompliance(detail.service.id) : null,
    ])
    const page = servicePageViewModel(detail, services, role)
    res.render('pages/service-report', {
      ...page,
      pageTitle: `Report: ${detail.service.name}`,
      mainClasses: 'app-report',
      generatedAt: formatDateTime(services.clock.now().toISOString(), services.config.TZ),
      generatedBy: res.locals.user?.email ?? '',
      servicePath: `/services/${detail.service.ref}`,
      indicators: detail.risk?.indicators.map((indicator) => ({
        label: indicatorLabel(indicator.key),
        tag: ragTag(indicator.level),
        value: indicator.value ?? 'No data',
        reason: indicator.reason,
        date: formatDate(indicator.date),
        stale: indicator.stale,
      })),
      memberships: membershipRows(memberships, services.config.TZ),
      actions: compliance?.actions.map((action) => ({
        kind: actionKindLabel(action.kind),
        owner: action.owner,
        opened: formatDate(action.openedOn),
        due: formatDate(action.dueOn),
        closed: action.closedOn ? formatDate(action.closedOn) : 'Open',
        outcome: action.outcome ?? '',
      })),
      seeCompliance,
    })
  })

  return router
}

/** The page's own address with `format=csv` (and without a `table` choice): its tables as CSV. */
export function tablesCsvHref(originalUrl: string): string {
  const url = new URL(originalUrl, 'http://localhost')
  url.searchParams.delete('table')
  url.searchParams.set('format', 'csv')
  return `${url.pathname}${url.search}`
}

type Render = (view: string, options?: object, callback?: (error: Error | null, html?: string) => void) => void

/**
 * CSV of every table view (issue 6): `?format=csv` on any page answers the tables that page would show, built from the
 * view-model its route renders (pageTables/), so the rows, the filters and what the role may see are the page's own;
 * `&table=<data-testid>` picks one table. Pages with tables and no export of their own get the link in the layout (`tablesCsvHref`). Mounted before the
 * page routers: it only wraps `res.render`, so each page's route still parses its query and checks its role.
 */
export function pageTablesCsvRoutes(services: Services): Router {
  const router = Router()
  router.use((req: Request, res: Response, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next()
    const url = new URL(req.url, 'http://localhost')
    const wantsCsv = url.searchParams.get('format') === 'csv'
    const table = url.searchParams.get('table')
    const render = res.render.bind(res) as Render
    if (!wantsCsv) {
      res.render = ((view: string, ...rest: unknown[]) => {
        if (res.statusCode < 400 && linksItsTables(view)) res.locals.tablesCsvHref = tablesCsvHref(req.originalUrl)
        render(view, ...(rest as []))
      }) as Response['render']
      return next()
    }
    // A page that sends itself without res.render (RenderedPageCache) renders instead, so its view-model comes here.
    res.locals[TABLES_ONLY] = true
    // The page's route sees its own query, without the export's parameters.
    url.searchParams.delete('format')
    url.searchParams.delete('table')
    req.url = `${url.pathname}${url.search}`
    res.render = ((view: string, options?: unknown, callback?: unknown) => {
      // An error page (bad filters, not found) stays a page.
      if (res.statusCode >= 400 || typeof options === 'function' || callback !== undefined) {
        return render(view, options as never, callback as never)
      }
      const tables = pageTables(view, { ...res.locals, ...(options as object) }) ?? []
      const chosen = table === null ? tables : tables.filter((t) => t.id === table)
      if (chosen.length === 0) {
        res
          .status(404)
          .type('text/plain')
          .send(table === null ? 'This page has no table' : `This page has no table "${table}"`)
        return
      }
      const base = url.pathname.replace(/^\/+/, '') || 'dashboard'
      res
        .type('text/csv; charset=utf-8')
        .attachment(csvFileName(`${base}${table ? `-${table}` : ''}-${services.clock.today()}`))
        .send(tablesToCsv(chosen))
    }) as Response['render']
    next()
  })
  return router
}
