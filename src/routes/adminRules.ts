import { Router, type Request, type Response } from 'express'
import { z } from 'zod'
import { requireRole } from '../auth/authentication.js'
import { actorOf } from '../auth/requestUser.js'
import type { StoredRuleSet } from '../data/ruleSets.js'
import { RAGS } from '../domain/vocabulary.js'
import type { Services } from '../services/container.js'
import {
  validateRuleSet,
  validateRuleSetJson,
  type RuleSetIssue,
  type RuleSetPreview,
  type RuleSetValidation,
} from '../services/ruleSetService.js'
import { formatDate, formatDateTime, ragTag } from './display.js'
import { fieldErrors } from './queryParams.js'
import { decimal } from '../domain/strictInput.js'

/** A rule-set field an admin changes often, edited in a plain form rather than in the JSON. */
interface CommonField {
  path: readonly string[]
  label: string
  hint?: string
}

interface CommonFieldGroup {
  legend: string
  fields: CommonField[]
}

const windowed = (indicator: string, what: string): CommonField[] => [
  { path: ['indicators', indicator, 'windowDays'], label: `Window for ${what}, in days`, hint: '365 is 12 months' },
  { path: ['indicators', indicator, 'amberFrom'], label: `${what} in the window that make it Amber` },
  { path: ['indicators', indicator, 'redFrom'], label: `${what} in the window that make it Red` },
]

const COMMON_FIELD_GROUPS: CommonFieldGroup[] = [
  {
    legend: 'Overall RAG',
    fields: [
      {
        path: ['multipleConcerns', 'amberCount'],
        label: 'Amber indicators that make a service Red (multiple concerns)',
        hint: 'At least 2',
      },
      { path: ['recentDowngrade', 'windowDays'], label: 'Days a CQC downgrade raises Green to Amber' },
      { path: ['deterioration', 'windowDays'], label: 'Window for deterioration, in days' },
      {
        path: ['deterioration', 'minAdverseObservations'],
        label: 'Adverse observations in that window that flag a service as deteriorating',
      },
    ],
  },
  { legend: 'Safeguarding decisions', fields: windowed('safeguarding', 'Safeguarding decisions') },
  { legend: 'Unexpected deaths', fields: windowed('unexpected_deaths', 'Unexpected deaths') },
  { legend: 'Substantiated contract concerns', fields: windowed('contract_concerns', 'Contract concerns') },
  {
    legend: 'Other indicators',
    fields: [
      {
        path: ['indicators', 'quality_assessment', 'amberWhenOlderThanDays'],
        label: 'Days after which the last quality assessment is Amber',
      },
      { path: ['indicators', 'default_notice', 'windowDays'], label: 'Window for default notices issued, in days' },
      {
        path: ['indicators', 'manager_vacancy', 'redWhenVacantMoreThanDays'],
        label: 'Days a registered manager post may be vacant before it is Red',
      },
    ],
  },
]
const COMMON_FIELDS = COMMON_FIELD_GROUPS.flatMap((group) => group.fields)

const fieldName = (field: CommonField) => field.path.join('.')
const fieldId = (field: CommonField) => `rule-${field.path.join('-')}`
const DOCUMENT_ID = 'document'
const NOTE_ID = 'note'
const MAX_DOCUMENT_CHARACTERS = 100_000

const version = decimal(z.number().int().min(1).max(1_000_000))
const versionParams = z.object({ version })
const editQuery = z.object({ from: version.optional() })
const previewBody = z.object({
  mode: z.enum(['json', 'fields']),
  baseVersion: version,
  from: version.optional(),
  document: z.string().max(MAX_DOCUMENT_CHARACTERS, 'must be 100,000 characters or fewer').optional(),
})
const saveBody = z.object({
  baseVersion: version,
  document: z.string().max(MAX_DOCUMENT_CHARACTERS, 'must be 100,000 characters or fewer'),
  note: z.string().optional(),
})
const noteSchema = z
  .string({ error: 'Enter a note saying why the rules change' })
  .trim()
  .min(1, 'Enter a note saying why the rules change')
  .max(500, 'The note must be 500 characters or fewer')
const savedQuery = z.object({ saved: version.optional(), run: version.optional() })

interface ErrorItem {
  text: string
  href: string
}

function pretty(document: unknown): string {
  return JSON.stringify(document, null, 2)
}

function valueAt(document: unknown, path: readonly string[]): unknown {
  let node: unknown = document
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined
    node = (node as Record<string, unknown>)[key]
  }
  return node
}

