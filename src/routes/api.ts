import { Router } from 'express'
import { z } from 'zod'
import { RUN_CAUSES } from '../data/runs.js'
import type { Services } from '../services/container.js'
import { apiServiceSchema, detailToApi, historyToApi, listedToApi } from '../services/presenters.js'
import { sendApiError } from './apiErrors.js'
import { actionToApi, apiActionSchema } from './apiActions.js'
import { canSeeIntelligence } from './servicePage.js'
import { fieldErrors, serviceFilterSchema, toListingFilter } from './queryParams.js'

/** A service as `/api/v1` gives it; `GET /services/{ref}` adds its open compliance actions. */
export const serviceAnswerSchema = apiServiceSchema.extend({
  actions: z.array(apiActionSchema).optional().describe('Open compliance actions (GET /services/{ref} only)'),
})

export const serviceListSchema = z.object({
  total: z.number().int(),
  page: z.number().int(),
  pageSize: z.number().int(),
  services: z.array(serviceAnswerSchema),
})

export const sourceRunSchema = z.object({
  runId: z.number().int(),
  source: z.string(),
  status: z.enum(['running', 'succeeded', 'failed', 'not_configured', 'skipped']),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  read: z.number().int(),
  matched: z.number().int(),
  changed: z.number().int(),
  unchanged: z.number().int(),
  rejected: z.number().int(),
  error: z.string().nullable(),
  rejects: z.array(z.object({ record: z.string(), field: z.string().optional(), reason: z.string() })),
})

export const refreshRunSchema = z.object({
  id: z.number().int(),
  kind: z.enum(['full', 'entry', 'seed']),
  cause: z.enum(RUN_CAUSES).describe('What started the run'),
  trigger: z.string().nullable(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  publishedAt: z.string().nullable(),
  status: z.enum(['running', 'completed', 'failed', 'abandoned']),
  ruleSetVersion: z.number().int().nullable(),
  servicesComputed: z.number().int(),
  servicesTotal: z
    .number()
    .int()
    .nullable()
    .describe('Services registered when a full run judged the due ones (servicesComputed); null for entry runs'),
  servicesChanged: z.number().int(),
  error: z.string().nullable(),
  sources: z.array(sourceRunSchema),
})

export const refreshRunListSchema = z.object({ runs: z.array(refreshRunSchema) })

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
    } satisfies z.infer<typeof serviceListSchema>)
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
    } satisfies z.infer<typeof serviceAnswerSchema>)
  })

  router.get('/refresh-runs', async (req, res) => {
    const runs = await services.runs.listRuns({ limit: 100 })
    const answer: z.infer<typeof refreshRunListSchema> = {
      runs: await Promise.all(
        runs.map(async (run) => ({ ...run, sources: await services.runs.listSourceRuns(run.id) })),
      ),
    }
    res.json(answer)
  })

  return router
}
