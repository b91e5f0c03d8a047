import { Router, type Request } from 'express'
import { z } from 'zod'
import { requireRole } from '../auth/authentication.js'
import { actorOf } from '../auth/requestUser.js'
import type { Service } from '../data/services.js'
import type { RiskResult } from '../domain/riskResult.js'
import { INTELLIGENCE_KINDS, INTELLIGENCE_KIND_LABELS, type IntelligenceKind } from '../domain/vocabulary.js'
import { INTELLIGENCE_RULES } from '../ingest/council/index.js'
import type { Services } from '../services/container.js'
import type { FieldProblem, IntelligenceEntry } from '../services/intelligenceService.js'
import { formatDate, formatDateTime, ragTag, sourceLabel } from './display.js'
import { positiveId } from '../domain/strictInput.js'

/** Entry forms are for compliance officers and admins; assessors never see them (SPEC §1). */
export const ENTRY_ROLES = ['compliance', 'admin'] as const

// ---- Form helpers shared with the assessment forms ----

/** A form field as posted: one string, or absent. A repeated field (an array) is refused. */
export const formText = z.string({ error: 'must be a single value' }).optional()

/** The day, month and year boxes of a GOV.UK date input named `name`: `name-day`, `name-month`, `name-year`. */
export function datePartsSchema(name: string) {
  return {
    [`${name}-day`]: formText,
    [`${name}-month`]: formText,
    [`${name}-year`]: formText,
  }
}

export interface DateParts {
  day: string
  month: string
  year: string
}

export function datePartsOf(body: Record<string, string | undefined>, name: string): DateParts {
  const part = (unit: string) => (body[`${name}-${unit}`] ?? '').trim()
  return { day: part('day'), month: part('month'), year: part('year') }
}

export function partsOfIso(iso: string | null | undefined): DateParts {
  const [year = '', month = '', day = ''] = iso ? iso.split('-') : []
  return { day: day.replace(/^0/, ''), month: month.replace(/^0/, ''), year }
}

/**
 * A GOV.UK date input as an ISO date: null when left blank, or the message the Design System's date input
 * guidance gives ("must include a month", "must be a real date").
 */
export function isoFromParts(
  parts: DateParts,
  label: string,
): { ok: true; iso: string | null } | { ok: false; message: string } {
  const missing = (['day', 'month', 'year'] as const).filter((unit) => parts[unit] === '')
  if (missing.length === 3) return { ok: true, iso: null }
  if (missing.length > 0) return { ok: false, message: `${label} must include a ${missing.join(' and ')}` }
  if (!/^\d{1,2}$/.test(parts.day) || !/^\d{1,2}$/.test(parts.month) || !/^\d{4}$/.test(parts.year)) {
    return { ok: false, message: `${label} must be a real date` }
  }
  const iso = `${parts.year}-${parts.month.padStart(2, '0')}-${parts.day.padStart(2, '0')}`
  const date = new Date(`${iso}T00:00:00Z`)
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== iso) {
    return { ok: false, message: `${label} must be a real date` }
  }
  return { ok: true, iso }
}

/** A service's problem for a field as a sentence for the error summary: "Outcome is required for ...". */
export function problemText(label: string, message: string): string {
  if (label === '') return message.charAt(0).toUpperCase() + message.slice(1)
  const reason = message.startsWith('is blank') ? 'is required' : message
  return /^(is|must|has|contains) /.test(reason) ? `${label} ${reason}` : `${label}: ${reason}`
}

export interface FormError {
  field: string
  text: string
  href: string
}

/** The error summary's list and each field's inline message, from problems in field order. */
export function errorView(errors: FormError[]) {
  const byField: Record<string, string> = {}
  for (const error of errors) byField[error.field] ??= error.text
  return { errorList: errors.map(({ text, href }) => ({ text, href })), fieldErrors: byField }
}

const refSchema = z.string().trim().min(1).max(100)
const idSchema = positiveId

export function parseRef(req: Request): string | null {
  const ref = refSchema.safeParse(req.params.ref)
  return ref.success ? ref.data : null
}

export function parseId(raw: unknown): number | null {
  const id = idSchema.safeParse(raw)
  return id.success ? id.data : null
}

/** The RAG after a write, for the confirmation. */
export function riskView(risk: RiskResult | null) {
  return risk
    ? {
        tag: ragTag(risk.rag),
        overridden: Boolean(risk.override),
        computedTag: ragTag(risk.computedRag),
        reasons: risk.reasons,
      }
    : null
}

// ---- Intelligence entry ----

