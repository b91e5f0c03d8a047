import { Router, type Request } from 'express'
import { z } from 'zod'
import { RAGS, SERVICE_TYPES } from '../domain/vocabulary.js'
import type { InboxFile } from '../data/inboxFiles.js'
import type { SourceFreshness } from '../data/runs.js'
import { INBOX_SOURCE } from '../services/sources/inbox.js'
import type { Services } from '../services/container.js'
import type { DashboardView } from '../services/dashboardService.js'
import type { ActiveRuleSet } from '../services/riskService.js'
import {
  ageText,
  calendarDateOf,
  formatDateTime,
  ragSinceText,
  staleGreenInputs,
  ragTag,
  runSourceLabel,
  serviceTypeLabel,
  withQuery,
} from './display.js'
import { RenderedPageCache } from '../views/renderedPages.js'
import { lastFileReceivedText } from './inboxFiles.js'
import { failedSourceText } from './sourceFailure.js'
import { changePeriodSchema, changeRow, changesPeriodViewModel } from './changes.js'
import type { ChangePeriod } from '../services/dashboardService.js'
import { fieldErrors, serviceFilterSchema, toListingFilter, type ServiceFilterQuery } from './queryParams.js'

const SORTABLE_COLUMNS = [
  { key: 'rag', text: 'RAG' },
  { key: 'name', text: 'Service' },
  { key: 'provider', text: 'Provider' },
  { key: 'type', text: 'Type' },
  { key: 'area', text: 'Area' },
  { key: 'eligible', text: 'DPS eligibility' },
  { key: 'changed', text: 'Last change' },
] as const

/** The dashboard's own query: the shared filters, and whether to list every change of the last run. */
const dashboardQuerySchema = serviceFilterSchema.extend({
  changes: z.enum(['all', 'latest'], { error: 'must be all or latest' }).optional(),
  period: changePeriodSchema,
})

/** The changes the dashboard lists before "show all" (a national night changes hundreds). */
export const CHANGES_SHOWN = 25
/** Beyond this many areas the filter is a select plus the chosen areas' checkboxes, not a checkbox per area. */
export const AREA_CHECKBOX_LIMIT = 30

/** `more` adds to a configured source's line, by source: the council files' "last file received ...". */
export function sourceFreshnessLines(
  sources: SourceFreshness[],
  timeZone: string,
  today: string,
  more: Partial<Record<string, string>> = {},
) {
  return sources.map((s) => {
    const label = runSourceLabel(s.source)
    const failed = s.lastAttemptStatus === 'failed'
    // The council's calendar date of the last success: one at 00:30 BST is that day's, not the day before's.
    const dataFrom = s.lastSuccessAt
      ? `data from ${ageText(calendarDateOf(s.lastSuccessAt, timeZone), today)}`
      : 'no successful refresh yet'
    const text = failed
      ? failedSourceText(label, s.lastAttemptAt, s.lastSuccessAt, timeZone, today)
      : s.lastAttemptStatus === 'not_configured'
        ? `${label}: not configured`
        : s.lastAttemptStatus === 'running'
          ? `${label}: refreshing since ${formatDateTime(s.lastAttemptAt, timeZone)}; ${dataFrom}`
          : `${label}: refreshed ${formatDateTime(s.lastSuccessAt ?? s.lastAttemptAt, timeZone)}`
    const extra = s.lastAttemptStatus === 'not_configured' ? undefined : more[s.source]
    // The error text (hosts, paths, HTTP codes) is for admins, on the run page: people see when and what data is left.
    return { text: extra ? `${text}; ${extra}` : text, failed }
  })
}

function queryForLinks(query: ServiceFilterQuery & { period?: ChangePeriod }): Record<string, unknown> {
  return {
    period: query.period === 'overnight' ? undefined : query.period,
    rag: query.rag,
    area: query.area,
    type: query.type,
    q: query.q,
    deteriorating: query.deteriorating,
    eligible: query.eligible,
    sort: query.sort === 'rag' ? undefined : query.sort,
    dir: query.dir === 'asc' ? undefined : query.dir,
    // A page size the user chose is kept from page to page (50 is the default).
    pageSize: query.pageSize === 50 ? undefined : query.pageSize,
  }
}

