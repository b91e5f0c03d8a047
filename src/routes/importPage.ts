import { createReadStream } from 'node:fs'
import { Router, type Request, type Response } from 'express'
import { z } from 'zod'
import { requireRole } from '../auth/authentication.js'
import { CSRF_FIELD, isCsrfTokenValid, renderRefusedForm } from '../auth/csrf.js'
import { actorOf } from '../auth/requestUser.js'
import { COUNCIL_IMPORT_KINDS, type CouncilImportKind } from '../ingest/council/index.js'
import { saveSession } from '../auth/session.js'
import type { Services } from '../services/container.js'
import type { ImportResult } from '../services/importService.js'
import { errorView, type FormError } from './intelligence.js'
import { readUpload, type Upload, type UploadProblem } from './uploadForm.js'

export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024
/** The upload form's text fields: its kind and CSRF token, with room to spare. */
const MAX_UPLOAD_FIELDS = 9
const MAX_FILE_LABEL = 200

const KIND_LABELS: Record<CouncilImportKind, { text: string; hint: string }> = {
  services: {
    text: 'Services (the register)',
    hint: 'service_ref, name, provider_name, service_type, area, contract_status and optional ids and capacity',
  },
  assessments: {
    text: 'Quality assessments',
    hint: 'service_ref, assessment_date, outcome, assessor, domain_1 to domain_5',
  },
  intelligence: {
    text: 'Council intelligence',
    hint: 'service_ref, kind, date, end_date, outcome, reference, notes',
  },
  safeguarding_counts: {
    text: 'Safeguarding counts',
    hint: 'service_ref, period_start, period_end, decisions',
  },
}

/** A file's name as people know it: the last path segment, without control characters, cut short. */
export function fileLabelOf(filename: string): string {
  const base = filename.split(/[\\/]/).pop() ?? ''
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim()
  return clean === '' ? 'upload.csv' : clean.slice(0, MAX_FILE_LABEL)
}

const kindSchema = z.enum(COUNCIL_IMPORT_KINDS)
const pasteSchema = z.object({
  kind: z.string().optional(),
  csv: z.string({ error: 'must be a single value' }).optional(),
})

interface Submission {
  kind: CouncilImportKind
  /** The pasted text, or the path of the uploaded file. */
  csv: string | { path: string }
  fileLabel: string
}

type Refusal = { kind: string; errors: FormError[] }

function resultView(result: ImportResult) {
  const rejectedRows = new Set(result.rejects.map((reject) => reject.rowNumber)).size
  return {
    kind: result.kind ? KIND_LABELS[result.kind].text : null,
    rowsRead: result.rowsRead,
    imported: result.imported,
    duplicates: result.duplicates,
    rejectedRows,
    rejects: result.rejects.map((reject) => ({
      row: reject.rowNumber,
      column: reject.column ?? '',
      reason: reject.reason,
    })),
    fileError: result.fileError,
    recomputed: result.runId !== null,
  }
}

type ResultView = ReturnType<typeof resultView>

/** What the result page shows of the last import, kept in the session between the upload and its redirect. */
interface LastImport {
  kind: string
  fileLabel: string
  result: ResultView
}

declare module 'express-session' {
  interface SessionData {
    lastImport?: LastImport
  }
}

/** The reject report kept for the result page: enough to act on, never a whole rejected file in the session. */
const MAX_REJECTS_KEPT = 1000

function pageView(
  req: Request,
  _res: Response,
  kind: string,
  errors: FormError[],
  result: ResultView | null,
  label = '',
) {
  const { errorList, fieldErrors } = errorView(errors)
  return {
    pageTitle: 'Import a CSV file',
    kinds: COUNCIL_IMPORT_KINDS.map((value) => ({
      value,
      text: KIND_LABELS[value].text,
      hint: { text: `Columns: ${KIND_LABELS[value].hint}` },
      checked: value === kind,
    })),
    pasteKinds: [
      { value: '', text: 'Choose' },
      ...COUNCIL_IMPORT_KINDS.map((value) => ({ value, text: KIND_LABELS[value].text, selected: value === kind })),
    ],
    pasteOpen: errors.some((error) => error.field === 'csv' || error.field === 'paste-kind'),
    maxMegabytes: MAX_UPLOAD_BYTES / 1024 / 1024,
    errorList,
    fieldErrors,
    fileLabel: label,
    result,
    signedInAs: req.user?.email,
  }
}

/**
 * The browser's CSV upload (SPEC §9 `npm run import` from a page): choose the kind, upload a file (multipart, streamed
 * to a temporary file within MAX_UPLOAD_BYTES, see uploadForm.ts) or paste its text, and see what was imported and the
 * reject report by row, column and reason. The import itself (validation, one transaction, recompute, audit) is the ImportService's.
 */
