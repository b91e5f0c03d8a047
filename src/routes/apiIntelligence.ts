import { Router } from 'express'
import { requireApiRole } from '../auth/authentication.js'
import { actorOf } from '../auth/requestUser.js'
import { KIND_COLUMNS } from '../ingest/council/index.js'
import type { Services } from '../services/container.js'
import type { IntelligenceEntry } from '../services/intelligenceService.js'
import { detailToApi } from '../services/presenters.js'
import { sendApiError } from './apiErrors.js'
import { ENTRY_ROLES } from './intelligence.js'

/** The fields of an intelligence row (SPEC §9: the CSV's names); service_ref is allowed but the path decides. */
const ALLOWED_FIELDS = new Set([
  'service_ref',
  ...KIND_COLUMNS.intelligence.required,
  ...KIND_COLUMNS.intelligence.optional,
])

export function entryToApi(entry: IntelligenceEntry) {
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
    res.status(201).json({ observation: entryToApi(outcome.entry), rag: outcome.risk?.rag ?? null, service })
  })

  return router
}
