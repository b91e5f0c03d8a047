import { Router, type Response } from 'express'
import { z } from 'zod'
import { requireRole } from '../auth/authentication.js'
import { actorOf } from '../auth/requestUser.js'
import type { RagOverride } from '../data/overrides.js'
import type { Service } from '../data/services.js'
import { positiveId } from '../domain/strictInput.js'
import { REASON_MAX_LENGTH, revokeSchema, type FieldError } from '../services/complianceService.js'
import type { Services } from '../services/container.js'
import { COMPLIANCE_ROLES, errorView, formValue } from './compliance.js'
import { formatDate, formatDateTime, ragTag } from './display.js'

const refSchema = z.string().trim().min(1).max(100)

function servicePath(service: Service): string {
  return `/services/${encodeURIComponent(service.ref)}`
}

/** The service and its override still in force, or null (unknown, another service's, already revoked or expired). */
async function overrideInForce(services: Services, rawRef: unknown, rawId: unknown) {
  const ref = refSchema.safeParse(rawRef)
  const id = positiveId.safeParse(rawId)
  if (!ref.success || !id.success) return null
  const service = await services.serviceRepository.findByRef(ref.data)
  if (!service) return null
  const override = await services.compliance.overrides.findById(id.data)
  if (!override || override.serviceId !== service.id) return null
  return { service, override }
}

async function renderRevokeForm(
  res: Response,
  services: Services,
  service: Service,
  override: RagOverride,
  reason: string,
  errors: FieldError[] = [],
) {
  const current = await services.runs.current(service.id)
  res.status(errors.length > 0 ? 400 : 200).render('pages/override-revoke', {
    pageTitle: `Revoke the override of ${service.name}`,
    backLink: { href: `${servicePath(service)}#compliance`, text: 'Back to the service' },
    service: { name: service.name, ref: service.ref, href: servicePath(service) },
    override: {
      tag: ragTag(override.rag),
      reason: override.reason,
      expiresOn: formatDate(override.expiresOn),
      setBy: override.setBy,
      setAt: formatDateTime(override.setAt, services.config.TZ),
    },
    computedTag: current ? ragTag(current.result.computedRag) : null,
    action: `${servicePath(service)}/override/${override.id}/revoke`,
    reason,
    reasonMaxLength: REASON_MAX_LENGTH,
    ...errorView(errors),
  })
}

/** Revoking an override early: a page that asks why and to confirm, then the revocation (audited with the reason). */
export function overrideRevokeRoutes(services: Services): Router {
  const router = Router()
  const officers = requireRole(...COMPLIANCE_ROLES)

  router.get('/services/:ref/override/:id/revoke', officers, async (req, res, next) => {
    const found = await overrideInForce(services, req.params.ref, req.params.id)
    if (!found) return next()
    if (found.override.revokedAt !== null) return res.redirect(303, `${servicePath(found.service)}#compliance`)
    await renderRevokeForm(res, services, found.service, found.override, '')
  })

  router.post('/services/:ref/override/:id/revoke', officers, async (req, res, next) => {
    const found = await overrideInForce(services, req.params.ref, req.params.id)
    if (!found) return next()
    const body = typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {}
    const typed = formValue(body, 'reason') ?? ''
    const parsed = revokeSchema.safeParse({ reason: typed })
    if (!parsed.success) {
      const errors = parsed.error.issues.slice(0, 1).map((issue) => ({ field: 'reason', message: issue.message }))
      return renderRevokeForm(res, services, found.service, found.override, typed, errors)
    }
    await services.compliance.revokeOverride(
      found.service.id,
      found.override.id,
      actorOf(req.user!),
      parsed.data.reason,
    )
    res.redirect(303, `${servicePath(found.service)}#compliance`)
  })
  return router
}
