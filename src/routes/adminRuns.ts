import { Router } from 'express'
import { z } from 'zod'
import { requireRole } from '../auth/authentication.js'
import {
  RUN_CAUSE_LABELS,
  type RefreshRun,
  type RunStatus,
  type SourceRun,
  type SourceRunStatus,
} from '../data/runs.js'
import type { Services } from '../services/container.js'
import type { RunDetail, RunListPage } from '../services/sources/runLog.js'
import { formatDateTime, runSourceLabel, withQuery, type Tag } from './display.js'
import { inboxFileRows, leftInInboxRows } from './inboxFiles.js'
import { fieldErrors } from './queryParams.js'
import { decimal, positiveId } from '../domain/strictInput.js'

const RUNS_PER_PAGE = 25
const REJECTS_PER_PAGE = 100
const KINDS = ['full', 'entry', 'seed'] as const
const KIND_LABELS: Record<string, string> = { full: 'Full refresh', entry: 'Entry', seed: 'Seed' }

const runListQuery = z.object({
  kind: z
    .enum([...KINDS, ''], { error: `must be one of ${KINDS.join(', ')}` })
    .optional()
    .transform((kind) => (kind === '' ? undefined : kind)),
  page: decimal(z.number().int('must be a whole number').min(1, 'must be 1 or more').max(100_000).default(1)),
})

const runDetailParams = z.object({ id: positiveId })
const runDetailQuery = z.object({
  source: z
    .string()
    .regex(/^[a-z_]{1,40}$/, 'must be a source name such as cqc')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  page: decimal(z.number().int('must be a whole number').min(1, 'must be 1 or more').max(100_000).default(1)),
})

const RUN_STATUS_TAGS: Record<RunStatus, Tag> = {
  running: { text: 'Running', classes: 'govuk-tag--blue' },
  completed: { text: 'Completed', classes: 'govuk-tag--green' },
  failed: { text: 'Failed', classes: 'govuk-tag--red' },
  abandoned: { text: 'Abandoned', classes: 'govuk-tag--grey' },
}
const SOURCE_STATUS_TAGS: Record<SourceRunStatus, Tag> = {
  running: { text: 'Running', classes: 'govuk-tag--blue' },
  succeeded: { text: 'Succeeded', classes: 'govuk-tag--green' },
  failed: { text: 'Failed', classes: 'govuk-tag--red' },
  not_configured: { text: 'Not configured', classes: 'govuk-tag--grey' },
  skipped: { text: 'Skipped', classes: 'govuk-tag--grey' },
}

function runSummary(run: RefreshRun, timeZone: string) {
  return {
    id: run.id,
    href: `/admin/runs/${run.id}`,
    kind: KIND_LABELS[run.kind] ?? run.kind,
    cause: RUN_CAUSE_LABELS[run.cause],
    trigger: run.trigger ?? '',
    started: formatDateTime(run.startedAt, timeZone),
    finished: formatDateTime(run.finishedAt, timeZone),
    status: RUN_STATUS_TAGS[run.status] ?? { text: run.status, classes: 'govuk-tag--grey' },
    servicesComputed: run.servicesComputed,
    // The nightly run judges only the services whose judgement could have changed: say the others still hold.
    servicesUnchanged:
      run.servicesTotal !== null && run.servicesTotal > run.servicesComputed
        ? { total: run.servicesTotal, count: run.servicesTotal - run.servicesComputed }
        : null,
    servicesChanged: run.servicesChanged,
    error: run.error,
  }
}

function sourceSummary(source: SourceRun, timeZone: string) {
  return {
    source: source.source,
    label: runSourceLabel(source.source),
    status: SOURCE_STATUS_TAGS[source.status] ?? { text: source.status, classes: 'govuk-tag--grey' },
    started: formatDateTime(source.startedAt, timeZone),
    finished: formatDateTime(source.finishedAt, timeZone),
    read: source.read,
    matched: source.matched,
    changed: source.changed,
    unchanged: source.unchanged,
    rejected: source.rejected,
    rejectsStored: source.rejects.length,
    error: source.error,
    href: source.rejects.length > 0 ? `/admin/runs/${source.runId}?source=${source.source}#rejects` : null,
  }
}

