import { Router, type NextFunction, type Request, type Response } from 'express'
import { z } from 'zod'
import { requireRole } from '../auth/authentication.js'
import { actorOf } from '../auth/requestUser.js'
import { addDays } from '../domain/dates.js'
import { causesFirst, type Gates } from '../domain/eligibility.js'
import { LOT_TIER_LABELS, type LotTier, type MembershipStatus, type ReferralEntry } from '../domain/referral.js'
import { SERVICE_TYPES, type CqcRating } from '../domain/vocabulary.js'
import type { Services } from '../services/container.js'
import {
  awardInputSchema,
  closeTaskSchema,
  referralQuerySchema,
  toPenPicture,
  type FieldError,
  type FrameworkPage,
  type ReferralView,
} from '../services/dpsService.js'
import { formatDate, formatDateTime, ragTag, serviceTypeLabel, withQuery } from './display.js'
import { fieldErrors } from './queryParams.js'
import { positiveId } from '../domain/strictInput.js'
import { isStale } from '../domain/indicators/common.js'

// ---- Display helpers shared with the admin DPS pages (adminDps.ts) ----

const CQC_LABELS: Record<CqcRating, string> = {
  outstanding: 'Outstanding',
  good: 'Good',
  requires_improvement: 'Requires improvement',
  inadequate: 'Inadequate',
  not_rated: 'Not yet rated',
}
const OUTCOME_LABELS: Record<string, string> = {
  excellent: 'Excellent',
  good: 'Good',
  requires_improvement: 'Requires improvement',
  poor: 'Poor',
}

export function cqcLabel(rating: CqcRating | null): string {
  return rating ? CQC_LABELS[rating] : 'No rating'
}

export function tierLabel(tier: LotTier): string {
  return LOT_TIER_LABELS[tier]
}

/** "learning_disability" -> "Learning disability". */
export function wordsLabel(value: string | null): string {
  if (!value) return ''
  const spaced = value.replaceAll('_', ' ')
  return spaced.charAt(0).toUpperCase() + spaced.slice(1)
}

const STATUS_TAGS: Record<MembershipStatus, { text: string; classes: string }> = {
  admitted: { text: 'Admitted', classes: 'govuk-tag--blue' },
  suspended: { text: 'Suspended', classes: 'govuk-tag--yellow' },
  removed: { text: 'Removed', classes: 'govuk-tag--grey' },
}

export function membershipTag(status: MembershipStatus) {
  return STATUS_TAGS[status]
}

export function eligibilityTag(eligible: boolean) {
  return eligible
    ? { text: 'Eligible', classes: 'govuk-tag--green' }
    : { text: 'Not eligible', classes: 'govuk-tag--red' }
}

/** The gates of a DPS as sentences; gates switched off are left out. */
export function gateLines(gates: Gates): string[] {
  const lines: string[] = []
  if (gates.minimumCqcRating) lines.push(`CQC overall rating ${CQC_LABELS[gates.minimumCqcRating]} or above`)
  if (gates.maximumRag === 'amber') lines.push('Overall RAG not Red')
  if (gates.maximumRag === 'green') lines.push('Overall RAG Green')
  if (gates.noActiveEmbargo) lines.push('No active embargo on new placements')
  if (gates.notInsolvent) lines.push('Company not insolvent')
  if (gates.minimumQualityOutcome) {
    lines.push(`Quality assessment ${OUTCOME_LABELS[gates.minimumQualityOutcome]} or above (when assessed)`)
  }
  if (gates.registeredManagerInPost) lines.push('Registered manager in post')
  return lines
}

/** GOV.UK error summary items (linking to each field) and the first message per field. */
export function formErrors(errors: FieldError[], fieldIds: Record<string, string> = {}) {
  const byField: Record<string, string> = {}
  for (const error of errors) byField[error.field] ??= error.message
  return {
    errorList: errors.map((error) => ({ text: error.message, href: `#${fieldIds[error.field] ?? error.field}` })),
    errors: byField,
  }
}

