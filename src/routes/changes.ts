import { Router } from 'express'
import { z } from 'zod'
import { RUN_CAUSES, RUN_CAUSE_LABELS } from '../data/runs.js'
import { ragSchema } from '../domain/vocabulary.js'
import type { Services } from '../services/container.js'
import { CHANGE_PERIODS, type ChangePeriod, type ChangedService } from '../services/dashboardService.js'
import { sendApiError } from './apiErrors.js'
import { formatDateTime, ragTag, withQuery } from './display.js'
import { fieldErrors } from './queryParams.js'

export const changePeriodSchema = z
  .enum(CHANGE_PERIODS, { error: 'Select a period: since the overnight run, the last day, week or month' })
  .default('overnight')

const PERIOD_TEXT: Record<ChangePeriod, string> = {
  overnight: 'Since the last overnight run began',
  day: 'In the last 24 hours',
  week: 'In the last 7 days',
  month: 'In the last 30 days',
}

/** The heading and the period chooser of a changed list (dashboard, morning page). */
export function changesPeriodViewModel(
  period: ChangePeriod,
  since: string | null,
  timeZone: string,
  path: string,
  current: Record<string, unknown>,
) {
  const sinceText = since ? formatDateTime(since, timeZone) : null
  return {
    heading:
      period === 'overnight'
        ? sinceText
          ? `Changed since the overnight run began (${sinceText})`
          : 'Changed since the last overnight run'
        : `Changed ${PERIOD_TEXT[period].toLowerCase()}`,
    none:
      period === 'overnight' && !since
        ? 'No overnight refresh has run yet.'
        : `No service changed colour ${period === 'overnight' ? 'since the overnight run began' : PERIOD_TEXT[period].toLowerCase()}.`,
    action: path,
    hidden: Object.entries(current).flatMap(([name, value]) =>
      value === undefined || value === '' || name === 'period'
        ? []
        : (Array.isArray(value) ? value : [value]).map((v) => ({ name, value: String(v) })),
    ),
    options: CHANGE_PERIODS.map((value) => ({ value, text: PERIOD_TEXT[value], selected: value === period })),
    overnightHref: withQuery(path, current, { period: undefined }),
  }
}

/** One change as a row of the changed lists: was, now, why, when and what caused it. */
export function changeRow(change: ChangedService, timeZone: string) {
  return {
    ref: change.ref,
    href: `/services/${encodeURIComponent(change.ref)}`,
    name: change.name,
    providerName: change.providerName,
    from: change.change.fromRag ? ragTag(change.change.fromRag) : null,
    to: ragTag(change.change.toRag),
    reason: change.change.reasons[0] ?? '',
    at: formatDateTime(change.change.at, timeZone),
    cause: RUN_CAUSE_LABELS[change.cause],
  }
}

/** A date (`2026-12-07`, the council's midnight in UTC terms is close enough for a period) or an ISO timestamp. */
const instantSchema = z
  .string()
  .trim()
  .refine(
    (value) => /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) && !Number.isNaN(Date.parse(value)),
    {
      message: 'Enter a date like 2026-12-07 or a timestamp like 2026-12-07T02:00:00Z',
    },
  )
  .transform((value) => new Date(value).toISOString())

export const changesQuerySchema = z
  .object({ since: instantSchema.optional(), until: instantSchema.optional() })
  .refine((query) => !query.since || !query.until || query.since < query.until, {
    message: 'until must be after since',
    path: ['until'],
  })

export const ragChangeSchema = z.object({
  service: z.object({ ref: z.string(), name: z.string(), provider: z.string() }),
  from: ragSchema.nullable(),
  to: ragSchema,
  when: z.string(),
  cause: z.enum(RUN_CAUSES),
  reasons: z.array(z.string()),
})

export const ragChangeListSchema = z.object({
  since: z.string().nullable(),
  until: z.string(),
  changes: z.array(ragChangeSchema),
})

/** `GET /api/v1/changes?since=&until=`: RAG changes in a period, whatever runs made them (SPEC §9). */
export function apiChangesRoutes(services: Services): Router {
  const router = Router()
  router.get('/changes', async (req, res) => {
    const parsed = changesQuerySchema.safeParse(req.query)
    if (!parsed.success) return sendApiError(res, 400, 'Invalid query', fieldErrors(parsed.error))
    const overnight = parsed.data.since ? null : await services.runs.lastOvernightRun()
    const since = parsed.data.since ?? overnight?.startedAt ?? null
    const until = parsed.data.until ?? new Date(Date.now() + 1000).toISOString()
    const changes = since === null ? [] : await services.dashboard.changesBetween(since, until, overnight?.id)
    res.json({
      since,
      until,
      changes: changes.map((c) => ({
        service: { ref: c.ref, name: c.name, provider: c.providerName },
        from: c.change.fromRag,
        to: c.change.toRag,
        when: c.change.at,
        cause: c.cause,
        reasons: c.change.reasons,
      })),
    } satisfies z.infer<typeof ragChangeListSchema>)
  })
  return router
}