/**
 * A checkbox per area while they are few; at national scale (~390 authorities) the chosen areas as checked checkboxes
 * (untick to drop one) and a select of the others to add one, both sending `area`, so the query stays the same.
 */
function areaFilter(areas: string[], chosen: string[]) {
  if (areas.length <= AREA_CHECKBOX_LIMIT) {
    return {
      areas: areas.map((area) => ({ value: area, text: area, checked: chosen.includes(area) })),
      areaSelect: null,
    }
  }
  const selected = new Set(chosen)
  return {
    areas: areas.filter((area) => selected.has(area)).map((area) => ({ value: area, text: area, checked: true })),
    areaSelect: { options: areas.filter((area) => !selected.has(area)) },
  }
}

function dashboardViewModel(
  view: DashboardView,
  query: ServiceFilterQuery & { period: ChangePeriod },
  services: Services,
  lastCouncilFile: InboxFile | null = null,
  allChanges = false,
) {
  const today = services.clock.today()
  const tz = services.config.TZ
  const linkQuery = queryForLinks(query)
  const pageCount = Math.max(1, Math.ceil(view.listing.total / query.pageSize))
  const firstRow = view.listing.total === 0 ? 0 : (query.page - 1) * query.pageSize + 1
  return {
    pageTitle: 'Dashboard',
    counts: RAGS.map((rag) => ({
      rag,
      tag: ragTag(rag),
      count: view.counts[rag],
      href: withQuery('/', {}, { rag }),
    })).reverse(),
    total: view.counts.total,
    notComputed: view.counts.notComputed,
    lastRun: view.lastFullRun
      ? { text: formatDateTime(view.lastFullRun.finishedAt, tz), runId: view.lastFullRun.id }
      : null,
    sources: sourceFreshnessLines(view.sources, tz, today, {
      [INBOX_SOURCE]: lastFileReceivedText(lastCouncilFile, tz, today),
    }),
    changesTotal: view.changes.length,
    changesMore:
      !allChanges && view.changes.length > CHANGES_SHOWN
        ? {
            count: view.changes.length - CHANGES_SHOWN,
            href: `${withQuery('/', linkQuery, { changes: 'all' })}#changes`,
          }
        : null,
    changesLess:
      allChanges && view.changes.length > CHANGES_SHOWN ? { href: `${withQuery('/', linkQuery, {})}#changes` } : null,
    changes: (allChanges ? view.changes : view.changes.slice(0, CHANGES_SHOWN)).map((c) => changeRow(c, tz)),
    changesPeriod: changesPeriodViewModel(query.period, view.changesSince, tz, '/', linkQuery),
    filters: {
      q: query.q ?? '',
      rags: RAGS.map((rag) => ({ value: rag, text: ragTag(rag).text, checked: query.rag.includes(rag) })),
      ...areaFilter(view.areas, query.area),
      types: SERVICE_TYPES.map((type) => ({
        value: type,
        text: serviceTypeLabel(type),
        checked: query.type.includes(type),
      })),
      deteriorating: query.deteriorating === 'true' || query.deteriorating === '1',
      eligible: query.eligible ?? '',
      sort: query.sort,
      dir: query.dir,
      active:
        query.rag.length + query.area.length + query.type.length > 0 ||
        Boolean(query.q) ||
        Boolean(query.deteriorating) ||
        Boolean(query.eligible),
    },
    eligibilityOptions: [
      { value: '', text: 'Any', checked: !query.eligible },
      {
        value: 'true',
        text: 'Eligible for new packages',
        checked: query.eligible === 'true' || query.eligible === 'yes',
      },
      { value: 'false', text: 'Not eligible', checked: query.eligible === 'false' || query.eligible === 'no' },
    ],
    columns: SORTABLE_COLUMNS.map((column) => {
      const active = query.sort === column.key
      const nextDir = active && query.dir === 'asc' ? 'desc' : 'asc'
      return {
        text: column.text,
        href: withQuery('/', linkQuery, { sort: column.key, dir: nextDir, page: undefined }),
        ariaSort: active ? (query.dir === 'asc' ? 'ascending' : 'descending') : 'none',
      }
    }),
    rows: view.listing.rows.map((row) => ({
      ref: row.ref,
      name: row.name,
      providerName: row.providerName,
      type: serviceTypeLabel(row.serviceType),
      area: row.area,
      tag: ragTag(row.rag),
      overridden: Boolean(row.result?.override),
      deteriorating: Boolean(row.result?.flags.deteriorating),
      staleInputs: staleGreenInputs(row.result).join(', '),
      reason: row.result?.reasons[0] ?? '',
      eligibility: row.dpsEligible === null ? 'Not on a DPS' : row.dpsEligible ? 'Eligible' : 'Not eligible',
      ineligible: row.dpsEligible === false,
      changed: row.changedAt && row.rag ? ragSinceText(row.rag, row.changedAt, tz) : '',
      changedAge: row.changedAt ? ageText(calendarDateOf(row.changedAt, tz), today) : '',
    })),
    listing: {
      total: view.listing.total,
      firstRow,
      lastRow: Math.min(view.listing.total, query.page * query.pageSize),
      // A page number past the end (an old bookmark, a typed URL) says so, rather than "Showing 4999901 to 200".
      pastLastPage:
        view.listing.total > 0 && query.page > pageCount
          ? { pageCount, href: withQuery('/', linkQuery, { page: pageCount === 1 ? undefined : pageCount }) }
          : null,
    },
    pagination: {
      page: query.page,
      pageCount,
      previous: query.page > 1 ? withQuery('/', linkQuery, { page: Math.min(query.page - 1, pageCount) }) : null,
      next: query.page < pageCount ? withQuery('/', linkQuery, { page: query.page + 1 }) : null,
    },
    csvHref: withQuery('/services.csv', { ...linkQuery }, {}),
  }
}

