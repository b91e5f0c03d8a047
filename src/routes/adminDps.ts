import { Router, type NextFunction, type Request, type Response } from 'express'
import { z } from 'zod'
import { requireRole } from '../auth/authentication.js'
import { actorOf } from '../auth/requestUser.js'
import type { DpsWithLots } from '../data/dps.js'
import { DEFAULT_GATES, type Gates } from '../domain/eligibility.js'
import { LOT_TIERS } from '../domain/referral.js'
import { SERVICE_TYPES } from '../domain/vocabulary.js'
import type { Services } from '../services/container.js'
import {
  admitFormSchema,
  frameworkFormSchema,
  gatesFormSchema,
  lotFormSchema,
  membershipChangeSchema,
  type FieldError,
} from '../services/dpsService.js'
import { formatDate, ragTag, serviceTypeLabel } from './display.js'
import { formErrors, formValues, gateLines, membershipTag, pathId, tierLabel, wordsLabel } from './dps.js'
import { fieldErrors } from './queryParams.js'

const DONE_MESSAGES = {
  created: 'DPS created. Add its lots next.',
  gates: 'Conditions saved, and every member checked against them',
  lot: 'Lot added',
  lotChanged: 'Lot changed',
  admitted: 'Service admitted',
  suspended: 'Membership suspended',
  removed: 'Membership removed',
  readmitted: 'Service admitted again',
} as const
type Done = keyof typeof DONE_MESSAGES
const doneSchema = z
  .object({ done: z.enum(Object.keys(DONE_MESSAGES) as [Done, ...Done[]]).optional() })
  .catch({ done: undefined })

/** The gates as the form's field values ('off' for a gate switched off, 'yes' for a ticked box). */
function gateValues(gates: Gates): Record<string, string> {
  return {
    minimumCqcRating: gates.minimumCqcRating ?? 'off',
    maximumRag: gates.maximumRag ?? 'off',
    minimumQualityOutcome: gates.minimumQualityOutcome ?? 'off',
    ...(gates.noActiveEmbargo ? { noActiveEmbargo: 'yes' } : {}),
    ...(gates.notInsolvent ? { notInsolvent: 'yes' } : {}),
    ...(gates.registeredManagerInPost ? { registeredManagerInPost: 'yes' } : {}),
  }
}

function gateFields(values: Record<string, string>) {
  return {
    cqcItems: [
      { value: 'off', text: 'No CQC condition' },
      { value: 'outstanding', text: 'Outstanding' },
      { value: 'good', text: 'Good or above' },
      { value: 'requires_improvement', text: 'Requires improvement or above' },
      { value: 'inadequate', text: 'Any published rating' },
    ],
    ragItems: [
      { value: 'amber', text: 'Not Red' },
      { value: 'green', text: 'Green only' },
      { value: 'off', text: 'No RAG condition' },
    ],
    qualityItems: [
      { value: 'off', text: 'No quality assessment condition' },
      { value: 'excellent', text: 'Excellent' },
      { value: 'good', text: 'Good or above' },
      { value: 'requires_improvement', text: 'Requires improvement or above' },
    ],
    checkItems: [
      {
        name: 'noActiveEmbargo',
        value: 'yes',
        text: 'No active embargo on new placements',
        checked: values.noActiveEmbargo === 'yes',
      },
      { name: 'notInsolvent', value: 'yes', text: 'Company not insolvent', checked: values.notInsolvent === 'yes' },
      {
        name: 'registeredManagerInPost',
        value: 'yes',
        text: 'Registered manager in post',
        hint: { text: 'A service with no manager information passes' },
        checked: values.registeredManagerInPost === 'yes',
      },
    ],
  }
}

function renderForm(
  res: Response,
  options: { creating: boolean; dps?: { id: number; name: string } },
  values: Record<string, string>,
  errors: FieldError[] = [],
  status = 200,
) {
  res.status(status).render('pages/admin-dps-form', {
    pageTitle: options.creating ? 'Create a DPS' : `Conditions: ${options.dps?.name}`,
    backLink: options.creating
      ? { href: '/admin/dps', text: 'Back to frameworks' }
      : { href: `/admin/dps/${options.dps?.id}`, text: `Back to ${options.dps?.name}` },
    creating: options.creating,
    submitText: options.creating ? 'Create the DPS' : 'Save the conditions',
    action: options.creating ? '/admin/dps/new' : `/admin/dps/${options.dps?.id}/gates`,
    dps: options.dps,
    values,
    ...gateFields(values),
    ...formErrors(errors, { noActiveEmbargo: 'checks', notInsolvent: 'checks-2', registeredManagerInPost: 'checks-3' }),
  })
}

