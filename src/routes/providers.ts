import { Router } from 'express'
import { z } from 'zod'
import type { ProviderRollup } from '../domain/market.js'
import type { Services } from '../services/container.js'
import type { ProviderView } from '../services/marketService.js'
import { ageText, ragTag, serviceTypeLabel } from './display.js'

const providerIdSchema = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER)

/** Providers with any concern, at most this many rows (market risks always first). */
const LIST_LIMIT = 500

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

export function providerViewModel(view: ProviderView, today: string) {
  const { provider, rollup } = view
  return {
    pageTitle: provider.name,
    provider,
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

/** The provider view (SPEC §3 early warning): a provider's services rolled up, and the list of providers by concern. */
export function providerRoutes(services: Services): Router {
  const router = Router()

  router.get('/providers', async (_req, res) => {
    const all = await services.market.providers()
    const concerning = all.filter((p) => p.marketRisk || p.flags.length > 0 || p.counts.amber > 0)
    res.render('pages/providers', {
      pageTitle: 'Providers',
      total: all.length,
      concerning: concerning.length,
      marketRisks: all.filter((p) => p.marketRisk).length,
      rows: concerning.slice(0, LIST_LIMIT).map(rollupRow),
      truncated: concerning.length > LIST_LIMIT,
      limit: LIST_LIMIT,
    })
  })

  router.get('/providers/:id', async (req, res, next) => {
    const id = providerIdSchema.safeParse(req.params.id)
    if (!id.success) return next()
    const view = await services.market.provider(id.data)
    if (!view) return next()
    res.render('pages/provider', providerViewModel(view, services.clock.today()))
  })

  return router
}
