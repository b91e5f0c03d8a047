import express, { Router, type NextFunction, type Request, type Response } from 'express'
import { z } from 'zod'
import { requireRole } from '../auth/authentication.js'
import { CSRF_FIELD, isCsrfTokenValid, renderRefusedForm } from '../auth/csrf.js'
import { actorOf } from '../auth/requestUser.js'
import { COUNCIL_IMPORT_KINDS, type CouncilImportKind } from '../ingest/council/index.js'
import { saveSession } from '../auth/session.js'
import type { Services } from '../services/container.js'
import type { ImportResult } from '../services/importService.js'
import { errorView, type FormError } from './intelligence.js'

export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024
const MAX_PARTS = 10
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

export interface MultipartFile {
  filename: string
  data: Buffer
}

export interface MultipartForm {
  fields: Map<string, string>
  files: Map<string, MultipartFile>
}

/** The boundary of a multipart/form-data content type, or null. */
export function boundaryOf(contentType: string | undefined): string | null {
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType ?? '')
  return match ? (match[1] ?? match[2] ?? null) : null
}

function dispositionParam(header: string, name: string): string | null {
  const match = new RegExp(`;\\s*${name}="([^"]*)"`, 'i').exec(header)
  return match ? (match[1] as string) : null
}

/**
 * A small multipart/form-data reader (RFC 7578) for the upload form: text fields and files, at most MAX_PARTS parts.
 * The body has already been read within a size limit. Returns null when the body is not well formed.
 */
export function parseMultipart(body: Buffer, boundary: string): MultipartForm | null {
  const delimiter = Buffer.from(`--${boundary}`)
  const form: MultipartForm = { fields: new Map(), files: new Map() }
  let position = body.indexOf(delimiter)
  if (position === -1) return null
  for (let parts = 0; ; parts++) {
    position += delimiter.length
    if (body.subarray(position, position + 2).toString() === '--') return form
    if (parts >= MAX_PARTS) return null
    if (body.subarray(position, position + 2).toString() !== '\r\n') return null
    const headerEnd = body.indexOf('\r\n\r\n', position)
    if (headerEnd === -1) return null
    const headers = body
      .subarray(position + 2, headerEnd)
      .toString('utf8')
      .split('\r\n')
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), headerEnd + 4)
    if (next === -1) return null
    const content = body.subarray(headerEnd + 4, next)
    const disposition = headers.find((line) => /^content-disposition:/i.test(line)) ?? ''
    const name = dispositionParam(disposition, 'name')
    if (name === null) return null
    const filename = dispositionParam(disposition, 'filename')
    if (filename !== null) form.files.set(name, { filename, data: content })
    else form.fields.set(name, content.toString('utf8'))
    position = next + 2
  }
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
  kind: string
  csv: Buffer | string | null
  fileLabel: string
}

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
 * The browser's CSV upload (SPEC §9 `npm run import` from a page): choose the kind, upload a file (multipart, read by
 * hand within MAX_UPLOAD_BYTES) or paste its text, and see what was imported and the reject report by row, column
 * and reason. The import itself (validation, one transaction, recompute, audit) is the ImportService's.
 */
export function importPageRoutes(services: Services): Router {
  const router = Router()
  const guard = requireRole('compliance', 'admin')
  const readUpload = express.raw({ type: 'multipart/form-data', limit: MAX_UPLOAD_BYTES })

  router.get('/import', guard, (req, res) => {
    res.render('pages/import', pageView(req, res, '', [], null))
  })

  // After an import, the browser is sent here (303), so reloading shows the result again and never re-posts the file.
  router.get('/import/result', guard, (req, res) => {
    const last = req.session?.lastImport
    if (last === undefined) return res.redirect(303, '/import')
    res.render('pages/import', pageView(req, res, last.kind, [], last.result, last.fileLabel))
  })

  router.post(
    '/import',
    guard,
    (req: Request, res: Response, next: NextFunction) => {
      readUpload(req, res, (error?: unknown) => {
        if (error === undefined || error === null) return next()
        const type = (error as { type?: string }).type
        if (type === 'entity.too.large') {
          const text = `The file must be smaller than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB`
          return res
            .status(413)
            .render('pages/import', pageView(req, res, '', [{ field: 'file', text, href: '#file' }], null))
        }
        next(error)
      })
    },
    async (req, res) => {
      const multipart = Buffer.isBuffer(req.body) ? readMultipart(req) : undefined
      if (multipart !== undefined && !isCsrfTokenValid(req, multipart?.fields.get(CSRF_FIELD))) {
        return renderRefusedForm(req, res)
      }
      const submission = readSubmission(req, multipart ?? null)
      if ('errors' in submission) {
        return res.status(400).render('pages/import', pageView(req, res, submission.kind, submission.errors, null))
      }
      const kind = submission.kind as CouncilImportKind
      const result = await services.importer.importFile(kind, submission.csv as Buffer | string, {
        actor: actorOf(req.user!),
        source: 'council_csv',
        fileLabel: submission.fileLabel,
      })
      if (result.fileError) {
        const errors = [{ field: 'file', text: `The file could not be imported: ${result.fileError}`, href: '#file' }]
        return res
          .status(400)
          .render('pages/import', pageView(req, res, kind, errors, resultView(result), submission.fileLabel))
      }
      const view = resultView(result)
      req.session.lastImport = {
        kind,
        fileLabel: submission.fileLabel,
        result: { ...view, rejects: view.rejects.slice(0, MAX_REJECTS_KEPT) },
      }
      await saveSession(req)
      res.redirect(303, '/import/result')
    },
  )

  return router
}

/** The multipart body of an upload, or null when it is not well formed. */
function readMultipart(req: Request): MultipartForm | null {
  const boundary = boundaryOf(req.get('content-type'))
  return boundary ? parseMultipart(req.body as Buffer, boundary) : null
}

/** The kind and the CSV of an upload (multipart) or a paste (urlencoded), or what is wrong with the form. */
function readSubmission(req: Request, form: MultipartForm | null): Submission | { kind: string; errors: FormError[] } {
  let kind = ''
  let csv: Buffer | string | null = null
  let fileLabel = 'pasted text'
  const errors: FormError[] = []
  if (Buffer.isBuffer(req.body)) {
    if (!form)
      return { kind, errors: [{ field: 'file', text: 'The upload could not be read: try again', href: '#file' }] }
    kind = form.fields.get('kind') ?? ''
    const file = form.files.get('file')
    if (file && file.data.length > 0) {
      csv = file.data
      fileLabel = fileLabelOf(file.filename)
    }
  } else {
    const parsed = pasteSchema.safeParse(req.body ?? {})
    if (!parsed.success) {
      return { kind, errors: [{ field: 'csv', text: 'The pasted text must be sent once', href: '#csv' }] }
    }
    kind = parsed.data.kind ?? ''
    const text = parsed.data.csv ?? ''
    if (text.trim() !== '') csv = text
  }
  const chosen = kindSchema.safeParse(kind)
  if (!chosen.success) {
    const field = Buffer.isBuffer(req.body) ? 'kind' : 'paste-kind'
    errors.push({ field, text: 'Select what the file holds', href: `#${field}` })
  }
  if (csv === null) {
    errors.push(
      Buffer.isBuffer(req.body)
        ? { field: 'file', text: 'Select a CSV file', href: '#file' }
        : { field: 'csv', text: 'Paste the CSV text, with its header row', href: '#csv' },
    )
  }
  if (errors.length > 0 || !chosen.success || csv === null) return { kind: chosen.success ? kind : '', errors }
  return { kind: chosen.data, csv, fileLabel }
}