function runListViewModel(list: RunListPage, kind: string | undefined, services: Services) {
  const tz = services.config.TZ
  const query = { kind }
  return {
    pageTitle: 'Refresh runs',
    kinds: [
      { value: '', text: 'All kinds', selected: kind === undefined },
      ...KINDS.map((k) => ({ value: k, text: KIND_LABELS[k], selected: k === kind })),
    ],
    runs: list.runs.map((run) => ({
      ...runSummary(run, tz),
      sources: run.sources.map((source) => sourceSummary(source, tz)),
    })),
    page: list.page,
    pagination: {
      previous: list.page > 1 ? { href: withQuery('/admin/runs', query, { page: list.page - 1 }) } : undefined,
      next: list.hasNext ? { href: withQuery('/admin/runs', query, { page: list.page + 1 }) } : undefined,
    },
  }
}

function runDetailViewModel(detail: RunDetail, source: string | undefined, services: Services) {
  const tz = services.config.TZ
  const base = `/admin/runs/${detail.run.id}`
  const { rejects } = detail
  const firstRow = rejects.total === 0 ? 0 : (rejects.page - 1) * REJECTS_PER_PAGE + 1
  return {
    pageTitle: `Refresh run ${detail.run.id}`,
    backLink: { href: '/admin/runs', text: 'All refresh runs' },
    run: runSummary(detail.run, tz),
    ruleSetVersion: detail.run.ruleSetVersion,
    published: formatDateTime(detail.run.publishedAt, tz),
    sources: detail.sources.map((s) => sourceSummary(s, tz)),
    filter: {
      source: source ?? '',
      label: source ? runSourceLabel(source) : null,
      clearHref: `${base}#rejects`,
    },
    rejects: {
      rows: rejects.rows.map((row) => ({
        source: runSourceLabel(row.source),
        record: row.record,
        field: row.field ?? '',
        reason: row.reason,
      })),
      total: rejects.total,
      firstRow,
      lastRow: Math.min(rejects.total, rejects.page * REJECTS_PER_PAGE),
      page: rejects.page,
      pageCount: rejects.pageCount,
    },
    pagination: {
      previous:
        rejects.page > 1 ? { href: `${withQuery(base, { source }, { page: rejects.page - 1 })}#rejects` } : undefined,
      next:
        rejects.page < rejects.pageCount
          ? { href: `${withQuery(base, { source }, { page: rejects.page + 1 })}#rejects` }
          : undefined,
    },
    sourceState: detail.sourceState.map((entry) => ({
      label: `${runSourceLabel(entry.source)}: ${entry.key.replaceAll('_', ' ')}`,
      value: entry.value.length > 120 ? `${entry.value.slice(0, 117)}...` : entry.value,
      updated: formatDateTime(entry.updatedAt, tz),
    })),
  }
}

/** The run log (admin only): every refresh run with its per-source counts, errors and rejected rows. */
export function adminRunsRoutes(services: Services): Router {
  const router = Router()
  router.use('/admin/runs', requireRole('admin'))

  router.get('/admin/runs', async (req, res) => {
    const parsed = runListQuery.safeParse(req.query)
    if (!parsed.success) {
      return res.status(400).render('pages/bad-request', {
        pageTitle: 'There is a problem with the filters',
        errors: fieldErrors(parsed.error),
        backHref: '/admin/runs',
      })
    }
    const { kind, page } = parsed.data
    const list = await services.runLog.listRuns({ kind, page, pageSize: RUNS_PER_PAGE })
    res.set('Cache-Control', 'no-store').render('pages/admin-runs', runListViewModel(list, kind, services))
  })

  router.get('/admin/runs/:id', async (req, res, next) => {
    const params = runDetailParams.safeParse(req.params)
    if (!params.success) return next()
    const parsed = runDetailQuery.safeParse(req.query)
    if (!parsed.success) {
      return res.status(400).render('pages/bad-request', {
        pageTitle: 'There is a problem with the filters',
        errors: fieldErrors(parsed.error),
        backHref: `/admin/runs/${params.data.id}`,
      })
    }
    const { source, page } = parsed.data
    const detail = await services.runLog.runDetail(params.data.id, { source, page, pageSize: REJECTS_PER_PAGE })
    if (!detail) return next()
    // The council files this run read from the inbox: kind, rows read, imported, rejected, already known.
    const inboxFiles = inboxFileRows(await services.inbox.filesForRun(detail.run.id))
    const leftInInbox = leftInInboxRows(await services.inbox.skippedForRun(detail.run.id))
    res
      .set('Cache-Control', 'no-store')
      .render('pages/admin-run', { ...runDetailViewModel(detail, source, services), inboxFiles, leftInInbox })
  })

  return router
}