export function importPageRoutes(services: Services): Router {
  const router = Router()
  const guard = requireRole('compliance', 'admin')

  router.get('/import', guard, (req, res) => {
    res.render('pages/import', pageView(req, res, '', [], null))
  })

  // After an import, the browser is sent here (303), so reloading shows the result again and never re-posts the file.
  router.get('/import/result', guard, (req, res) => {
    const last = req.session?.lastImport
    if (last === undefined) return res.redirect(303, '/import')
    res.render('pages/import', pageView(req, res, last.kind, [], last.result, last.fileLabel))
  })

  router.post('/import', guard, async (req, res) => {
    if (!req.is('multipart/form-data')) return answer(req, res, readPaste(req))
    const upload = await readUpload(req, {
      fileField: 'file',
      maxFileBytes: MAX_UPLOAD_BYTES,
      maxFields: MAX_UPLOAD_FIELDS,
    })
    try {
      if (!isCsrfTokenValid(req, upload.fields.get(CSRF_FIELD))) return renderRefusedForm(req, res)
      if (upload.problem !== null) {
        const status = upload.problem === 'too_large' ? 413 : 400
        const kind = upload.fields.get('kind') ?? ''
        return res.status(status).render('pages/import', pageView(req, res, kind, [problemError(upload.problem)], null))
      }
      await answer(req, res, uploadSubmission(upload))
    } finally {
      await upload.discard()
    }
  })

  /** Imports a submission and shows its result (after a redirect), or shows the form again with what is wrong. */
  async function answer(req: Request, res: Response, submission: Submission | Refusal): Promise<void> {
    if ('errors' in submission) {
      return res.status(400).render('pages/import', pageView(req, res, submission.kind, submission.errors, null))
    }
    const { kind, csv, fileLabel } = submission
    const result = await services.importer.importFile(
      kind,
      typeof csv === 'string' ? csv : createReadStream(csv.path),
      {
        actor: actorOf(req.user!),
        source: 'council_csv',
        fileLabel,
      },
    )
    if (result.fileError) {
      const errors = [{ field: 'file', text: `The file could not be imported: ${result.fileError}`, href: '#file' }]
      return res.status(400).render('pages/import', pageView(req, res, kind, errors, resultView(result), fileLabel))
    }
    const view = resultView(result)
    req.session.lastImport = { kind, fileLabel, result: { ...view, rejects: view.rejects.slice(0, MAX_REJECTS_KEPT) } }
    await saveSession(req)
    res.redirect(303, '/import/result')
  }

  return router
}

const UPLOAD_PROBLEMS: Record<UploadProblem, string> = {
  malformed: 'The upload could not be read: try again',
  too_large: `The file must be smaller than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB`,
  wrong_field: 'Upload the file with the form’s “Upload a file” field',
  too_many_files: 'Upload one file at a time',
  too_many_fields: 'The upload could not be read: it had more fields than the form',
}

function problemError(problem: UploadProblem): FormError {
  return { field: 'file', text: UPLOAD_PROBLEMS[problem], href: '#file' }
}

/** The kind and the file of an upload, or what is wrong with the form. */
function uploadSubmission(upload: Upload): Submission | Refusal {
  const chosen = kindSchema.safeParse(upload.fields.get('kind') ?? '')
  const file = upload.file !== null && upload.file.bytes > 0 ? upload.file : null
  const errors: FormError[] = []
  if (!chosen.success) errors.push({ field: 'kind', text: 'Select what the file holds', href: '#kind' })
  if (file === null) errors.push({ field: 'file', text: 'Select a CSV file', href: '#file' })
  if (!chosen.success || file === null) return { kind: chosen.success ? chosen.data : '', errors }
  return { kind: chosen.data, csv: { path: file.path }, fileLabel: fileLabelOf(file.filename) }
}

/** The kind and the text of a paste (urlencoded), or what is wrong with the form. */
function readPaste(req: Request): Submission | Refusal {
  const parsed = pasteSchema.safeParse(req.body ?? {})
  if (!parsed.success) {
    return { kind: '', errors: [{ field: 'csv', text: 'The pasted text must be sent once', href: '#csv' }] }
  }
  const chosen = kindSchema.safeParse(parsed.data.kind ?? '')
  const text = parsed.data.csv ?? ''
  const errors: FormError[] = []
  if (!chosen.success) errors.push({ field: 'paste-kind', text: 'Select what the file holds', href: '#paste-kind' })
  if (text.trim() === '') errors.push({ field: 'csv', text: 'Paste the CSV text, with its header row', href: '#csv' })
  if (!chosen.success || text.trim() === '') return { kind: chosen.success ? chosen.data : '', errors }
  return { kind: chosen.data, csv: text, fileLabel: 'pasted text' }
}