function lotItems(dps: DpsWithLots) {
  return [
    { value: '', text: 'Select a lot' },
    ...dps.lots.map((lot) => ({ value: String(lot.id), text: `${lot.name} (${serviceTypeLabel(lot.serviceType)})` })),
  ]
}

function manageViewModel(dps: DpsWithLots, done: Done | undefined) {
  return {
    pageTitle: `Manage ${dps.name}`,
    backLink: { href: '/admin/dps', text: 'Back to frameworks' },
    done: done ? DONE_MESSAGES[done] : null,
    dps: {
      id: dps.id,
      name: dps.name,
      description: dps.description,
      lotHref: `/admin/dps/${dps.id}/lots/new`,
      admitHref: `/admin/dps/${dps.id}/members/new`,
    },
    gates: gateLines(dps.gates),
    lots: dps.lots.map((lot) => ({
      id: lot.id,
      name: lot.name,
      tier: tierLabel(lot.tier),
      zone: lot.zone ?? '',
      areas: lot.areas.join(', '),
      serviceType: serviceTypeLabel(lot.serviceType),
      specialism: wordsLabel(lot.specialism),
      members: lot.members.map((member) => ({
        membershipId: member.id,
        ref: member.serviceRef,
        name: member.serviceName,
        status: membershipTag(member.status),
        changed: formatDate(member.status === 'admitted' ? member.admittedOn : member.statusChangedOn),
        reason: member.reason ?? '',
        rag: ragTag(member.rag),
      })),
    })),
  }
}

/** Re-judges services after a write that changes who may be eligible, so verdicts and events are current at once. */
async function recompute(services: Services, serviceIds: number[], trigger: string): Promise<void> {
  if (serviceIds.length > 0) await services.risk.recomputeServices(serviceIds, trigger)
}

async function dpsOr404(services: Services, req: Request, next: NextFunction): Promise<DpsWithLots | null> {
  const id = pathId(req.params.id)
  const dps = id === null ? null : await services.dpsRepository.getDps(id)
  if (!dps) next()
  return dps
}