/** Form values as strings, to show a form again with what was typed. */
export function formValues(body: unknown): Record<string, string> {
  const values: Record<string, string> = {}
  if (typeof body !== 'object' || body === null) return values
  for (const [key, value] of Object.entries(body)) {
    if (key !== '_csrf' && typeof value === 'string') values[key] = value
  }
  return values
}

const idSchema = positiveId

/** The numeric id in a path parameter, or null (the caller then passes on to the 404). */
export function pathId(value: unknown): number | null {
  const parsed = idSchema.safeParse(value)
  return parsed.success ? parsed.data : null
}

const awardPrefillSchema = z.object({
  serviceRef: z.string().max(100).optional(),
  lotId: z.string().max(20).optional(),
  weeklyHours: z.string().max(20).optional(),
  startDate: z.string().max(20).optional(),
})

const awardedSchema = z.object({ awarded: idSchema.optional() }).catch({})

const canAward = (role: string | undefined) => role === 'compliance' || role === 'admin'

// ---- View models ----

function frameworkViewModel(
  framework: FrameworkPage,
  services: Services,
  role: string | undefined,
  awardedId?: number,
) {
  const tz = services.config.TZ
  const share = framework.offContractShare
  const memberName = new Map(framework.lots.flatMap((lot) => lot.members.map((m) => [m.ref, m.name])))
  const lotName = new Map(framework.lots.map((lot) => [lot.id, lot.name]))
  const awarded = awardedId ? framework.awardsLast12Months.find((award) => award.id === awardedId) : undefined
  return {
    pageTitle: framework.name,
    dps: {
      id: framework.id,
      name: framework.name,
      description: framework.description,
      referralHref: `/dps/${framework.id}/referral`,
      awardHref: `/dps/${framework.id}/awards/new`,
    },
    gates: gateLines(framework.gates),
    offContract:
      share.awards === 0
        ? 'No new packages were awarded under this DPS in the last 12 months.'
        : `${share.offContract} of ${share.awards} new packages (${Math.round((share.share ?? 0) * 100)}%) awarded in the last 12 months went to off-contract services.`,
    offContractByQuarter: framework.offContractByQuarter.map((quarter) => ({
      period: `${formatDate(quarter.from)} to ${formatDate(addDays(quarter.to, -1))}`,
      awards: quarter.share.awards,
      offContract: quarter.share.offContract,
      share: quarter.share.share === null ? 'No packages' : `${Math.round(quarter.share.share * 100)}%`,
    })),
    awarded: awarded
      ? `Package ${awarded.reference} awarded to ${memberName.get(awarded.serviceRef) ?? awarded.serviceRef}`
      : null,
    canAward: canAward(role),
    isAdmin: role === 'admin',
    lots: framework.lots.map((lot) => ({
      id: lot.id,
      name: lot.name,
      tier: tierLabel(lot.tier),
      zone: lot.zone,
      areas: lot.areas.join(', '),
      serviceType: serviceTypeLabel(lot.serviceType),
      specialism: wordsLabel(lot.specialism),
      eligibleCount: lot.members.filter((m) => m.eligible).length,
      memberCount: lot.members.filter((m) => m.status !== 'removed').length,
      members: lot.members.map((member) => ({
        ref: member.ref,
        name: member.name,
        providerName: member.providerName,
        status: membershipTag(member.status),
        statusLine:
          member.status === 'admitted'
            ? `since ${formatDate(member.admittedOn)}`
            : `since ${formatDate(member.statusChangedOn)}${member.statusReason ? `: ${member.statusReason}` : ''}`,
        rag: ragTag(member.rag),
        overridden: member.overridden,
        eligibility: eligibilityTag(member.eligible),
        failingGates: causesFirst(member.failingGates).map((gate) => gate.reason),
        awards: member.awardsLast12Months,
        hours: member.weeklyHoursLast12Months,
      })),
    })),
    awards: canAward(role)
      ? framework.awardsLast12Months.slice(0, 50).map((award) => ({
          at: formatDateTime(award.createdAt, tz),
          serviceRef: award.serviceRef,
          serviceName: memberName.get(award.serviceRef) ?? award.serviceRef,
          lotName: lotName.get(award.lotId) ?? '',
          weeklyHours: award.weeklyHours,
          startDate: formatDate(award.startDate),
          reference: award.reference,
          offContract: award.contractStatus === 'off_contract',
        }))
      : [],
  }
}

