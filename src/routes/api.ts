import { Router } from 'express'
import type { Services } from '../services/container.js'
import { detailToApi, historyToApi, listedToApi } from '../services/presenters.js'
import { sendApiError } from './apiErrors.js'
import { actionToApi } from './apiActions.js'
import { canSeeIntelligence } from './servicePage.js'
import { fieldErrors, serviceFilterSchema, toListingFilter } from './queryParams.js'

/** The read side of the JSON API (SPEC §9), for the council's BI tools. */
export function apiReadRoutes(services: Services): Router {
  const router = Router()

  router.get('/services', async (req, res) => {
    const parsed = serviceFilterSchema.safeParse(req.query)
    if (!parsed.success) return sendApiError(res, 400, 'Invalid query', fieldErrors(parsed.error))
    const { total, rows } = await services.dashboard.listWithHistory(toListingFilter(parsed.data))
    res.json({
      total,
      page: parsed.data.page,
      pageSize: parsed.data.pageSize,
      // SPEC §9: every service in the API carries its history, in the list as on its own.
      services: rows.map((row) => ({ ...listedToApi(row), history: historyToApi(row.history) })),
    })
  })

  router.get('/services/:ref', async (req, res) => {
    const detail = await services.dashboard.serviceDetail(req.params.ref)
    if (!detail)
      return sendApiError(res, 404, 'Service not found', [{ field: 'ref', message: `No service ${req.params.ref}` }])
    // SPEC §9: the open compliance actions; their notes and references for compliance and admin only.
    const { actions } = await services.compliance.serviceCompliance(detail.service.id)
    const withNotes = canSeeIntelligence(req.user?.role)
    res.json({
      ...detailToApi(detail),
      actions: actions.filter((action) => action.closedOn === null).map((action) => actionToApi(action, withNotes)),
    })
  })

  router.get('/refresh-runs', async (req, res) => {
    const runs = await services.runs.listRuns({ limit: 100 })
    const withSources = await Promise.all(
      runs.map(async (run) => ({ ...run, sources: await services.runs.listSourceRuns(run.id) })),
    )
    res.json({ runs: withSources })
  })

  return router
}
