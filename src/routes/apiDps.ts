import { Router, type Request, type Response } from 'express'
import { z } from 'zod'
import { requireApiRole } from '../auth/authentication.js'
import { actorOf } from '../auth/requestUser.js'
import type { Award } from '../data/dps.js'
import type { ReferralEntry } from '../domain/referral.js'
import type { Services } from '../services/container.js'
import {
  awardInputSchema,
  referralQuerySchema,
  toPenPicture,
  type FrameworkView,
  type ReferralView,
} from '../services/dpsService.js'
import { sendApiError } from './apiErrors.js'
import {
  eligibilityEventListSchema,
  dpsListSchema,
  type ApiAward,
  type ApiDps,
  type ApiReferral,
  type ApiReferralEntry,
} from './apiDpsSchemas.js'
import { fieldErrors } from './queryParams.js'
import { decimal, positiveId } from '../domain/strictInput.js'

const idSchema = positiveId

/** SPEC §9 `GET /dps`: each DPS with its lots and members (extra fields are extensions). */
export function frameworkToApi(framework: FrameworkView): ApiDps {
  return {
    id: framework.id,
    name: framework.name,
    description: framework.description,
    gates: framework.gates,
    lots: framework.lots.map((lot) => ({
      id: lot.id,
      name: lot.name,
      tier: lot.tier,
      zone: lot.zone,
      areas: lot.areas,
      serviceType: lot.serviceType,
      specialism: lot.specialism,
      members: lot.members.map((member) => ({
        ref: member.ref,
        name: member.name,
        provider: member.providerName,
        status: member.status,
        eligible: member.eligible,
        failingGates: member.failingGates,
        rag: member.rag,
        admittedOn: member.admittedOn,
        statusChangedOn: member.statusChangedOn,
        statusReason: member.statusReason,
        awardsLast12Months: member.awardsLast12Months,
        weeklyHoursLast12Months: member.weeklyHoursLast12Months,
      })),
    })),
  }
}

function referralEntryToApi(entry: ReferralEntry): ApiReferralEntry {
  return {
    ref: entry.serviceRef,
    name: entry.serviceName,
    provider: entry.providerName,
    lotId: entry.lotId,
    lotName: entry.lotName,
    tier: entry.tier,
    zone: entry.zone,
    rag: entry.rag,
    score: entry.score,
    reasons: entry.reasons,
    cqcRating: entry.cqcRating,
    cqcRatedOn: entry.cqcRatedOn,
    cqcAge: entry.cqcAge,
    eligible: entry.eligible,
    failingGates: entry.failingGates,
    why: entry.why,
  }
}

/** SPEC §9 `GET /dps/{id}/referral`: the eligible services in allocation order, then the ineligible with why. */
export function referralToApi(referral: ReferralView): ApiReferral {
  return {
    dps: referral.dps,
    penPicture: referral.penPicture,
    eligible: referral.eligible.map(referralEntryToApi),
    ineligible: referral.ineligible.map(referralEntryToApi),
  }
}

export function awardToApi(award: Award): ApiAward {
  return {
    id: award.id,
    dpsId: award.dpsId,
    lotId: award.lotId,
    serviceRef: award.serviceRef,
    weeklyHours: award.weeklyHours,
    startDate: award.startDate,
    reference: award.reference,
    contractStatus: award.contractStatus,
    createdBy: award.createdBy,
    createdAt: award.createdAt,
  }
}

function dpsIdOr404(req: Request, res: Response): number | null {
  const id = idSchema.safeParse(req.params.id)
  if (id.success) return id.data
  sendApiError(res, 404, 'DPS not found', [{ field: 'id', message: `No DPS ${String(req.params.id)}` }])
  return null
}

export const eventsQuerySchema = z.object({
  sinceRun: decimal(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0)),
})

/** The DPS part of the JSON API (SPEC §9): frameworks, referral matching and package awards behind the gate. */
export function apiDpsRoutes(services: Services): Router {
  const router = Router()

  router.get('/dps', async (_req, res) => {
    const frameworks = await services.dps.listFrameworks()
    res.json({ dps: frameworks.map(frameworkToApi) } satisfies z.infer<typeof dpsListSchema>)
  })

  router.get('/dps/eligibility-events', async (req, res) => {
    const parsed = eventsQuerySchema.safeParse(req.query)
    if (!parsed.success) return sendApiError(res, 400, 'Invalid query', fieldErrors(parsed.error))
    const events = await services.dps.eventsSince(parsed.data.sinceRun)
    res.json({
      events: events.map((event) => ({
        id: event.id,
        runId: event.runId,
        at: event.at,
        change: event.change,
        eligible: event.eligible,
        failingGates: event.failingGates,
        lost: event.lost,
        reasons: event.reasons,
        serviceRef: event.serviceRef,
        serviceName: event.serviceName,
        dpsId: event.dpsId,
        dpsName: event.dpsName,
        lotId: event.lotId,
        lotName: event.lotName,
        summary: event.summary,
      })),
    } satisfies z.infer<typeof eligibilityEventListSchema>)
  })

  router.get('/dps/:id', async (req, res) => {
    const id = dpsIdOr404(req, res)
    if (id === null) return
    const framework = await services.dps.getFramework(id)
    if (!framework) return sendApiError(res, 404, 'DPS not found', [{ field: 'id', message: `No DPS ${id}` }])
    res.json(frameworkToApi(framework))
  })

  router.get('/dps/:id/referral', async (req, res) => {
    const id = dpsIdOr404(req, res)
    if (id === null) return
    const parsed = referralQuerySchema.safeParse(req.query)
    if (!parsed.success) return sendApiError(res, 400, 'Invalid pen picture', fieldErrors(parsed.error))
    const referral = await services.dps.referral(id, toPenPicture(parsed.data))
    if (!referral) return sendApiError(res, 404, 'DPS not found', [{ field: 'id', message: `No DPS ${id}` }])
    res.json(referralToApi(referral))
  })

  router.post('/dps/:id/awards', requireApiRole('compliance', 'admin'), async (req, res) => {
    const id = dpsIdOr404(req, res)
    if (id === null) return
    const parsed = awardInputSchema.safeParse(req.body ?? {})
    if (!parsed.success) return sendApiError(res, 400, 'Invalid award', fieldErrors(parsed.error))
    const outcome = await services.dps.award(id, parsed.data, actorOf(req.user!))
    if (outcome.ok) return res.status(201).json(awardToApi(outcome.award))
    switch (outcome.refused) {
      case 'ineligible':
        return sendApiError(res, 409, outcome.message, outcome.failingGates)
      case 'duplicate_reference':
        return sendApiError(res, 409, outcome.message, [{ field: 'reference', message: outcome.message }])
      case 'not_found':
        return sendApiError(res, 404, outcome.message, [{ field: outcome.field ?? 'id', message: outcome.message }])
    }
  })

  return router
}
