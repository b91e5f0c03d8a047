import { Router, type Request } from 'express'
import { z } from 'zod'
import { requireRole } from '../auth/authentication.js'
import { actorOf } from '../auth/requestUser.js'
import type { Service } from '../data/services.js'
import { ASSESSMENT_OUTCOMES } from '../domain/vocabulary.js'
import { DOMAIN_NAMES, assessmentCycle, type Assessment, type AssessmentStatus } from '../services/assessmentService.js'
import type { Services } from '../services/container.js'
import type { FieldProblem } from '../services/intelligenceService.js'
import { formatDate, formatDateTime, ragTag, sourceLabel, withQuery } from './display.js'
import {
  ENTRY_ROLES,
  datePartsOf,
  datePartsSchema,
  errorView,
  formText,
  isoFromParts,
  parseId,
  parseRef,
  partsOfIso,
  problemText,
  riskView,
  type DateParts,
  type FormError,
} from './intelligence.js'
import { decimal } from '../domain/strictInput.js'

const OUTCOME_LABELS: Record<string, string> = {
  excellent: 'Excellent',
  good: 'Good',
  requires_improvement: 'Requires Improvement',
  poor: 'Poor',
}
const STATUS_LABELS: Record<AssessmentStatus, string> = {
  draft: 'Draft',
  challenge: 'Factual-accuracy challenge',
  published: 'Published',
}
const STATUS_TAGS: Record<AssessmentStatus, string> = {
  draft: 'govuk-tag--grey',
  challenge: 'govuk-tag--yellow',
  published: 'govuk-tag--green',
}
const DOMAIN_FIELDS = ['domain_1', 'domain_2', 'domain_3', 'domain_4', 'domain_5'] as const
const PAGE_SIZE = 100

function outcomeLabel(outcome: string | null): string {
  return outcome === null ? '' : (OUTCOME_LABELS[outcome] ?? outcome.replaceAll('_', ' '))
}

const assessmentFormSchema = z.object({
  ...datePartsSchema('assessment_date'),
  outcome: formText,
  assessor: formText,
  domain_1: formText,
  domain_2: formText,
  domain_3: formText,
  domain_4: formText,
  domain_5: formText,
  stage: formText,
})

interface FormValues {
  date: DateParts
  outcome: string
  assessor: string
  domains: string[]
  stage: string
}

const FIELD_LABELS: Record<string, string> = {
  assessment_date: 'Date of the assessment',
  outcome: 'Outcome',
  assessor: 'Assessor',
  stage: 'Stage',
  providerAccepted: 'Provider acceptance',
  ...Object.fromEntries(DOMAIN_FIELDS.map((field, i) => [field, `Rating for ${DOMAIN_NAMES[i]}`])),
}
const FIELD_HREF: Record<string, string> = {
  assessment_date: '#assessment_date-day',
  outcome: '#outcome',
  assessor: '#assessor',
  stage: '#stage',
  providerAccepted: '#providerAccepted',
  ...Object.fromEntries(DOMAIN_FIELDS.map((field) => [field, `#${field}`])),
}

function toErrors(problems: FieldProblem[]): FormError[] {
  return problems.map((p) => ({
    field: p.field,
    text: problemText(FIELD_LABELS[p.field] ?? '', p.message),
    href: FIELD_HREF[p.field] ?? '#assessment_date-day',
  }))
}

function readForm(body: unknown, isNew: boolean) {
  const errors: FormError[] = []
  const parsed = assessmentFormSchema.safeParse(body ?? {})
  const form = parsed.success ? parsed.data : {}
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0] ?? 'assessment_date').replace(/-(day|month|year)$/, '')
      errors.push(...toErrors([{ field, message: issue.message }]))
    }
  }
  const text = form as Record<string, string | undefined>
  const values: FormValues = {
    date: datePartsOf(text, 'assessment_date'),
    outcome: (text.outcome ?? '').trim(),
    assessor: (text.assessor ?? '').trim(),
    domains: DOMAIN_FIELDS.map((field) => (text[field] ?? '').trim()),
    stage: (text.stage ?? '').trim(),
  }
  const fields: Record<string, string> = { outcome: values.outcome, assessor: values.assessor }
  DOMAIN_FIELDS.forEach((field, i) => (fields[field] = values.domains[i] ?? ''))
  const date = isoFromParts(values.date, FIELD_LABELS.assessment_date as string)
  if (date.ok) fields.assessment_date = date.iso ?? ''
  else if (!errors.some((e) => e.field === 'assessment_date')) {
    errors.push({ field: 'assessment_date', text: date.message, href: FIELD_HREF.assessment_date as string })
  }
  let stage: 'draft' | 'published' = 'draft'
  if (isNew) {
    if (values.stage === 'draft' || values.stage === 'published') stage = values.stage
    else if (!errors.some((e) => e.field === 'stage')) {
      errors.push({
        field: 'stage',
        text: 'Select whether the assessment is a draft or already published',
        href: '#stage',
      })
    }
  }
  return { values, fields, stage, errors }
}