/** The one test of an old rating: the active rule set's CQC staleness (the indicator's "stale" mark). */
interface RatingAge {
  today: string
  staleAfterDays: number | null
}

function referralRow(
  entry: ReferralEntry,
  position: number,
  dpsId: number,
  query: Record<string, unknown>,
  award: boolean,
  age: RatingAge,
) {
  return {
    position,
    ref: entry.serviceRef,
    name: entry.serviceName,
    providerName: entry.providerName,
    lotName: entry.lotName,
    tier: tierLabel(entry.tier),
    rag: ragTag(entry.rag),
    reasons: entry.reasons.slice(0, 3),
    cqc: cqcLabel(entry.cqcRating),
    cqcAge: entry.cqcAge ? `rated ${entry.cqcAge} ago` : '',
    cqcOld: isStale(entry.cqcRatedOn, age.today, age.staleAfterDays),
    why: entry.why,
    awardHref: award
      ? withQuery(
          `/dps/${dpsId}/awards/new`,
          {},
          {
            serviceRef: entry.serviceRef,
            lotId: entry.lotId,
            weeklyHours: query.weeklyHours,
            startDate: query.startDate,
          },
        )
      : null,
  }
}

async function referralFormOptions(services: Services, framework: FrameworkPage) {
  const areas = await services.serviceRepository.listAreas()
  const lotTypes = new Set(framework.lots.map((lot) => lot.serviceType))
  const specialisms = [
    ...new Set(framework.lots.filter((lot) => lot.specialism).map((lot) => lot.specialism as string)),
  ]
  return {
    areaItems: [{ value: '', text: 'Select an area' }, ...areas.map((area) => ({ value: area, text: area }))],
    typeItems: [
      { value: '', text: 'Select a type of service' },
      ...SERVICE_TYPES.filter((type) => lotTypes.has(type)).map((type) => ({
        value: type,
        text: serviceTypeLabel(type),
      })),
    ],
    needItems: [
      { value: '', text: 'No specialist need' },
      ...specialisms.map((specialism) => ({ value: specialism, text: wordsLabel(specialism) })),
    ],
  }
}

function referralResults(
  referral: ReferralView,
  query: Record<string, unknown>,
  role: string | undefined,
  age: RatingAge,
) {
  const award = canAward(role)
  const row = (entry: ReferralEntry, index: number, mayAward: boolean) =>
    referralRow(entry, index + 1, referral.dps.id, query, mayAward, age)
  return {
    eligible: referral.eligible.map((entry, index) => row(entry, index, award)),
    ineligible: referral.ineligible.map((entry, index) => row(entry, index, false)),
  }
}

// ---- Routes ----

async function frameworkOr404(services: Services, req: Request, next: NextFunction): Promise<FrameworkPage | null> {
  const id = pathId(req.params.id)
  const framework = id === null ? null : await services.dps.getFramework(id)
  if (!framework) next()
  return framework
}

function renderAwardForm(
  res: Response,
  framework: FrameworkPage,
  values: Record<string, string>,
  errors: FieldError[] = [],
  status = 200,
  refusal: { title: string; description: string } | null = null,
) {
  res.status(status).render('pages/dps-award', {
    pageTitle: `Award a package: ${framework.name}`,
    backLink: { href: `/dps/${framework.id}`, text: `Back to ${framework.name}` },
    dps: { id: framework.id, name: framework.name },
    values,
    lotItems: [
      { value: '', text: 'Select a lot' },
      ...framework.lots.map((lot) => ({ value: String(lot.id), text: lot.name })),
    ],
    refusal,
    ...formErrors(errors),
  })
}