function setAt(document: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = document
  for (const key of path.slice(0, -1)) {
    const next = node[key]
    if (typeof next !== 'object' || next === null) node[key] = {}
    node = node[key] as Record<string, unknown>
  }
  node[path[path.length - 1] as string] = value
}

function bodyText(req: Request, name: string): string {
  const value = (req.body as Record<string, unknown> | undefined)?.[name]
  return typeof value === 'string' ? value : ''
}

function describeVersion(stored: StoredRuleSet, timeZone: string) {
  const name = valueAt(stored.document, ['name'])
  return {
    version: stored.version,
    name: typeof name === 'string' ? name : '',
    createdAt: formatDateTime(stored.createdAt, timeZone),
    createdBy: stored.createdBy ?? 'unknown',
    note: stored.note ?? '',
    href: `/admin/rules/versions/${stored.version}`,
    editHref: `/admin/rules/edit?from=${stored.version}`,
  }
}

interface EditFormState {
  baseVersion: number
  from: number
  fieldValues: Record<string, string>
  fieldMessages: Record<string, string>
  documentText: string
  documentMessage?: string
  errors: ErrorItem[]
  mode?: 'json' | 'fields'
}

function editViewModel(state: EditFormState) {
  return {
    pageTitle: 'Change the rule set',
    backLink: { href: '/admin/rules', text: 'Back to the rule set' },
    errors: state.errors,
    baseVersion: state.baseVersion,
    from: state.from,
    startingFromOlder: state.from !== state.baseVersion,
    groups: COMMON_FIELD_GROUPS.map((group) => ({
      legend: group.legend,
      fields: group.fields.map((field) => ({
        id: fieldId(field),
        name: fieldName(field),
        label: { text: field.label },
        hint: field.hint,
        value: state.fieldValues[fieldName(field)] ?? '',
        errorMessage: state.fieldMessages[fieldName(field)],
        classes: 'govuk-input--width-5',
        inputmode: 'numeric',
        spellcheck: false,
      })),
    })),
    document: {
      id: DOCUMENT_ID,
      name: 'document',
      label: { text: 'Rule set (JSON)', classes: 'govuk-label--m' },
      hint: 'Every threshold, window, list and weight. Vocabulary words may be written with spaces or underscores.',
      value: state.documentText,
      errorMessage: state.documentMessage,
      rows: 30,
      spellcheck: false,
      classes: 'app-rules-json',
    },
  }
}

function fieldValuesOf(document: unknown): Record<string, string> {
  const values: Record<string, string> = {}
  for (const field of COMMON_FIELDS) {
    const value = valueAt(document, field.path)
    values[fieldName(field)] = value === undefined || value === null ? '' : String(value)
  }
  return values
}

/** Issues from the schema, as error summary items linking to the common field they name, else to the JSON. */
function issuesToErrors(issues: RuleSetIssue[], mode: 'json' | 'fields') {
  const errors: ErrorItem[] = []
  const fieldMessages: Record<string, string> = {}
  const documentMessages: string[] = []
  for (const issue of issues) {
    const field = mode === 'fields' ? COMMON_FIELDS.find((f) => fieldName(f) === issue.path) : undefined
    const text = issue.path ? `${issue.path}: ${issue.message}` : issue.message
    if (field) {
      fieldMessages[fieldName(field)] ??= issue.message
      errors.push({ text: `${field.label} (${issue.path}): ${issue.message}`, href: `#${fieldId(field)}` })
    } else {
      documentMessages.push(text)
      errors.push({ text, href: mode === 'fields' ? '#common-fields' : `#${DOCUMENT_ID}` })
    }
  }
  return { errors, fieldMessages, documentMessage: documentMessages.length > 0 ? documentMessages[0] : undefined }
}

function countsTable(preview: RuleSetPreview) {
  return [...RAGS].reverse().map((rag) => ({
    tag: ragTag(rag),
    before: preview.countsBefore[rag],
    after: preview.countsAfter[rag],
    difference: preview.countsAfter[rag] - preview.countsBefore[rag],
  }))
}