function valuesOf(assessment: Assessment): FormValues {
  return {
    date: partsOfIso(assessment.date),
    outcome: assessment.outcome,
    assessor: assessment.assessor ?? '',
    domains: assessment.domains.map((d) => d ?? ''),
    stage: assessment.status,
  }
}

function emptyValues(): FormValues {
  return {
    date: { day: '', month: '', year: '' },
    outcome: '',
    assessor: '',
    domains: ['', '', '', '', ''],
    stage: 'draft',
  }
}

function formView(service: Service, values: FormValues, errors: FormError[], editing: Assessment | null) {
  const { errorList, fieldErrors } = errorView(errors)
  const base = `/services/${encodeURIComponent(service.ref)}/assessments`
  return {
    pageTitle: editing ? 'Change a quality assessment' : 'Record a quality assessment',
    backLink: { href: editing ? `${base}/${editing.id}` : base, text: 'Back' },
    service: { ref: service.ref, name: service.name },
    action: editing ? `${base}/${editing.id}/edit` : base,
    editing: editing !== null,
    errorList,
    fieldErrors,
    dateValues: values.date,
    outcomes: ASSESSMENT_OUTCOMES.map((value) => ({
      value,
      text: OUTCOME_LABELS[value],
      checked: value === values.outcome,
    })),
    assessor: values.assessor,
    domains: DOMAIN_FIELDS.map((field, i) => ({
      id: field,
      label: DOMAIN_NAMES[i],
      error: fieldErrors[field],
      items: [
        { value: '', text: 'Not rated' },
        ...ASSESSMENT_OUTCOMES.map((value) => ({
          value,
          text: OUTCOME_LABELS[value],
          selected: value === values.domains[i],
        })),
      ],
    })),
    stages: [
      {
        value: 'draft',
        text: 'Draft',
        hint: { text: 'The provider will have 14 days to challenge its factual accuracy before it is published' },
        checked: values.stage === 'draft',
      },
      {
        value: 'published',
        text: 'Published',
        hint: { text: 'Its cycle has already run: it counts toward the risk rating at once' },
        checked: values.stage === 'published',
      },
    ],
  }
}

function assessmentView(assessment: Assessment, today: string, timeZone: string) {
  const cycle = assessmentCycle(assessment, today)
  return {
    id: assessment.id,
    date: formatDate(assessment.date),
    outcome: outcomeLabel(assessment.outcome),
    assessor: assessment.assessor,
    domains: assessment.domains.map((rating, i) => ({
      name: DOMAIN_NAMES[i],
      rating: outcomeLabel(rating) || 'Not rated',
    })),
    status: { text: STATUS_LABELS[assessment.status], classes: STATUS_TAGS[assessment.status] },
    counted: cycle.counted,
    challengeStartedOn: formatDate(assessment.challengeStartedOn),
    challengeEndsOn: formatDate(assessment.challengeEndsOn),
    challengeDaysLeft: cycle.challengeDaysLeft,
    challengeOver: cycle.challengeOver,
    publishedOn: formatDate(assessment.publishedOn),
    canStartChallenge: cycle.canStartChallenge,
    canPublish: cycle.canPublish,
    needsFollowUp: cycle.needsFollowUp,
    actionPlanDueOn: formatDate(cycle.actionPlanDueOn),
    actionPlanOverdue: cycle.actionPlanDueOn !== null && cycle.actionPlanDueOn < today,
    reassessmentDueOn: formatDate(cycle.reassessmentDueOn),
    source: sourceLabel(assessment.source),
    enteredBy: assessment.enteredBy,
    recordedAt: formatDateTime(assessment.recordedAt, timeZone),
    live: assessment.supersededById === null,
  }
}