/** The compliance officer's first page: counts, what changed since the last run, and the service table. */
export function dashboardRoutes(services: Services): Router {
  const router = Router()
  // The active rule set (read and validated from the database) and the last council file move only with a write: one
  // in this process (a rule set activated, a file received) or a published run, which move the data version,
  // or another process's, shown within its age limit, as the rest of the page. Reading them on every request cost
  // about as much as rendering the page.
  let known: { version: string; rules: ActiveRuleSet; lastCouncilFile: InboxFile | null } | null = null
  const rulesAndLastFile = async () => {
    const version = await services.dashboard.dataVersion()
    if (known?.version === version) return known
    const [rules, lastCouncilFile] = await Promise.all([services.risk.activeRuleSet(), services.inbox.lastReceived()])
    known = { version, rules, lastCouncilFile }
    return known
  }

  const renderedPages = new RenderedPageCache()

  router.get('/', async (req: Request, res) => {
    const parsed = dashboardQuerySchema.safeParse(req.query)
    if (!parsed.success) {
      return res.status(400).render('pages/bad-request', {
        pageTitle: 'There is a problem with the filters',
        errors: fieldErrors(parsed.error),
        backHref: '/',
      })
    }
    // The page is the same for everyone who asks for it until the data moves (a run published, a write here, or the
    // listing's age limit) or the date does: rendered once and kept.
    const key = `${await services.dashboard.dataVersion()}|${services.clock.today()}|${JSON.stringify(parsed.data)}`
    await renderedPages.send(res, 'pages/dashboard', key, async () => {
      const [view, deteriorating, { rules, lastCouncilFile }] = await Promise.all([
        services.dashboard.dashboard(toListingFilter(parsed.data), parsed.data.period),
        // Early warning (SPEC §3, market feature): how many services are deteriorating, whatever the filters.
        services.dashboard.list({ deteriorating: true, limit: 1, offset: 0 }),
        rulesAndLastFile(),
      ])
      return {
        ...dashboardViewModel(view, parsed.data, services, lastCouncilFile, parsed.data.changes === 'all'),
        deteriorating: {
          count: deteriorating.total,
          href: '/?deteriorating=true',
          minimum: rules.ruleSet.deterioration.minAdverseObservations,
          days: rules.ruleSet.deterioration.windowDays,
        },
      }
    })
  })

  return router
}
