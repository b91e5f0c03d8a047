import { Router } from 'express'
import { z } from 'zod'
import { requireApiRole } from '../auth/authentication.js'
import { actorOf } from '../auth/requestUser.js'
import { ACTION_KINDS, type ComplianceAction } from '../data/complianceActions.js'
import { ragSchema } from '../domain/vocabulary.js'
import type { Services } from '../services/container.js'
import { newActionSchema } from '../services/complianceService.js'
import { sendApiError } from './apiErrors.js'
import { COMPLIANCE_ROLES } from './compliance.js'
import { isoDateText } from '../services/presenters.js'

/**
 * The body of `POST /services/{ref}/actions`: the fields of a new action (the service's schema checks them), the
 * owner defaulting to the caller, and nothing else. `today` bounds the dates, not the fields.
 */
export function actionBodySchema(today: string) {
  const { shape } = newActionSchema(today)
  return z.strictObject({ ...shape, owner: shape.owner.optional().describe('Default: the caller') })
}

const ACTION_FIELDS = new Set(Object.keys(actionBodySchema('2000-01-01').shape))

/** A compliance action in the API (SPEC §9). */
export const apiActionSchema = z.object({
  id: z.number().int(),
  kind: z.enum(ACTION_KINDS),
  owner: z.string(),
  openedOn: isoDateText,
  dueOn: isoDateText.nullable(),
  closedOn: isoDateText.nullable(),
  reference: z.string().nullable(),
  notes: z.string().nullable().optional().describe('Compliance and admin only'),
  indicator: z
    .enum(['default_notice', 'embargo'])
    .nullable()
    .describe('The indicator this action is the fact of (a default notice, a suspension of new placements), if any'),
})
export type ApiAction = z.infer<typeof apiActionSchema>

export const actionCreatedSchema = z.object({
  service: z.string(),
  action: apiActionSchema,
  rag: ragSchema.nullable(),
})

/** A compliance action in the API; notes only for those who may read them (compliance and admin). */
export function actionToApi(action: ComplianceAction, withNotes: boolean): ApiAction {
  return {
    id: action.id,
    kind: action.kind,
    owner: action.owner,
    openedOn: action.openedOn,
    dueOn: action.dueOn,
    closedOn: action.closedOn,
    reference: withNotes ? action.reference : null,
    ...(withNotes ? { notes: action.notes } : {}),
    indicator: action.observationId === null ? null : action.kind === 'default_notice' ? 'default_notice' : 'embargo',
  }
}

/** `POST /api/v1/services/{ref}/actions` (SPEC §9): opens a compliance action, compliance and admin only. */
export function apiActionsRoutes(services: Services): Router {
  const router = Router()
  router.post('/services/:ref/actions', requireApiRole(...COMPLIANCE_ROLES), async (req, res) => {
    const body: unknown = req.body
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return sendApiError(res, 400, 'Invalid action', [
        { field: '(body)', message: 'must be a JSON object: { kind, openedOn, dueOn, reference, notes }' },
      ])
    }
    const unknown = Object.keys(body).filter((name) => !ACTION_FIELDS.has(name))
    if (unknown.length > 0) {
      return sendApiError(
        res,
        400,
        'Invalid action',
        unknown.slice(0, 20).map((name) => ({
          field: name.slice(0, 100),
          message: `is not a field of an action: use ${[...ACTION_FIELDS].join(', ')}`,
        })),
      )
    }
    const service = await services.serviceRepository.findByRef(String(req.params.ref))
    if (!service) {
      return sendApiError(res, 404, 'Service not found', [{ field: 'ref', message: `No service ${req.params.ref}` }])
    }
    const actor = actorOf(req.user!)
    const fields = body as Record<string, unknown>
    const text = (value: unknown) => (value === null || value === undefined ? undefined : value)
    const outcome = await services.compliance.openAction(
      service.id,
      {
        kind: fields.kind,
        owner: text(fields.owner) ?? actor,
        openedOn: fields.openedOn,
        dueOn: text(fields.dueOn),
        reference: text(fields.reference),
        notes: text(fields.notes),
      },
      actor,
    )
    if (!outcome.ok) return sendApiError(res, 400, 'Invalid action', outcome.errors)
    const current = await services.runs.current(service.id)
    res.status(201).json({
      service: service.ref,
      action: actionToApi(outcome.value, true),
      rag: current?.result.rag ?? null,
    } satisfies z.infer<typeof actionCreatedSchema>)
  })
  return router
}