/** Quality assessment pages (SPEC §8): the cycle, and the due-next queue. Compliance officers and admins only. */
export function assessmentRoutes(services: Services): Router {
  const router = Router()
  const guard = requireRole(...ENTRY_ROLES)
  const tz = services.config.TZ
  const base = (service: Service) => `/services/${encodeURIComponent(service.ref)}/assessments`
  const context = (req: Request) => ({ actor: actorOf(req.user!), source: 'council_form' as const })
  const serviceOf = async (req: Request) => {
    const ref = parseRef(req)
    return ref ? services.assessments.findService(ref) : null
  }

  router.get('/assessments', guard, (_req, res) => res.redirect(303, '/assessments/due'))

  router.get('/assessments/due', guard, async (req, res) => {
    const page = decimal(z.number().int().min(1).max(100_000).default(1)).safeParse(req.query.page)
    if (!page.success) {
      return res.status(400).render('pages/bad-request', {
        pageTitle: 'There is a problem with the page number',
        errors: [{ field: 'page', message: 'must be a whole number of 1 or more' }],
        backHref: '/assessments/due',
      })
    }
    const view = await services.assessments.dueNext()
    const pageCount = Math.max(1, Math.ceil(view.rows.length / PAGE_SIZE))
    const current = Math.min(page.data, pageCount)
    const rows = view.rows.slice((current - 1) * PAGE_SIZE, current * PAGE_SIZE)
    res.render('pages/due-next', {
      pageTitle: 'Quality assessments due next',
      asOf: formatDate(view.asOf),
      total: view.rows.length,
      neverAssessed: view.rows.filter((row) => row.neverAssessed && row.dueOn !== null).length,
      overdue: view.rows.filter((row) => (row.daysOverdue ?? 0) > 0).length,
      rows: rows.map((row) => ({
        rank: row.rank,
        ref: row.ref,
        name: row.name,
        providerName: row.providerName,
        tag: row.notComputed ? ragTag(null) : ragTag(row.rag),
        lastAssessed: row.lastAssessmentDate ? formatDate(row.lastAssessmentDate) : 'Never',
        lastOutcome: outcomeLabel(row.lastOutcome),
        dueOn: row.dueOn ? formatDate(row.dueOn) : 'Not scheduled',
        overdue: (row.daysOverdue ?? 0) > 0,
        reason: row.reason,
        actionPlanDueOn: formatDate(row.actionPlanDueOn),
        reassessmentDueOn: formatDate(row.reassessmentDueOn),
      })),
      inCycle: view.inCycle.map((item) => ({
        ref: item.ref,
        name: item.name,
        ...assessmentView(item.assessment, view.asOf, tz),
      })),
      pagination: {
        previous: current > 1 ? withQuery('/assessments/due', {}, { page: current - 1 }) : null,
        next: current < pageCount ? withQuery('/assessments/due', {}, { page: current + 1 }) : null,
        page: current,
        pageCount,
      },
    })
  })

  router.get('/services/:ref/assessments', guard, async (req, res, next) => {
    const service = await serviceOf(req)
    if (!service) return next()
    const today = services.clock.today()
    const all = await services.assessments.assessmentsFor(service.id)
    res.render('pages/assessment-list', {
      pageTitle: `Quality assessments: ${service.name}`,
      backLink: { href: `/services/${encodeURIComponent(service.ref)}`, text: 'Back to the service' },
      service: { ref: service.ref, name: service.name },
      current: all.filter((a) => a.supersededById === null).map((a) => assessmentView(a, today, tz)),
      earlier: all.filter((a) => a.supersededById !== null).map((a) => assessmentView(a, today, tz)),
    })
  })

  /** The form's own errors, then the service's validation of the rest (one message per field). */
  const allFormErrors = (service: Service, form: ReturnType<typeof readForm>) => {
    const others = services.assessments
      .validate(service, form.fields)
      .filter((p) => !form.errors.some((e) => e.field === p.field))
    return [...form.errors, ...toErrors(others)]
  }

  /** The service of the path and its assessment `:id`; either null when there is no such thing. */
  const serviceAndAssessment = async (req: Request) => {
    const service = await serviceOf(req)
    const id = parseId(req.params.id)
    const assessment = service && id ? await services.assessments.assessment(service.id, id) : null
    return { service, assessment }
  }

  router.get('/services/:ref/assessments/new', guard, async (req, res, next) => {
    const service = await serviceOf(req)
    if (!service) return next()
    res.render('pages/assessment-form', formView(service, emptyValues(), [], null))
  })

  router.post('/services/:ref/assessments', guard, async (req, res, next) => {
    const service = await serviceOf(req)
    if (!service) return next()
    const form = readForm(req.body, true)
    if (form.errors.length > 0) {
      return res
        .status(400)
        .render('pages/assessment-form', formView(service, form.values, allFormErrors(service, form), null))
    }
    const outcome = await services.assessments.record(service.ref, form.fields, form.stage, context(req))
    if (!outcome.ok) {
      return res
        .status(outcome.status)
        .render('pages/assessment-form', formView(service, form.values, toErrors(outcome.problems), null))
    }
    res.redirect(303, `${base(service)}/${outcome.assessment.id}?saved=recorded`)
  })

  router.get('/services/:ref/assessments/:id', guard, async (req, res, next) => {
    const { service, assessment } = await serviceAndAssessment(req)
    if (!service || !assessment) return next()
    const today = services.clock.today()
    const versions = await services.assessments.versionsOf(service.id, assessment.id)
    const current = await services.runs.current(service.id)
    const saved = typeof req.query.saved === 'string' && /^[a-z_]{1,20}$/.test(req.query.saved) ? req.query.saved : null
    res.render(
      'pages/assessment',
      assessmentPage(service, assessment, versions, today, current?.result ?? null, saved, [], tz),
    )
  })

  router.get('/services/:ref/assessments/:id/edit', guard, async (req, res, next) => {
    const { service, assessment } = await serviceAndAssessment(req)
    if (!service || !assessment) return next()
    if (assessment.supersededById !== null) return res.redirect(303, `${base(service)}/${assessment.id}`)
    res.render('pages/assessment-form', formView(service, valuesOf(assessment), [], assessment))
  })

  router.post('/services/:ref/assessments/:id/edit', guard, async (req, res, next) => {
    const { service, assessment } = await serviceAndAssessment(req)
    if (!service || !assessment) return next()
    const form = readForm(req.body, false)
    if (form.errors.length > 0) {
      return res
        .status(400)
        .render('pages/assessment-form', formView(service, form.values, allFormErrors(service, form), assessment))
    }
    const outcome = await services.assessments.edit(service.ref, assessment.id, form.fields, context(req))
    if (!outcome.ok) {
      return res
        .status(outcome.status)
        .render('pages/assessment-form', formView(service, form.values, toErrors(outcome.problems), assessment))
    }
    res.redirect(303, `${base(service)}/${outcome.assessment.id}?saved=changed`)
  })

  const statusSchema = z.object({
    action: z.enum(['challenge', 'publish'], { error: 'must be challenge or publish' }),
    providerAccepted: z.enum(['yes'], { error: 'must be yes when given' }).optional(),
  })

  router.post('/services/:ref/assessments/:id/status', guard, async (req, res, next) => {
    const { service, assessment } = await serviceAndAssessment(req)
    if (!service || !assessment) return next()
    const today = services.clock.today()
    const rerender = async (status: number, problems: FieldProblem[]) => {
      const versions = await services.assessments.versionsOf(service.id, assessment.id)
      const current = await services.runs.current(service.id)
      res
        .status(status)
        .render(
          'pages/assessment',
          assessmentPage(service, assessment, versions, today, current?.result ?? null, null, problems, tz),
        )
    }
    const parsed = statusSchema.safeParse(req.body ?? {})
    if (!parsed.success) {
      return rerender(
        400,
        parsed.error.issues.map((issue) => ({ field: String(issue.path[0] ?? 'action'), message: issue.message })),
      )
    }
    const outcome = await services.assessments.changeStatus(
      service.ref,
      assessment.id,
      parsed.data.action,
      { providerAccepted: parsed.data.providerAccepted === 'yes' },
      context(req),
    )
    if (!outcome.ok) return rerender(outcome.status, outcome.problems)
    const saved = parsed.data.action === 'challenge' ? 'challenge' : 'published'
    res.redirect(303, `${base(service)}/${outcome.assessment.id}?saved=${saved}`)
  })

  return router
}

