import { Router } from 'express'
import { z } from 'zod'
import type { ListedService } from '../data/serviceListing.js'
import { actionKindLabel } from '../services/complianceService.js'
import type { Services } from '../services/container.js'
import { csvFileName, csvStream, type CsvColumn } from '../services/csvExport.js'
import { formatDate, formatDateTime, indicatorLabel, ragTag, serviceTypeLabel } from './display.js'
import { fieldErrors, serviceFilterSchema, toListingFilter } from './queryParams.js'
import { canSeeIntelligence, servicePageViewModel } from './servicePage.js'

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
      services.logger.error({ err: error }, 'CSV export failed part way')
      res.destroy(error as Error)
    }
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
      memberships: memberships.map((m) => ({
        dps: m.dpsName,
        lot: m.lotName,
        status: m.status,
        eligible: m.eligibility ? (m.eligibility.eligible ? 'Eligible' : 'Not eligible') : 'Not evaluated yet',
        why: m.eligibility?.failingGates.map((gate) => gate.reason).join('; ') ?? '',
      })),
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