interface OutcomeField {
  type: 'radios' | 'text'
  label: string
  hint?: string
  options?: Array<{ value: string; text: string }>
}

interface KindForm {
  noun: string
  dateLabel: string
  dateHint: string
  endDate?: { label: string; hint: string }
  outcome?: OutcomeField
}

const OUTCOME_TEXT: Record<string, string> = {
  substantiated: 'Substantiated',
  not_substantiated: 'Not substantiated',
  inconclusive: 'Inconclusive',
  open: 'Open (not yet concluded)',
}

function outcomeOptions(kind: IntelligenceKind) {
  const outcomes = INTELLIGENCE_RULES[kind].outcomes
  return Array.isArray(outcomes) ? outcomes.map((value) => ({ value, text: OUTCOME_TEXT[value] ?? value })) : []
}

/** What each kind's form asks (SPEC §9's table of kinds). */
export const KIND_FORMS: Record<IntelligenceKind, KindForm> = {
  safeguarding_decision: {
    noun: 'safeguarding decision',
    dateLabel: 'Date of the decision to proceed to enquiry',
    dateHint: 'For example, 14 3 2026',
    outcome: {
      type: 'radios',
      label: 'Outcome of the enquiry (optional)',
      options: outcomeOptions('safeguarding_decision'),
    },
  },
  embargo: {
    noun: 'embargo on new placements',
    dateLabel: 'Start date of the embargo',
    dateHint: 'For example, 14 3 2026',
    endDate: {
      label: 'Date the embargo was or will be lifted',
      hint: 'Leave blank while the embargo is in force. A date in the future lifts it on that day.',
    },
  },
  default_notice: {
    noun: 'contract default notice',
    dateLabel: 'Date the notice was issued',
    dateHint: 'For example, 14 3 2026',
    endDate: { label: 'Date the notice was resolved', hint: 'Leave blank while the notice is open.' },
  },
  unexpected_death: {
    noun: 'unexpected death',
    dateLabel: 'Date of death',
    dateHint: 'For example, 14 3 2026',
    outcome: { type: 'text', label: 'Outcome or finding (optional)', hint: 'For example, referred to the coroner' },
  },
  contract_concern: {
    noun: 'contract concern',
    dateLabel: 'Date the concern was raised',
    dateHint: 'For example, 14 3 2026',
    outcome: { type: 'radios', label: 'Outcome', options: outcomeOptions('contract_concern') },
  },
  manager_vacancy: {
    noun: 'registered manager vacancy',
    dateLabel: 'Date the post became vacant',
    dateHint: 'For example, 14 3 2026',
    endDate: { label: 'Date the post was filled', hint: 'Leave blank while the post is vacant.' },
  },
}

const kindSchema = z.enum(INTELLIGENCE_KINDS)

const entryFormSchema = z.object({
  kind: formText,
  ...datePartsSchema('date'),
  ...datePartsSchema('end_date'),
  outcome: formText,
  reference: formText,
  notes: formText,
})
type EntryForm = z.infer<typeof entryFormSchema>

interface FormValues {
  date: DateParts
  endDate: DateParts
  outcome: string
  reference: string
  notes: string
}

function emptyValues(): FormValues {
  const blank = { day: '', month: '', year: '' }
  return { date: blank, endDate: blank, outcome: '', reference: '', notes: '' }
}

function valuesOfEntry(entry: IntelligenceEntry): FormValues {
  return {
    date: partsOfIso(entry.date),
    endDate: partsOfIso(entry.endDate),
    outcome: entry.outcome ?? '',
    reference: entry.reference ?? '',
    notes: entry.notes ?? '',
  }
}

function fieldLabel(kind: IntelligenceKind, field: string): string {
  const form = KIND_FORMS[kind]
  switch (field) {
    case 'date':
      return form.dateLabel
    case 'end_date':
      return form.endDate?.label ?? 'End date'
    case 'outcome':
      return form.outcome?.label.replace(' (optional)', '') ?? 'Outcome'
    case 'reference':
      return 'Reference'
    case 'notes':
      return 'Notes'
    default:
      return ''
  }
}

const FIELD_HREF: Record<string, string> = {
  date: '#date-day',
  end_date: '#end_date-day',
  outcome: '#outcome',
  reference: '#reference',
  notes: '#notes',
}

function hrefOf(field: string): string {
  return FIELD_HREF[field] ?? '#date-day'
}

/**
 * Reads a posted entry form: the CSV-named fields for the service, plus the errors of the form itself (a date with
 * no month, a field sent twice). Fields whose boxes are wrong are left out, so the service still reports the rest.
 */
