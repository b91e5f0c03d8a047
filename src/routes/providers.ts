import { Router, type Response } from 'express'
import { z } from 'zod'
import type { ProviderRollup } from '../domain/market.js'
import type { Services } from '../services/container.js'
import { csvFileName, toCsv, type CsvColumn } from '../services/csvExport.js'
import type { ProviderView } from '../services/marketService.js'
import type { ProviderServiceRow } from '../data/market.js'
import { ageText, ragTag, serviceTypeLabel, withQuery } from './display.js'
import { fieldErrors } from './queryParams.js'
import { positiveId } from '../domain/strictInput.js'

const providerIdSchema = positiveId

/** Rows on the page at most (market risks always first); the CSV has every row of the filtered list. */
const LIST_LIMIT = 500

export const PROVIDER_SHOWS = ['concerning', 'market_risk', 'deteriorating', 'all'] as const
export type ProviderShow = (typeof PROVIDER_SHOWS)[number]
const SHOW_LABELS: Record<ProviderShow, string> = {
  concerning: 'Any service Amber or worse, or deteriorating',
  market_risk: 'Market risks only',
  deteriorating: 'With a deteriorating service',
  all: 'All providers',
}

/** The providers list's filters, shared by the page and its CSV. */
export const providerFilterSchema = z.object({
  show: z
    .enum([...PROVIDER_SHOWS, ''], { error: `must be one of ${PROVIDER_SHOWS.join(', ')}` })
    .optional()
    .transform((value): ProviderShow => (value ? value : 'concerning')),
  area: z.string().trim().max(100, 'must be 100 characters or fewer').optional(),
})
export type ProviderFilter = z.output<typeof providerFilterSchema>

/** Whether a provider is in the filtered list. */
export function matchesProviderFilter(p: ProviderRollup, filter: ProviderFilter): boolean {
  if (filter.area && !p.byArea.some((a) => a.area === filter.area)) return false
  switch (filter.show) {
    case 'all':
      return true
    case 'market_risk':
      return p.marketRisk
    case 'deteriorating':
      return p.counts.deteriorating > 0
    case 'concerning':
      return p.marketRisk || p.flags.length > 0 || p.counts.amber > 0 || p.counts.red > 0
  }
}

function rollupRow(p: ProviderRollup) {
  return {
    href: `/providers/${p.providerId}`,
    name: p.providerName,
    services: p.services,
    red: p.counts.red,
    amber: p.counts.amber,
    green: p.counts.green,
    marketRisk: p.marketRisk,
    flags: p.flags.map((flag) => flag.text),
  }
}

const PROVIDER_COLUMNS: Array<CsvColumn<ProviderRollup>> = [
  { header: 'Provider', value: (p) => p.providerName },
  { header: 'Provider id', value: (p) => p.providerId },
  { header: 'Market risk', value: (p) => p.marketRisk },
  { header: 'Services', value: (p) => p.services },
  { header: 'Red', value: (p) => p.counts.red },
  { header: 'Amber', value: (p) => p.counts.amber },
  { header: 'Green', value: (p) => p.counts.green },
  { header: 'Not computed', value: (p) => p.counts.notComputed },
  { header: 'Deteriorating', value: (p) => p.counts.deteriorating },
  { header: 'Areas', value: (p) => p.byArea.map((a) => a.area).join('; ') },
  { header: 'Flags', value: (p) => p.flags.map((flag) => flag.text).join('; ') },
]

const PROVIDER_SERVICE_COLUMNS: Array<CsvColumn<ProviderServiceRow>> = [
  { header: 'RAG', value: (s) => (s.rag ? ragTag(s.rag).text : 'Not computed') },
  { header: 'Reference', value: (s) => s.ref },
  { header: 'Service', value: (s) => s.name },
  { header: 'Service type', value: (s) => serviceTypeLabel(s.serviceType) },
  { header: 'Area', value: (s) => s.area },
  { header: 'Last change', value: (s) => s.changedAt },
  { header: 'Reason', value: (s) => s.reason },
  { header: 'Deteriorating', value: (s) => s.deteriorating },
  { header: 'Capacity', value: (s) => s.capacity },
  { header: 'Contract status', value: (s) => s.contractStatus },
]

