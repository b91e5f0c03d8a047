import { Router } from 'express'
import type { z } from 'zod'
import type { Services } from '../services/container.js'
import { sendApiError } from './apiErrors.js'
import { parseMarketQuery } from './market.js'
import { positiveId } from '../domain/strictInput.js'
import { marketSummarySchema, providerDetailSchema, providerListSchema } from './apiMarketSchemas.js'

const providerIdSchema = positiveId

/** `GET /api/v1/market?from=&to=`, and the provider roll-ups, for the council's BI tools (every role). */
export function apiMarketRoutes(services: Services): Router {
  const router = Router()

  router.get('/market', async (req, res) => {
    const parsed = parseMarketQuery(req.query, services.clock.today())
    if (!parsed.ok) return sendApiError(res, 400, 'Invalid query', parsed.errors)
    const summary: z.infer<typeof marketSummarySchema> = await services.market.summary(
      parsed.query.from,
      parsed.query.to,
    )
    res.json(summary)
  })

  router.get('/providers', async (_req, res) => {
    res.json({ providers: await services.market.providers() } satisfies z.infer<typeof providerListSchema>)
  })

  router.get('/providers/:id', async (req, res) => {
    const id = providerIdSchema.safeParse(req.params.id)
    if (!id.success) {
      return sendApiError(res, 400, 'Invalid provider id', [
        { field: 'id', message: 'must be a positive whole number' },
      ])
    }
    const view = await services.market.provider(id.data)
    if (!view) return sendApiError(res, 404, 'Provider not found', [{ field: 'id', message: `No provider ${id.data}` }])
    res.json({
      provider: view.provider,
      rollup: view.rollup,
      services: view.services.map((s) => ({
        ref: s.ref,
        name: s.name,
        type: s.serviceType,
        area: s.area,
        capacity: s.capacity,
        contractStatus: s.contractStatus,
        rag: s.rag,
        deteriorating: s.deteriorating,
        reason: s.reason,
        lastChange: s.changedAt,
      })),
    } satisfies z.infer<typeof providerDetailSchema>)
  })

  return router
}