function previewViewModel(
  preview: RuleSetPreview,
  documentText: string,
  options: { note?: string; errors?: ErrorItem[]; noteMessage?: string } = {},
) {
  return {
    pageTitle: 'Check the rule set change',
    backLink: { href: '/admin/rules/edit', text: 'Back to the editor' },
    errors: options.errors ?? [],
    asOf: formatDate(preview.asOf),
    baseVersion: preview.baseVersion,
    newVersion: preview.baseVersion + 1,
    servicesAssessed: preview.servicesAssessed,
    counts: countsTable(preview).map((row) => ({
      ...row,
      differenceText: row.difference > 0 ? `+${row.difference}` : String(row.difference),
    })),
    changeCount: preview.changes.length,
    changes: preview.changes.map((change) => ({
      ref: change.ref,
      href: `/services/${encodeURIComponent(change.ref)}`,
      name: change.name,
      providerName: change.providerName,
      from: ragTag(change.from),
      to: ragTag(change.to),
      reasons: change.reasons,
      override: change.override
        ? { tag: ragTag(change.override.rag), expiresOn: formatDate(change.override.expiresOn) }
        : null,
    })),
    otherwiseChanged: preview.otherwiseChanged,
    /** The proposal exactly as previewed, carried to the save (compact: one line in a hidden field). */
    documentValue: JSON.stringify(JSON.parse(documentText)),
    note: {
      id: NOTE_ID,
      name: 'note',
      label: { text: 'Why are the rules changing?', classes: 'govuk-label--s' },
      hint: 'Recorded with the version and in the audit log',
      value: options.note ?? '',
      errorMessage: options.noteMessage,
      rows: 3,
    },
    editor: {
      id: DOCUMENT_ID,
      name: 'document',
      label: { text: 'Rule set (JSON)', classes: 'govuk-label--s' },
      value: documentText,
      rows: 20,
      spellcheck: false,
      classes: 'app-rules-json',
    },
  }
}

function parsedOrNull(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return null
  }
}

/** The editor again, JSON first, for a document refused at save (normally caught at preview). */
function jsonEditState(baseVersion: number, documentText: string, issues: RuleSetIssue[]): EditFormState {
  const { errors, documentMessage } = issuesToErrors(issues, 'json')
  return {
    mode: 'json',
    baseVersion,
    from: baseVersion,
    fieldValues: fieldValuesOf(parsedOrNull(documentText)),
    fieldMessages: {},
    documentText,
    documentMessage,
    errors,
  }
}

function renderBadRequest(res: Response, error: z.ZodError) {
  res.status(400).render('pages/bad-request', {
    pageTitle: 'There is a problem with the form',
    errors: fieldErrors(error),
    backHref: '/admin/rules',
  })
}

/**
 * The rule set admin (SPEC §1, §3), admin only: the version in force and its history, an editor (common fields or
 * the whole JSON), a preview of which services would change colour, and saving a new version, which recomputes every
 * service at once.
 */