function readEntryForm(kind: IntelligenceKind, body: unknown) {
  const errors: FormError[] = []
  const parsed = entryFormSchema.safeParse(body ?? {})
  const form: EntryForm = parsed.success ? parsed.data : {}
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0] ?? 'date').replace(/-(day|month|year)$/, '')
      errors.push({ field, text: problemText(fieldLabel(kind, field), issue.message), href: hrefOf(field) })
    }
  }
  const text = form as Record<string, string | undefined>
  const values: FormValues = {
    date: datePartsOf(text, 'date'),
    endDate: datePartsOf(text, 'end_date'),
    outcome: (form.outcome ?? '').trim(),
    reference: (form.reference ?? '').trim(),
    notes: (form.notes ?? '').trim(),
  }
  const fields: Record<string, string> = {
    kind,
    outcome: values.outcome,
    reference: values.reference,
    notes: values.notes,
  }
  const dates: Array<[string, DateParts, boolean]> = [
    ['date', values.date, true],
    ['end_date', values.endDate, KIND_FORMS[kind].endDate !== undefined],
  ]
  for (const [field, parts, asked] of dates) {
    if (!asked) continue
    const result = isoFromParts(parts, fieldLabel(kind, field))
    if (result.ok) fields[field] = result.iso ?? ''
    else if (!errors.some((e) => e.field === field)) errors.push({ field, text: result.message, href: hrefOf(field) })
  }
  return { values, fields, errors }
}

function problemsToErrors(kind: IntelligenceKind, problems: FieldProblem[]): FormError[] {
  return problems.map((p) => ({
    field: p.field,
    text: problemText(fieldLabel(kind, p.field), p.message),
    href: hrefOf(p.field),
  }))
}

function entryView(entry: IntelligenceEntry, timeZone: string, today: string) {
  const form = KIND_FORMS[entry.kind]
  return {
    id: entry.id,
    kind: entry.kind,
    kindLabel: INTELLIGENCE_KIND_LABELS[entry.kind],
    date: formatDate(entry.date),
    dateLabel: form.dateLabel,
    endDate: entry.endDate ? formatDate(entry.endDate) : null,
    endDateLabel: form.endDate?.label ?? null,
    outcome: entry.outcome ? (OUTCOME_TEXT[entry.outcome] ?? entry.outcome.replaceAll('_', ' ')) : null,
    reference: entry.reference,
    notes: entry.notes,
    source: sourceLabel(entry.source),
    enteredBy: entry.enteredBy,
    recordedAt: formatDateTime(entry.recordedAt, timeZone),
    live: entry.supersededById === null,
    status: entryStatus(entry, today),
  }
}

function entryStatus(entry: IntelligenceEntry, today: string): string | null {
  switch (entry.kind) {
    case 'embargo':
      if (entry.endDate === null) return 'In force'
      return entry.endDate > today
        ? `In force until ${formatDate(entry.endDate)}`
        : `Lifted ${formatDate(entry.endDate)}`
    case 'default_notice':
      return entry.endDate === null ? 'Open' : `Resolved ${formatDate(entry.endDate)}`
    case 'manager_vacancy':
      return entry.endDate === null ? 'Vacant' : `Filled ${formatDate(entry.endDate)}`
    default:
      return null
  }
}

function formView(
  service: Service,
  kind: IntelligenceKind,
  values: FormValues,
  errors: FormError[],
  editing: IntelligenceEntry | null,
) {
  const form = KIND_FORMS[kind]
  const { errorList, fieldErrors } = errorView(errors)
  const outcome = form.outcome
  return {
    pageTitle: editing ? `Change the ${form.noun}` : `Record ${/^[aeiou]/.test(form.noun) ? 'an' : 'a'} ${form.noun}`,
    backLink: {
      href: editing
        ? `/services/${encodeURIComponent(service.ref)}/intelligence/${editing.id}`
        : `/services/${encodeURIComponent(service.ref)}/intelligence`,
      text: 'Back',
    },
    service: { ref: service.ref, name: service.name },
    action: editing
      ? `/services/${encodeURIComponent(service.ref)}/intelligence/${editing.id}/edit`
      : `/services/${encodeURIComponent(service.ref)}/intelligence`,
    kind,
    editing: editing !== null,
    errorList,
    fieldErrors,
    date: { legend: form.dateLabel, hint: form.dateHint, values: values.date },
    endDate: form.endDate ? { legend: form.endDate.label, hint: form.endDate.hint, values: values.endDate } : null,
    outcomeRadios:
      outcome?.type === 'radios'
        ? {
            legend: outcome.label,
            items: (outcome.options ?? []).map((option) => ({
              value: option.value,
              text: option.text,
              checked: option.value === values.outcome,
            })),
          }
        : null,
    outcomeText: outcome?.type === 'text' ? { label: outcome.label, hint: outcome.hint, value: values.outcome } : null,
    reference: values.reference,
    notes: values.notes,
  }
}