/**
 * The DPS pages (SPEC §4, §7): frameworks, one DPS with its members and their eligibility, referral matching for a
 * pen picture, the award form behind the gate, and compliance's "review membership" tasks.
 */
export function dpsRoutes(services: Services): Router {
  const router = Router()
  const compliance = requireRole('compliance', 'admin')

  router.get('/dps', async (_req, res) => {
    const role = res.locals.user?.role as string | undefined
    const frameworks = await services.dps.listFrameworks()
    const tasks = canAward(role) ? await services.dps.openTasks() : []
    res.render('pages/dps', {
      pageTitle: 'Dynamic purchasing systems',
      isAdmin: role === 'admin',
      showTasks: canAward(role),
      frameworks: frameworks.map((framework) => {
        const members = framework.lots.flatMap((lot) => lot.members).filter((m) => m.status !== 'removed')
        return {
          id: framework.id,
          name: framework.name,
          description: framework.description,
          lots: framework.lots.length,
          members: new Set(members.map((m) => m.ref)).size,
          eligible: new Set(members.filter((m) => m.eligible).map((m) => m.ref)).size,
        }
      }),
      tasks: tasks.map((task) => ({
        id: task.id,
        serviceRef: task.serviceRef,
        serviceName: task.serviceName,
        where: task.lotName ? `${task.lotName} (${task.dpsName})` : '',
        reason: task.note ?? '',
        openedOn: formatDate(task.openedAt),
        now: taskNow(task),
      })),
    })
  })

  router.get('/dps/tasks/:taskId', compliance, async (req, res, next) => {
    const taskId = pathId(req.params.taskId)
    const task = taskId === null ? null : await services.dps.findTask(taskId)
    if (!task) return next()
    res.render('pages/dps-task', taskViewModel(task, {}, [], res.locals.user?.role === 'admin'))
  })

  router.post('/dps/tasks/:taskId/close', compliance, async (req, res, next) => {
    const taskId = pathId(req.params.taskId)
    const task = taskId === null ? null : await services.dps.findTask(taskId)
    if (!task) return next()
    const parsed = closeTaskSchema.safeParse(req.body ?? {})
    if (!parsed.success) {
      return res
        .status(400)
        .render(
          'pages/dps-task',
          taskViewModel(task, formValues(req.body), fieldErrors(parsed.error), res.locals.user?.role === 'admin'),
        )
    }
    const outcome = await services.dps.closeTask(task.id, parsed.data.note, actorOf(req.user!))
    if (!outcome.ok) {
      return res
        .status(outcome.status)
        .render(
          'pages/dps-task',
          taskViewModel(task, formValues(req.body), outcome.errors, res.locals.user?.role === 'admin'),
        )
    }
    res.redirect(303, '/dps?closed=1')
  })

  router.get('/dps/:id', async (req, res, next) => {
    const framework = await frameworkOr404(services, req, next)
    if (!framework) return
    const { awarded } = awardedSchema.parse(req.query)
    res.render('pages/dps-framework', frameworkViewModel(framework, services, res.locals.user?.role, awarded))
  })

  router.get('/dps/:id/referral', async (req, res, next) => {
    const framework = await frameworkOr404(services, req, next)
    if (!framework) return
    const role = res.locals.user?.role as string | undefined
    const options = await referralFormOptions(services, framework)
    const values = formValues(req.query)
    const base = {
      pageTitle: `Find a service: ${framework.name}`,
      backLink: { href: `/dps/${framework.id}`, text: `Back to ${framework.name}` },
      dps: { id: framework.id, name: framework.name },
      values,
      ...options,
    }
    const submitted = Object.keys(req.query).length > 0
    if (!submitted) return res.render('pages/dps-referral', { ...base, ...formErrors([]) })
    const parsed = referralQuerySchema.safeParse(req.query)
    if (!parsed.success) {
      return res.status(400).render('pages/dps-referral', {
        ...base,
        ...formErrors(fieldErrors(parsed.error), { type: 'type', needs: 'needs' }),
      })
    }
    const referral = (await services.dps.referral(framework.id, toPenPicture(parsed.data))) as ReferralView
    res.render('pages/dps-referral', {
      ...base,
      ...formErrors([]),
      results: referralResults(referral, parsed.data, role, {
        today: services.clock.today(),
        staleAfterDays: (await services.risk.activeRuleSet()).ruleSet.indicators.cqc_rating.staleAfterDays,
      }),
      summary: `${serviceTypeLabel(parsed.data.type)} in ${parsed.data.area}${
        parsed.data.weeklyHours ? `, ${parsed.data.weeklyHours} hours a week` : ''
      }${parsed.data.startDate ? `, from ${formatDate(parsed.data.startDate)}` : ''}${
        parsed.data.needs?.length ? `, needs: ${parsed.data.needs.map(wordsLabel).join(', ')}` : ''
      }`,
    })
  })

  router.get('/dps/:id/awards/new', compliance, async (req, res, next) => {
    const framework = await frameworkOr404(services, req, next)
    if (!framework) return
    const prefill = awardPrefillSchema.catch({}).parse(req.query)
    renderAwardForm(res, framework, { ...prefill } as Record<string, string>)
  })

  router.post('/dps/:id/awards', compliance, async (req, res, next) => {
    const framework = await frameworkOr404(services, req, next)
    if (!framework) return
    const values = formValues(req.body)
    const parsed = awardInputSchema.safeParse(req.body ?? {})
    if (!parsed.success) return renderAwardForm(res, framework, values, fieldErrors(parsed.error), 400)
    const outcome = await services.dps.award(framework.id, parsed.data, actorOf(req.user!))
    if (outcome.ok) return res.redirect(303, `/dps/${framework.id}?awarded=${outcome.award.id}`)
    if (outcome.refused === 'ineligible') {
      const errors = causesFirst(outcome.failingGates).map((gate) => ({ field: 'serviceRef', message: gate.reason }))
      return renderAwardForm(res, framework, values, errors, 409, {
        title: `${parsed.data.serviceRef} cannot receive new packages under this lot`,
        description: 'Nothing was recorded. The service fails these conditions of the DPS:',
      })
    }
    const field = outcome.field ?? 'serviceRef'
    return renderAwardForm(
      res,
      framework,
      values,
      [{ field, message: outcome.message }],
      outcome.refused === 'duplicate_reference' ? 409 : 400,
    )
  })

  return router
}