export function providerViewModel(view: ProviderView, today: string) {
  const { provider, rollup } = view
  return {
    pageTitle: provider.name,
    provider,
    csvHref: `/providers/${provider.id}/services.csv`,
    rollup: {
      marketRisk: rollup.marketRisk,
      flags: rollup.flags,
      counts: (['red', 'amber', 'green'] as const).map((rag) => ({ tag: ragTag(rag), count: rollup.counts[rag] })),
      notComputed: rollup.counts.notComputed,
      byArea: rollup.byArea,
    },
    services: view.services.map((s) => ({
      ref: s.ref,
      name: s.name,
      type: serviceTypeLabel(s.serviceType),
      area: s.area,
      tag: ragTag(s.rag),
      deteriorating: s.deteriorating,
      reason: s.reason ?? '',
      changed: s.changedAt ? ageText(s.changedAt, today) : '',
    })),
  }
}

function badFilters(res: Response, error: z.ZodError) {
  return res.status(400).render('pages/bad-request', {
    pageTitle: 'There is a problem with the filters',
    errors: fieldErrors(error),
    backHref: '/providers',
  })
}

/** The provider view (SPEC §3 early warning): a provider's services rolled up, and the list of providers by concern. */
export function providerRoutes(services: Services): Router {
  const router = Router()

  router.get('/providers', async (req, res) => {
    const parsed = providerFilterSchema.safeParse(req.query)
    if (!parsed.success) return badFilters(res, parsed.error)
    const filter = parsed.data
    const all = await services.market.providers()
    const shown = all.filter((p) => matchesProviderFilter(p, filter))
    const areas = [...new Set(all.flatMap((p) => p.byArea.map((a) => a.area)))].sort((a, b) => a.localeCompare(b))
    const query = { show: filter.show === 'concerning' ? undefined : filter.show, area: filter.area || undefined }
    res.render('pages/providers', {
      pageTitle: 'Providers',
      total: all.length,
      shown: shown.length,
      marketRisks: all.filter((p) => p.marketRisk).length,
      showLabel: SHOW_LABELS[filter.show],
      filters: {
        show: PROVIDER_SHOWS.map((value) => ({ value, text: SHOW_LABELS[value], selected: value === filter.show })),
        area: [
          { value: '', text: 'Any area', selected: !filter.area },
          ...areas.map((area) => ({ value: area, text: area, selected: area === filter.area })),
        ],
      },
      rows: shown.slice(0, LIST_LIMIT).map(rollupRow),
      truncated: shown.length > LIST_LIMIT,
      limit: LIST_LIMIT,
      csvHref: withQuery('/providers.csv', query, {}),
    })
  })

  router.get('/providers.csv', async (req, res) => {
    const parsed = providerFilterSchema.safeParse(req.query)
    if (!parsed.success) return badFilters(res, parsed.error)
    const shown = (await services.market.providers()).filter((p) => matchesProviderFilter(p, parsed.data))
    res
      .type('text/csv; charset=utf-8')
      .attachment(csvFileName(`providers-${services.clock.today()}`))
      .send(toCsv(PROVIDER_COLUMNS, shown))
  })

  router.get('/providers/:id', async (req, res, next) => {
    const id = providerIdSchema.safeParse(req.params.id)
    if (!id.success) return next()
    const view = await services.market.provider(id.data)
    if (!view) return next()
    res.render('pages/provider', providerViewModel(view, services.clock.today()))
  })

  router.get('/providers/:id/services.csv', async (req, res, next) => {
    const id = providerIdSchema.safeParse(req.params.id)
    if (!id.success) return next()
    const view = await services.market.provider(id.data)
    if (!view) return next()
    res
      .type('text/csv; charset=utf-8')
      .attachment(csvFileName(`provider-${view.provider.id}-services-${services.clock.today()}`))
      .send(toCsv(PROVIDER_SERVICE_COLUMNS, view.services))
  })

  return router
}