export function adminRulesRoutes(services: Services): Router {
  const router = Router()
  const admin = requireRole('admin')
  const rules = services.ruleSetAdmin
  const timeZone = services.config.TZ

  router.get('/admin/rules', admin, async (req, res) => {
    const query = savedQuery.safeParse(req.query)
    const saved = query.success ? query.data : {}
    const inForce = await rules.inForce()
    const history = await rules.history()
    const run = saved.run === undefined ? null : await services.runs.getRun(saved.run)
    res.render('pages/admin-rules', {
      pageTitle: 'Rule set',
      inForce: { ...describeVersion(inForce, timeZone), description: inForce.ruleSet.description ?? '' },
      history: history.map((stored) => ({
        ...describeVersion(stored, timeZone),
        inForce: stored.version === inForce.version,
      })),
      saved:
        saved.saved === undefined
          ? null
          : {
              version: saved.saved,
              run: run
                ? {
                    id: run.id,
                    href: `/admin/runs/${run.id}`,
                    completed: run.status === 'completed',
                    servicesChanged: run.servicesChanged,
                    error: run.error,
                  }
                : null,
            },
    })
  })

  router.get('/admin/rules/versions/:version', admin, async (req, res, next) => {
    const params = versionParams.safeParse(req.params)
    if (!params.success) return next()
    const inForce = await rules.inForce()
    const stored = await rules.version(params.data.version)
    if (!stored) return next()
    res.render('pages/admin-rules-version', {
      pageTitle: `Rule set version ${stored.version}`,
      backLink: { href: '/admin/rules', text: 'Back to the rule set' },
      stored: describeVersion(stored, timeZone),
      inForce: stored.version === inForce.version,
      documentText: pretty(stored.document),
    })
  })

  router.get('/admin/rules/edit', admin, async (req, res, next) => {
    const query = editQuery.safeParse(req.query)
    if (!query.success) return renderBadRequest(res, query.error)
    const inForce = await rules.inForce()
    const from = query.data.from === undefined ? inForce : await rules.version(query.data.from)
    if (!from) return next()
    res.render(
      'pages/admin-rules-edit',
      editViewModel({
        baseVersion: inForce.version,
        from: from.version,
        fieldValues: fieldValuesOf(from.document),
        fieldMessages: {},
        documentText: pretty(from.document),
        errors: [],
      }),
    )
  })

  router.post('/admin/rules/preview', admin, async (req, res) => {
    const body = previewBody.safeParse(req.body)
    if (!body.success) return renderBadRequest(res, body.error)
    const { mode, baseVersion } = body.data
    const from = body.data.from ?? baseVersion
    const base = await rules.version(from)
    if (!base)
      return renderBadRequest(
        res,
        new z.ZodError([{ code: 'custom', path: ['from'], message: 'no such version', input: from }]),
      )

    let state: EditFormState
    let validation: RuleSetValidation
    if (mode === 'json') {
      const documentText = body.data.document ?? ''
      validation = validateRuleSetJson(documentText)
      state = {
        mode,
        baseVersion,
        from,
        fieldValues: fieldValuesOf(base.document),
        fieldMessages: {},
        documentText,
        errors: [],
      }
    } else {
      const document = structuredClone(base.document) as Record<string, unknown>
      const fieldValues: Record<string, string> = {}
      const wholeNumberIssues: RuleSetIssue[] = []
      for (const field of COMMON_FIELDS) {
        const text = bodyText(req, fieldName(field)).trim()
        fieldValues[fieldName(field)] = text
        if (!/^\d{1,9}$/.test(text)) {
          wholeNumberIssues.push({
            path: fieldName(field),
            message: text === '' ? 'Enter a number' : 'Enter a whole number, like 365',
          })
        } else setAt(document, field.path, Number(text))
      }
      validation =
        wholeNumberIssues.length > 0 ? { ok: false as const, issues: wholeNumberIssues } : validateRuleSet(document)
      state = {
        mode,
        baseVersion,
        from,
        fieldValues,
        fieldMessages: {},
        documentText: pretty(base.document),
        errors: [],
      }
    }

    if (!validation.ok) {
      const { errors, fieldMessages, documentMessage } = issuesToErrors(validation.issues, mode)
      return res
        .status(400)
        .render('pages/admin-rules-edit', editViewModel({ ...state, errors, fieldMessages, documentMessage }))
    }
    const preview = await rules.preview(validation.ruleSet)
    res.render('pages/admin-rules-preview', previewViewModel(preview, pretty(validation.ruleSet)))
  })

  router.post('/admin/rules', admin, async (req, res) => {
    const body = saveBody.safeParse(req.body)
    if (!body.success) return renderBadRequest(res, body.error)
    const validation = validateRuleSetJson(body.data.document)
    if (!validation.ok) {
      return res
        .status(400)
        .render(
          'pages/admin-rules-edit',
          editViewModel(jsonEditState(body.data.baseVersion, body.data.document, validation.issues)),
        )
    }

    const note = noteSchema.safeParse(body.data.note)
    const rerenderPreview = async (errors: ErrorItem[], noteMessage?: string) => {
      const preview = await rules.preview(validation.ruleSet)
      res
        .status(noteMessage ? 400 : 409)
        .render(
          'pages/admin-rules-preview',
          previewViewModel(preview, pretty(validation.ruleSet), { note: body.data.note ?? '', errors, noteMessage }),
        )
    }
    if (!note.success) {
      const message = note.error.issues[0]?.message ?? 'Enter a note'
      return rerenderPreview([{ text: message, href: `#${NOTE_ID}` }], message)
    }

    const outcome = await rules.save({
      document: validation.ruleSet,
      baseVersion: body.data.baseVersion,
      note: note.data,
      actor: actorOf(req.user!),
    })
    if (outcome.ok) return res.redirect(303, `/admin/rules?saved=${outcome.version}&run=${outcome.runId}`)
    if (outcome.reason === 'stale') {
      return rerenderPreview([
        {
          text: `The rule set changed to version ${outcome.currentVersion} since this preview. Check the changes again below before saving.`,
          href: '#changes',
        },
      ])
    }
    if (outcome.reason === 'busy') return rerenderPreview([{ text: outcome.message, href: '#save' }])
    res
      .status(400)
      .render(
        'pages/admin-rules-edit',
        editViewModel(jsonEditState(body.data.baseVersion, body.data.document, outcome.issues)),
      )
  })

  return router
}
