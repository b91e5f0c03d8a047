import { LRUCache } from 'lru-cache'
import { describeAge, daysBetween } from '../domain/dates.js'
import {
  INDICATOR_LABELS,
  SERVICE_TYPE_LABELS,
  SOURCE_LABELS,
  type IndicatorKey,
  type Level,
  type ServiceType,
  type Source,
} from '../domain/vocabulary.js'

/** Small display helpers shared by the page routes' view models. Pages get ready-made strings, not logic. */

const TAG_CLASSES: Record<Level, string> = {
  red: 'govuk-tag--red',
  amber: 'govuk-tag--orange',
  green: 'govuk-tag--green',
  none: 'govuk-tag--grey',
}
const LEVEL_TEXT: Record<Level, string> = { red: 'Red', amber: 'Amber', green: 'Green', none: 'No data' }

export interface Tag {
  text: string
  classes: string
}

export function ragTag(level: Level | null | undefined): Tag {
  const key = level ?? 'none'
  return { text: key === 'none' && level === null ? 'Not computed' : LEVEL_TEXT[key], classes: TAG_CLASSES[key] }
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
]

/** "14 March 2026" from an ISO date or timestamp. */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return ''
  const [y, m, d] = iso.slice(0, 10).split('-').map(Number)
  if (!y || !m || !d) return iso
  return `${d} ${MONTHS[m - 1]} ${y}`
}

/** The council's calendar date (ISO) of a timestamp: a change at 00:30 BST is that day's, not the day before's. */
export function calendarDateOf(iso: string, timeZone: string): string {
  let format = calendarDates.get(timeZone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    calendarDates.set(timeZone, format)
  }
  return format.format(new Date(iso))
}
const calendarDates = new Map<string, Intl.DateTimeFormat>()

/** "Red since 5 December 2026": when the service's RAG became what it is now. */
export function ragSinceText(rag: Level, since: string, timeZone: string): string {
  return `${ragTag(rag).text} since ${formatDate(calendarDateOf(since, timeZone))}`
}

/** One formatter per time zone: building an Intl.DateTimeFormat costs far more than using one (dashboard rows). */
const dateTimeFormats = new Map<string, Intl.DateTimeFormat>()
function dateTimeFormat(timeZone: string): Intl.DateTimeFormat {
  let format = dateTimeFormats.get(timeZone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      day: 'numeric',
      month: 'long',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
    dateTimeFormats.set(timeZone, format)
  }
  return format
}

/** Recent answers: a dashboard shows the same few run timestamps on every row of its changes list. */
const formatted = new LRUCache<string, string>({ max: 10_000 })

/** "14 March 2026 at 02:04" in the council's time zone. */
export function formatDateTime(iso: string | null | undefined, timeZone: string): string {
  if (!iso) return ''
  const key = `${timeZone}|${iso}`
  const known = formatted.get(key)
  if (known !== undefined) return known
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  const parts = dateTimeFormat(timeZone).formatToParts(date)
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? ''
  const text = `${get('day')} ${get('month')} ${get('year')} at ${get('hour')}:${get('minute')}`
  formatted.set(key, text)
  return text
}

export function ageText(iso: string | null | undefined, today: string): string {
  if (!iso) return ''
  const days = daysBetween(iso.slice(0, 10), today)
  // A date after today (another clock, a council's future-dated entry) reads as such, not "in the future ago".
  return days === 0 ? 'today' : days < 0 ? 'in the future' : `${describeAge(iso.slice(0, 10), today)} ago`
}

export function serviceTypeLabel(type: string): string {
  return SERVICE_TYPE_LABELS[type as ServiceType] ?? type
}

export function indicatorLabel(key: string): string {
  return INDICATOR_LABELS[key as IndicatorKey] ?? key
}

export function sourceLabel(source: string | null | undefined): string {
  if (!source) return ''
  if (source === 'compliance_action') return 'Compliance action'
  return SOURCE_LABELS[source as Source] ?? source
}

/** A link to the same page with some query parameters replaced (undefined or '' removes one). */
export function withQuery(path: string, current: Record<string, unknown>, changes: Record<string, unknown>): string {
  const params = new URLSearchParams()
  const merged: Record<string, unknown> = { ...current, ...changes }
  for (const [key, value] of Object.entries(merged)) {
    if (value === undefined || value === null || value === '') continue
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null && item !== '') params.append(key, String(item))
    }
  }
  const query = params.toString()
  return query ? `${path}?${query}` : path
}

/** Names of the refresh run's sources (source_runs.source), as the freshness line shows them. */
const RUN_SOURCE_LABELS: Record<string, string> = {
  cqc: 'CQC',
  fhrs: 'Food hygiene (FSA)',
  companies_house: 'Companies House',
  council_inbox: 'Council files',
}

export function runSourceLabel(source: string): string {
  return RUN_SOURCE_LABELS[source] ?? sourceLabel(source)
}

/**
 * The inputs of a judgement older than the rule set allows (the indicators marked stale), by label, when the overall
 * RAG is Green: a Green built on an old rating must not pass for a fresh one. Empty otherwise.
 */
export function staleGreenInputs(
  result: { rag: Level; indicators: ReadonlyArray<{ key: string; stale: boolean }> } | null,
): string[] {
  if (!result || result.rag !== 'green') return []
  return result.indicators.filter((indicator) => indicator.stale).map((indicator) => indicatorLabel(indicator.key))
}