type TaskView = NonNullable<Awaited<ReturnType<Services['dps']['findTask']>>>

/** The membership now, for a task opened when it lost eligibility: it may have been regained or the member suspended. */
function taskNow(task: TaskView): { tag: { text: string; classes: string }; lines: string[] } | null {
  if (task.membershipStatus === null) return null
  if (task.membershipStatus !== 'admitted') {
    return { tag: membershipTag(task.membershipStatus), lines: [] }
  }
  if (task.eligibleNow === null) return null
  return task.eligibleNow
    ? { tag: { text: 'Eligible again', classes: 'govuk-tag--green' }, lines: [] }
    : { tag: eligibilityTag(false), lines: causesFirst(task.failingNow).map((gate) => gate.reason) }
}

function taskViewModel(task: TaskView, values: Record<string, string>, errors: FieldError[] = [], isAdmin = false) {
  return {
    pageTitle: `Review membership: ${task.serviceName}`,
    backLink: { href: '/dps', text: 'Back to DPS' },
    task: {
      id: task.id,
      serviceRef: task.serviceRef,
      serviceName: task.serviceName,
      dpsId: task.dpsId,
      where: task.lotName ? `${task.lotName} (${task.dpsName})` : '',
      reason: task.note ?? '',
      openedOn: formatDate(task.openedAt),
      closed: task.closedAt !== null,
      closedOn: formatDate(task.closedAt),
      closedBy: task.closedBy,
      now: taskNow(task),
      changeHref:
        isAdmin && task.dpsId !== null && task.membershipId !== null
          ? `/admin/dps/${task.dpsId}/members/${task.membershipId}`
          : null,
    },
    values,
    ...formErrors(errors),
  }
}