function actionPlanHref(service: Service, assessment: Assessment, today: string): string | null {
  const cycle = assessmentCycle(assessment, today)
  if (!cycle.needsFollowUp || cycle.actionPlanDueOn === null || assessment.supersededById !== null) return null
  return `/services/${encodeURIComponent(service.ref)}/actions/new?kind=action_plan&due=${cycle.actionPlanDueOn}`
}

function assessmentPage(
  service: Service,
  assessment: Assessment,
  versions: Assessment[],
  today: string,
  risk: Parameters<typeof riskView>[0],
  saved: string | null,
  problems: FieldProblem[],
  timeZone: string,
) {
  const { errorList, fieldErrors } = errorView(toErrors(problems))
  const base = `/services/${encodeURIComponent(service.ref)}/assessments`
  const SAVED_TEXT: Record<string, string> = {
    recorded: 'Assessment saved.',
    changed: 'New version saved.',
    challenge: 'Sent to the provider for factual-accuracy challenge.',
    published: 'Assessment published.',
  }
  return {
    pageTitle: `Quality assessment: ${service.name}`,
    backLink: { href: base, text: 'All assessments for this service' },
    service: { ref: service.ref, name: service.name },
    saved: saved ? (SAVED_TEXT[saved] ?? null) : null,
    risk: riskView(risk),
    assessment: assessmentView(assessment, today, timeZone),
    latestId: versions[0]?.id ?? assessment.id,
    versions: versions.map((v) => ({ ...assessmentView(v, today, timeZone), shown: v.id === assessment.id })),
    statusAction: `${base}/${assessment.id}/status`,
    editHref: `${base}/${assessment.id}/edit`,
    // Requires Improvement or Poor: the action plan it needs, due 14 days after it (SPEC §8).
    actionPlanHref: actionPlanHref(service, assessment, today),
    errorList,
    fieldErrors,
  }
}
