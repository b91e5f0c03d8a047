import { Router } from 'express'
import { z } from 'zod'
import { requireApiRole } from '../auth/authentication.js'
import { actorOf } from '../auth/requestUser.js'
import { INDICATOR_KEYS, INTELLIGENCE_KINDS, SOURCES, ragSchema } from '../domain/vocabulary.js'
import { intelligenceRowSchema } from '../ingest/council/schemas.js'
import type { Services } from '../services/container.js'
import type { IntelligenceEntry } from '../services/intelligenceService.js'
import { detailToApi } from '../services/presenters.js'
import { serviceAnswerSchema } from './api.js'
import { sendApiError } from './apiErrors.js'
import { ENTRY_ROLES } from './intelligence.js'

/**
 * The body of `POST /services/{ref}/intelligence`: one intelligence row with the CSV's field names (SPEC §9), checked
 * by the import's row schema; service_ref is allowed but the path decides. `today` bounds the dates, not the fields.
 */
export function intelligenceBodySchema(today: string) {
  return z
    .strictObject(intelligenceRowSchema(today).in.shape)
    .omit({ cqc_location_id: true })
    .describe('One intelligence row with the CSV field names (SPEC §9); service_ref is optional, the path decides.')
}

const ALLOWED_FIELDS = new Set(Object.keys(intelligenceBodySchema('2000-01-01').shape))

export const observationSchema = z.object({
  id: z.number().int(),
  kind: z.enum(INTELLIGENCE_KINDS),
  indicator: z.enum(INDICATOR_KEYS),
  date: z.string(),
  endDate: z.string().nullable(),
  outcome: z.string().nullable(),
  reference: z.string().nullable(),
  notes: z.string().nullable(),
  source: z.enum(SOURCES),
  enteredBy: z.string().nullable(),
  recordedAt: z.string(),
  supersedes: z.number().int().nullable(),
})

export const intelligenceCreatedSchema = z.object({
  observation: observationSchema,
  rag: ragSchema.nullable(),
  service: serviceAnswerSchema.nullable(),
})

export function entryToApi(entry: IntelligenceEntry): z.infer<typeof observationSchema> {
  return {
    id: entry.id,
    kind: entry.kind,
    indicator: entry.indicator,
    date: entry.date,
    endDate: entry.endDate,
    outcome: entry.outcome,
    reference: entry.reference,
    notes: entry.notes,
    source: entry.source,
    enteredBy: entry.enteredBy,
    recordedAt: entry.recordedAt,
    supersedes: entry.supersedesId,
  }
}

/** `POST /api/v1/services/{ref}/intelligence` (SPEC §9): one intelligence row as JSON, for compliance and admin. */
export function apiIntelligenceRoutes(services: Services): Router {
  const router = Router()

  router.post('/services/:ref/intelligence', requireApiRole(...ENTRY_ROLES), async (req, res) => {
    const body: unknown = req.body
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return sendApiError(res, 400, 'Invalid intelligence entry', [
        { field: '(body)', message: 'must be a JSON object with the fields of an intelligence row' },
      ])
    }
    const unknown = Object.keys(body).filter((name) => !ALLOWED_FIELDS.has(name))
    if (unknown.length > 0) {
      return sendApiError(
        res,
        400,
        'Invalid intelligence entry',
        unknown.slice(0, 20).map((name) => ({
          field: name.slice(0, 100),
          message: `is not a field of an intelligence row: use ${[...ALLOWED_FIELDS].join(', ')}`,
        })),
      )
    }
    const outcome = await services.intelligence.record(String(req.params.ref), body as Record<string, unknown>, {
      actor: actorOf(req.user!),
      source: 'council_api',
    })
    if (!outcome.ok) return sendApiError(res, outcome.status, outcome.error, outcome.problems)
    const detail = await services.dashboard.serviceDetail(outcome.service.ref)
    const service = detail ? detailToApi(detail) : null
    if (service) delete service.history
    res.status(201).json({
      observation: entryToApi(outcome.entry),
      rag: outcome.risk?.rag ?? null,
      service,
    } satisfies z.infer<typeof intelligenceCreatedSchema>)
  })

  return router
}