function kindChoiceView(service: Service | null, serviceRef: string, kind: string, errors: FormError[]) {
  const { errorList, fieldErrors } = errorView(errors)
  return {
    pageTitle: 'Record intelligence',
    service: service ? { ref: service.ref, name: service.name } : null,
    action: service ? `/services/${encodeURIComponent(service.ref)}/intelligence/new` : '/intelligence',
    backLink: service ? { href: `/services/${encodeURIComponent(service.ref)}/intelligence`, text: 'Back' } : null,
    serviceRef,
    kinds: INTELLIGENCE_KINDS.map((value) => ({
      value,
      text: INTELLIGENCE_KIND_LABELS[value],
      checked: value === kind,
    })),
    errorList,
    fieldErrors,
  }
}

/** Intelligence entry pages (SPEC §7): compliance officers and admins only. */
export function intelligenceRoutes(services: Services): Router {
  const router = Router()
  const guard = requireRole(...ENTRY_ROLES)
  const tz = services.config.TZ
  const base = (service: Service) => `/services/${encodeURIComponent(service.ref)}/intelligence`
  const context = (req: Request) => ({ actor: actorOf(req.user!), source: 'council_form' as const })

  /** Start page: name a service and the kind of intelligence. */
  router.get('/intelligence', guard, async (req, res) => {
    const query = z.object({ service: formText, kind: formText }).safeParse(req.query)
    const serviceRef = query.success ? (query.data.service ?? '').trim() : ''
    const kind = query.success ? (query.data.kind ?? '') : ''
    if (!query.success || (req.query.service === undefined && req.query.kind === undefined)) {
      return res.render('pages/intelligence-start', kindChoiceView(null, serviceRef, kind, []))
    }
    const errors: FormError[] = []
    const service =
      serviceRef === '' || serviceRef.length > 100 ? null : await services.intelligence.findService(serviceRef)
    if (serviceRef === '') errors.push({ field: 'service', text: 'Enter the service reference', href: '#service' })
    else if (!service)
      errors.push({ field: 'service', text: `There is no service ${serviceRef.slice(0, 100)}`, href: '#service' })
    const chosen = kindSchema.safeParse(kind)
    if (!chosen.success) errors.push({ field: 'kind', text: 'Select the kind of intelligence', href: '#kind' })
    if (errors.length > 0 || !service || !chosen.success) {
      return res.status(400).render('pages/intelligence-start', kindChoiceView(null, serviceRef, kind, errors))
    }
    res.redirect(303, `${base(service)}/new?kind=${chosen.data}`)
  })

  /** A service's intelligence entries, with their earlier versions. */
  router.get('/services/:ref/intelligence', guard, async (req, res, next) => {
    const ref = parseRef(req)
    const service = ref ? await services.intelligence.findService(ref) : null
    if (!service) return next()
    const entries = await services.intelligence.entriesFor(service.id)
    res.render('pages/intelligence-list', {
      pageTitle: `Intelligence: ${service.name}`,
      backLink: { href: `/services/${encodeURIComponent(service.ref)}`, text: 'Back to the service' },
      service: { ref: service.ref, name: service.name },
      current: entries.filter((e) => e.supersededById === null).map((e) => entryView(e, tz, services.clock.today())),
      earlier: entries.filter((e) => e.supersededById !== null).map((e) => entryView(e, tz, services.clock.today())),
      kinds: INTELLIGENCE_KINDS.map((kind) => ({ kind, text: INTELLIGENCE_KIND_LABELS[kind] })),
    })
  })

  router.get('/services/:ref/intelligence/new', guard, async (req, res, next) => {
    const ref = parseRef(req)
    const service = ref ? await services.intelligence.findService(ref) : null
    if (!service) return next()
    const kind = kindSchema.safeParse(req.query.kind)
    if (!kind.success) {
      const asked = req.query.kind !== undefined
      const errors = asked ? [{ field: 'kind', text: 'Select the kind of intelligence', href: '#kind' }] : []
      return res
        .status(asked ? 400 : 200)
        .render('pages/intelligence-start', kindChoiceView(service, service.ref, '', errors))
    }
    res.render('pages/intelligence-form', formView(service, kind.data, emptyValues(), [], null))
  })

  router.post('/services/:ref/intelligence', guard, async (req, res, next) => {
    const ref = parseRef(req)
    const service = ref ? await services.intelligence.findService(ref) : null
    if (!service) return next()
    const kind = kindSchema.safeParse((req.body as Record<string, unknown> | undefined)?.kind)
    if (!kind.success) {
      const errors = [{ field: 'kind', text: 'Select the kind of intelligence', href: '#kind' }]
      return res.status(400).render('pages/intelligence-start', kindChoiceView(service, service.ref, '', errors))
    }
    const form = readEntryForm(kind.data, req.body)
    if (form.errors.length > 0) {
      const others = services.intelligence
        .validate(service, form.fields)
        .filter((p) => !form.errors.some((e) => e.field === p.field))
      const errors = [...form.errors, ...problemsToErrors(kind.data, others)]
      return res.status(400).render('pages/intelligence-form', formView(service, kind.data, form.values, errors, null))
    }
    const outcome = await services.intelligence.record(service.ref, form.fields, context(req))
    if (!outcome.ok) {
      const errors = problemsToErrors(kind.data, outcome.problems)
      return res
        .status(outcome.status)
        .render('pages/intelligence-form', formView(service, kind.data, form.values, errors, null))
    }
    res.redirect(303, `${base(service)}/${outcome.entry.id}?saved=recorded`)
  })

  /** One entry, its versions, and (after a save) the confirmation with the service's new RAG. */
  router.get('/services/:ref/intelligence/:id', guard, async (req, res, next) => {
    const ref = parseRef(req)
    const id = parseId(req.params.id)
    const service = ref && id ? await services.intelligence.findService(ref) : null
    if (!service || !id) return next()
    const entry = await services.intelligence.entry(service.id, id)
    if (!entry) return next()
    const versions = await services.intelligence.versionsOf(service.id, id)
    const current = await services.runs.current(service.id)
    const saved = req.query.saved === 'recorded' || req.query.saved === 'changed' ? req.query.saved : null
    res.render('pages/intelligence-entry', {
      pageTitle: `${INTELLIGENCE_KIND_LABELS[entry.kind]}: ${service.name}`,
      backLink: { href: base(service), text: 'All intelligence for this service' },
      service: { ref: service.ref, name: service.name },
      saved,
      risk: riskView(current?.result ?? null),
      entry: entryView(entry, tz, services.clock.today()),
      latestId: versions[0]?.id ?? entry.id,
      versions: versions.map((v) => ({ ...entryView(v, tz, services.clock.today()), current: v.id === entry.id })),
      editHref: `${base(service)}/${entry.id}/edit`,
    })
  })

  router.get('/services/:ref/intelligence/:id/edit', guard, async (req, res, next) => {
    const ref = parseRef(req)
    const id = parseId(req.params.id)
    const service = ref && id ? await services.intelligence.findService(ref) : null
    if (!service || !id) return next()
    const entry = await services.intelligence.entry(service.id, id)
    if (!entry) return next()
    if (entry.supersededById !== null) return res.redirect(303, `${base(service)}/${entry.id}`)
    res.render('pages/intelligence-form', formView(service, entry.kind, valuesOfEntry(entry), [], entry))
  })

  router.post('/services/:ref/intelligence/:id/edit', guard, async (req, res, next) => {
    const ref = parseRef(req)
    const id = parseId(req.params.id)
    const service = ref && id ? await services.intelligence.findService(ref) : null
    if (!service || !id) return next()
    const entry = await services.intelligence.entry(service.id, id)
    if (!entry) return next()
    const form = readEntryForm(entry.kind, req.body)
    if (form.errors.length > 0) {
      const others = services.intelligence
        .validate(service, form.fields)
        .filter((p) => !form.errors.some((e) => e.field === p.field))
      const errors = [...form.errors, ...problemsToErrors(entry.kind, others)]
      return res
        .status(400)
        .render('pages/intelligence-form', formView(service, entry.kind, form.values, errors, entry))
    }
    const outcome = await services.intelligence.edit(service.ref, entry.id, form.fields, context(req))
    if (!outcome.ok) {
      const errors = problemsToErrors(entry.kind, outcome.problems)
      return res
        .status(outcome.status)
        .render('pages/intelligence-form', formView(service, entry.kind, form.values, errors, entry))
    }
    res.redirect(303, `${base(service)}/${outcome.entry.id}?saved=changed`)
  })

  return router
}