/** Admin pages for DPS frameworks (SPEC §1, §4): create a DPS, set its gates, add lots, admit and change members. */
export function adminDpsRoutes(services: Services): Router {
  const router = Router()
  router.use('/admin/dps', requireRole('admin'))

  router.get('/admin/dps', async (_req, res) => {
    const frameworks = await services.dpsRepository.listDps()
    res.render('pages/admin-dps', {
      pageTitle: 'Manage DPS frameworks',
      frameworks: frameworks.map((dps) => ({
        id: dps.id,
        name: dps.name,
        lots: dps.lots.length,
        members: dps.lots.flatMap((lot) => lot.members).filter((m) => m.status !== 'removed').length,
      })),
    })
  })

  router.get('/admin/dps/new', (_req, res) => renderForm(res, { creating: true }, gateValues(DEFAULT_GATES)))

  router.post('/admin/dps/new', async (req, res) => {
    const values = formValues(req.body)
    const parsed = frameworkFormSchema.safeParse(req.body ?? {})
    if (!parsed.success) return renderForm(res, { creating: true }, values, fieldErrors(parsed.error), 400)
    const outcome = await services.dps.createFramework(parsed.data, actorOf(req.user!))
    if (!outcome.ok)
      return renderForm(res, { creating: true }, values, outcome.errors, outcome.status === 409 ? 400 : outcome.status)
    res.redirect(303, `/admin/dps/${outcome.value.id}?done=created`)
  })

  router.get('/admin/dps/:id', async (req, res, next) => {
    const dps = await dpsOr404(services, req, next)
    if (!dps) return
    res.render('pages/admin-dps-manage', manageViewModel(dps, doneSchema.parse(req.query).done))
  })

  router.get('/admin/dps/:id/gates', async (req, res, next) => {
    const dps = await dpsOr404(services, req, next)
    if (!dps) return
    renderForm(res, { creating: false, dps }, gateValues(dps.gates))
  })

  router.post('/admin/dps/:id/gates', async (req, res, next) => {
    const dps = await dpsOr404(services, req, next)
    if (!dps) return
    const parsed = gatesFormSchema.safeParse(req.body ?? {})
    if (!parsed.success)
      return renderForm(res, { creating: false, dps }, formValues(req.body), fieldErrors(parsed.error), 400)
    const outcome = await services.dps.updateGates(dps.id, parsed.data, actorOf(req.user!))
    if (!outcome.ok) return next()
    await recompute(services, outcome.value.serviceIds, `DPS conditions changed: ${dps.name}`)
    res.redirect(303, `/admin/dps/${dps.id}?done=gates`)
  })

  const renderLot = (
    res: Response,
    dps: DpsWithLots,
    values: Record<string, string>,
    errors: FieldError[] = [],
    status = 200,
    lotId: number | null = null,
  ) =>
    res.status(status).render('pages/admin-dps-lot', {
      pageTitle: `${lotId === null ? 'Add a lot' : 'Change a lot'}: ${dps.name}`,
      heading: lotId === null ? 'Add a lot' : 'Change a lot',
      action: lotId === null ? `/admin/dps/${dps.id}/lots/new` : `/admin/dps/${dps.id}/lots/${lotId}`,
      submitText: lotId === null ? 'Add the lot' : 'Save the lot',
      backLink: { href: `/admin/dps/${dps.id}`, text: `Back to ${dps.name}` },
      dps: { id: dps.id, name: dps.name },
      values,
      tierItems: LOT_TIERS.map((tier) => ({ value: tier, text: tierLabel(tier) })),
      typeItems: [
        { value: '', text: 'Select a type of service' },
        ...SERVICE_TYPES.map((type) => ({ value: type, text: serviceTypeLabel(type) })),
      ],
      ...formErrors(errors, { tier: 'tier', type: 'serviceType' }),
    })

  router.get('/admin/dps/:id/lots/new', async (req, res, next) => {
    const dps = await dpsOr404(services, req, next)
    if (dps) renderLot(res, dps, { tier: 'tier1' })
  })

  router.post('/admin/dps/:id/lots/new', async (req, res, next) => {
    const dps = await dpsOr404(services, req, next)
    if (!dps) return
    const values = formValues(req.body)
    const parsed = lotFormSchema.safeParse(req.body ?? {})
    if (!parsed.success) return renderLot(res, dps, values, fieldErrors(parsed.error), 400)
    const outcome = await services.dps.addLot(dps.id, parsed.data, actorOf(req.user!))
    if (!outcome.ok) return renderLot(res, dps, values, outcome.errors, 400)
    res.redirect(303, `/admin/dps/${dps.id}?done=lot`)
  })

  router.get('/admin/dps/:id/lots/:lotId', async (req, res, next) => {
    const dps = await dpsOr404(services, req, next)
    if (!dps) return
    const lot = dps.lots.find((candidate) => candidate.id === pathId(req.params.lotId))
    if (!lot) return next()
    renderLot(
      res,
      dps,
      {
        name: lot.name,
        tier: lot.tier,
        serviceType: lot.serviceType,
        zone: lot.zone ?? '',
        areas: lot.areas.join(', '),
        specialism: lot.specialism ?? '',
      },
      [],
      200,
      lot.id,
    )
  })

  router.post('/admin/dps/:id/lots/:lotId', async (req, res, next) => {
    const dps = await dpsOr404(services, req, next)
    if (!dps) return
    const lot = dps.lots.find((candidate) => candidate.id === pathId(req.params.lotId))
    if (!lot) return next()
    const values = formValues(req.body)
    const parsed = lotFormSchema.safeParse(req.body ?? {})
    if (!parsed.success) return renderLot(res, dps, values, fieldErrors(parsed.error), 400, lot.id)
    const outcome = await services.dps.changeLot(dps.id, lot.id, parsed.data, actorOf(req.user!))
    if (!outcome.ok) return renderLot(res, dps, values, outcome.errors, outcome.status === 404 ? 404 : 400, lot.id)
    res.redirect(303, `/admin/dps/${dps.id}?done=lotChanged`)
  })

  const renderAdmit = (
    res: Response,
    dps: DpsWithLots,
    values: Record<string, string>,
    errors: FieldError[] = [],
    status = 200,
  ) =>
    res.status(status).render('pages/admin-dps-admit', {
      pageTitle: `Admit a service: ${dps.name}`,
      backLink: { href: `/admin/dps/${dps.id}`, text: `Back to ${dps.name}` },
      dps: { id: dps.id, name: dps.name },
      values,
      lotItems: lotItems(dps),
      ...formErrors(errors),
    })

  router.get('/admin/dps/:id/members/new', async (req, res, next) => {
    const dps = await dpsOr404(services, req, next)
    if (dps) renderAdmit(res, dps, { on: services.clock.today() })
  })

  router.post('/admin/dps/:id/members/new', async (req, res, next) => {
    const dps = await dpsOr404(services, req, next)
    if (!dps) return
    const values = formValues(req.body)
    const parsed = admitFormSchema.safeParse(req.body ?? {})
    if (!parsed.success) return renderAdmit(res, dps, values, fieldErrors(parsed.error), 400)
    const outcome = await services.dps.admitMember(dps.id, parsed.data, actorOf(req.user!))
    if (!outcome.ok) return renderAdmit(res, dps, values, outcome.errors, 400)
    await recompute(services, [outcome.value.serviceId], `DPS admission: ${dps.name}`)
    res.redirect(303, `/admin/dps/${dps.id}?done=admitted`)
  })

  const membershipOf = (dps: DpsWithLots, membershipId: number | null) => {
    for (const lot of dps.lots) {
      const member = lot.members.find((m) => m.id === membershipId)
      if (member) return { lot, member }
    }
    return null
  }

  const renderMembership = (
    res: Response,
    dps: DpsWithLots,
    found: NonNullable<ReturnType<typeof membershipOf>>,
    values: Record<string, string>,
    errors: FieldError[] = [],
    status = 200,
  ) => {
    const { lot, member } = found
    const actions = [
      { value: 'suspend', text: 'Suspend', hint: { text: 'No new packages until admitted again' } },
      { value: 'remove', text: 'Remove', hint: { text: 'Leaves the lot; kept in the history' } },
      { value: 'readmit', text: 'Admit again' },
    ].filter((item) => item.value !== { admitted: 'readmit', suspended: 'suspend', removed: 'remove' }[member.status])
    res.status(status).render('pages/admin-dps-membership', {
      pageTitle: `Change membership: ${member.serviceName}`,
      backLink: { href: `/admin/dps/${dps.id}`, text: `Back to ${dps.name}` },
      dps: { id: dps.id, name: dps.name },
      member: {
        id: member.id,
        ref: member.serviceRef,
        name: member.serviceName,
        lotName: lot.name,
        status: membershipTag(member.status),
        since: formatDate(member.statusChangedOn),
        reason: member.reason ?? '',
      },
      actionItems: actions,
      values,
      ...formErrors(errors),
    })
  }

  router.get('/admin/dps/:id/members/:membershipId', async (req, res, next) => {
    const dps = await dpsOr404(services, req, next)
    if (!dps) return
    const found = membershipOf(dps, pathId(req.params.membershipId))
    if (!found) return next()
    renderMembership(res, dps, found, { on: services.clock.today() })
  })

  router.post('/admin/dps/:id/members/:membershipId', async (req, res, next) => {
    const dps = await dpsOr404(services, req, next)
    if (!dps) return
    const found = membershipOf(dps, pathId(req.params.membershipId))
    if (!found) return next()
    const values = formValues(req.body)
    const parsed = membershipChangeSchema.safeParse(req.body ?? {})
    if (!parsed.success) return renderMembership(res, dps, found, values, fieldErrors(parsed.error), 400)
    const outcome = await services.dps.changeMembership(dps.id, found.member.id, parsed.data, actorOf(req.user!))
    if (!outcome.ok) return renderMembership(res, dps, found, values, outcome.errors, 400)
    if (parsed.data.action === 'readmit') {
      await recompute(services, [found.member.serviceId], `DPS admission: ${dps.name}`)
    }
    const done: Done =
      parsed.data.action === 'readmit' ? 'readmitted' : parsed.data.action === 'suspend' ? 'suspended' : 'removed'
    res.redirect(303, `/admin/dps/${dps.id}?done=${done}`)
  })

  return router
}
