/**
 * Handlebars helpers: dates, RAG and vocabulary labels, JSON for charts, links that keep the current
 * filters, and the small logic templates need (eq, and, or...). Every helper escapes what it prints
 * unless it returns a SafeString built from escaped parts.
 */
import Handlebars from 'handlebars'
import type { HelperDelegate, HelperOptions } from 'handlebars'
import { describeAge, todayIn } from '../domain/dates.js'
import {
  INDICATOR_LABELS,
  SERVICE_TYPE_LABELS,
  SOURCE_LABELS,
  type IndicatorKey,
  type ServiceType,
  type Source,
} from '../domain/vocabulary.js'

type Query = Record<string, unknown>

export interface HelperSettings {
  /** The council's time zone: "today" for ages, and the day a timestamp falls on. */
  timeZone?: string
  now?: () => Date
  /** Maps an asset path ("application.css") to its URL; setUpViews adds a version for cache busting. */
  assetUrl?: (file: string) => string
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/

function isHelperOptions(value: unknown): value is HelperOptions {
  return typeof value === 'object' && value !== null && 'hash' in value && 'data' in value
}

/** The positional arguments of a helper call, without Handlebars' trailing options object. */
function positional(args: unknown[]): unknown[] {
  return args.length > 0 && isHelperOptions(args[args.length - 1]) ? args.slice(0, -1) : args
}

function toDate(value: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value
  if (typeof value !== 'string' || value.trim() === '') return null
  const text = value.trim()
  const date = new Date(DATE_ONLY.test(text) ? `${text}T00:00:00Z` : text)
  return Number.isNaN(date.getTime()) ? null : date
}

/** A calendar date is shown as it is; a timestamp is shown as the day it falls on in the council's time zone. */
function zoneFor(value: unknown, timeZone: string): string {
  return typeof value === 'string' && DATE_ONLY.test(value.trim()) ? 'UTC' : timeZone
}

/** Formatters by locale and options: building an Intl.DateTimeFormat costs far more than using one. */
const formats = new Map<string, Intl.DateTimeFormat>()
function cachedFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`
  let format = formats.get(key)
  if (!format) {
    format = new Intl.DateTimeFormat(locale, options)
    formats.set(key, format)
  }
  return format
}

/** "14 March 2026"; empty for no date. */
export function formatDate(value: unknown, timeZone = 'Europe/London'): string {
  const date = toDate(value)
  if (!date) return ''
  return cachedFormat('en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: zoneFor(value, timeZone),
  }).format(date)
}

/** "14 March 2026 at 2:05am", the GOV.UK style for times. */
export function formatDateTime(value: unknown, timeZone = 'Europe/London'): string {
  const date = toDate(value)
  if (!date) return ''
  const parts = cachedFormat('en-GB', {
    hour: 'numeric',
    minute: '2-digit',
    hour12: true,
    timeZone,
  }).formatToParts(date)
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? ''
  const time = `${part('hour')}:${part('minute')}${part('dayPeriod').toLowerCase().replace(/\s|\./g, '')}`
  return `${formatDate(date, timeZone)} at ${time}`
}

/** "2026-03-14"; empty for no date. */
export function isoDate(value: unknown, timeZone = 'Europe/London'): string {
  const date = toDate(value)
  if (!date) return ''
  return cachedFormat('en-CA', {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    timeZone: zoneFor(value, timeZone),
  }).format(date)
}

const RAG_LABELS: Record<string, string> = { red: 'Red', amber: 'Amber', green: 'Green' }

export function ragLabel(level: unknown): string {
  return RAG_LABELS[String(level ?? '').toLowerCase()] ?? 'No data'
}

export function indicatorLabel(key: unknown): string {
  return INDICATOR_LABELS[key as IndicatorKey] ?? String(key ?? '')
}

export function serviceTypeLabel(type: unknown): string {
  return SERVICE_TYPE_LABELS[type as ServiceType] ?? String(type ?? '')
}

export function sourceLabel(source: unknown): string {
  return SOURCE_LABELS[source as Source] ?? String(source ?? '')
}

/**
 * JSON to put inside `<script type="application/json">`: `<`, `>` and `&` are escaped as \u003c etc.,
 * so no value can close the script element, and U+2028/2029 so the text stays valid everywhere.
 */
export function jsonForScript(value: unknown): string {
  return (JSON.stringify(value ?? null) ?? 'null')
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
}

/**
 * A link to `path` with the current query kept and some keys changed: `null`, `undefined` or `''`
 * removes a key. Arrays become repeated keys (`?area=a&area=b`). Keys keep a stable order.
 */
export function urlWithQuery(path: string, query: Query | undefined, changes: Query = {}): string {
  const merged: Query = { ...(query ?? {}), ...changes }
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(merged)) {
    const values = Array.isArray(value) ? value : [value]
    for (const item of values) {
      if (item === undefined || item === null || item === '') continue
      search.append(key, String(item))
    }
  }
  const text = search.toString()
  return text ? `${path}?${text}` : path
}

export type SortDirection = 'ascending' | 'descending' | 'none'

/**
 * A table head item (for the table partial) whose link sorts by `key`: the query uses `sort` and
 * `dir` (`asc` / `desc`); choosing a new sort goes back to page 1. A header already sorted
 * ascending links to descending.
 */
export function sortableHeader(text: string, key: string, path: string, query: Query | undefined, format?: string) {
  const current = query?.sort === key
  const direction: SortDirection = current ? (query?.dir === 'desc' ? 'descending' : 'ascending') : 'none'
  const nextDir = direction === 'ascending' ? 'desc' : 'asc'
  return {
    text,
    format,
    sort: { href: urlWithQuery(path, query, { sort: key, dir: nextDir, page: null }), direction },
  }
}

/** The word for a count: pluralise(1, 'service') is "service", pluralise(3, 'service') is "services". */
export function pluralise(count: unknown, singular: string, plural?: string): string {
  return Number(count) === 1 ? singular : (plural ?? `${singular}s`)
}

/** percent(3, 12) is "25%"; percent(0.25) is "25%". No whole (or a zero one) gives "0%". */
export function percent(part: unknown, whole?: unknown, decimals = 0): string {
  const numerator = Number(part)
  const fraction = whole === undefined ? numerator : Number(whole) === 0 ? 0 : numerator / Number(whole)
  if (!Number.isFinite(fraction)) return '0%'
  return `${(fraction * 100).toFixed(decimals)}%`
}

function attributeValue(item: unknown): { value: unknown; optional: boolean } {
  if (typeof item === 'object' && item !== null && !Array.isArray(item) && 'value' in item) {
    const { value, optional } = item as { value: unknown; optional?: unknown }
    return { value, optional: optional === true }
  }
  return { value: item, optional: false }
}

/**
 * The Nunjucks `govukAttributes` macro: ` name="value"` pairs from an object, escaped. An item may be
 * `{ value, optional: true }`: then null, undefined and false leave it out and true prints the bare name.
 */
export function govukAttributes(attributes: unknown): Handlebars.SafeString {
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    return new Handlebars.SafeString('')
  }
  let html = ''
  for (const [name, item] of Object.entries(attributes)) {
    const { value, optional } = attributeValue(item)
    const escapedName = Handlebars.escapeExpression(name)
    if (optional && value === true) {
      html += ` ${escapedName}`
    } else if (!optional || (value !== undefined && value !== null && value !== false)) {
      const text = value === undefined || value === null ? '' : String(value)
      html += ` ${escapedName}="${Handlebars.escapeExpression(text)}"`
    }
  }
  return new Handlebars.SafeString(html)
}

/** The helpers registered with express-handlebars (see setUpViews). */
export function createHelpers(settings: HelperSettings = {}): Record<string, HelperDelegate> {
  const timeZone = settings.timeZone ?? 'Europe/London'
  const now = settings.now ?? (() => new Date())
  const assetUrl = settings.assetUrl ?? ((file: string) => `/assets/${file}`)
  const values = (args: unknown[]) => positional(args)
  const hashOf = (args: unknown[]): Query => {
    const last = args[args.length - 1]
    return isHelperOptions(last) ? (last.hash as Query) : {}
  }

  return {
    formatDate: (value: unknown) => formatDate(value, timeZone),
    formatDateTime: (value: unknown) => formatDateTime(value, timeZone),
    isoDate: (value: unknown) => isoDate(value, timeZone),
    /** {{age date}} or {{age date asOf}}: "3 years, 2 months"; empty for no date. */
    age: (...args: unknown[]) => {
      const [from, asOf] = values(args)
      const fromIso = isoDate(from, timeZone)
      if (!fromIso) return ''
      const asOfIso = isoDate(asOf, timeZone) || todayIn(timeZone, now())
      return describeAge(fromIso, asOfIso)
    },
    eq: (...args: unknown[]) => {
      const [a, b] = values(args)
      return a === b
    },
    ne: (...args: unknown[]) => {
      const [a, b] = values(args)
      return a !== b
    },
    gt: (...args: unknown[]) => {
      const [a, b] = values(args)
      return Number(a) > Number(b)
    },
    and: (...args: unknown[]) => values(args).every(Boolean),
    or: (...args: unknown[]) => values(args).some(Boolean),
    not: (...args: unknown[]) => !values(args)[0],
    /** {{includes list value}}: for checked filters. */
    includes: (...args: unknown[]) => {
      const [list, value] = values(args)
      return Array.isArray(list) ? list.map(String).includes(String(value)) : String(list ?? '') === String(value)
    },
    /** {{default value "Not known"}}: the value, or the fallback when it is null, undefined or ''. */
    default: (...args: unknown[]) => {
      const [value, fallback] = values(args)
      return value === undefined || value === null || value === '' ? fallback : value
    },
    ragLabel: (level: unknown) => ragLabel(level),
    indicatorLabel: (key: unknown) => indicatorLabel(key),
    serviceTypeLabel: (type: unknown) => serviceTypeLabel(type),
    sourceLabel: (source: unknown) => sourceLabel(source),
    jsonForScript: (value: unknown) => new Handlebars.SafeString(jsonForScript(value)),
    /** {{urlWithQuery "/services" query page=2}}: the current filters kept, `page` changed. */
    urlWithQuery: (...args: unknown[]) => {
      const [path, query] = values(args)
      return urlWithQuery(String(path ?? ''), query as Query | undefined, hashOf(args))
    },
    /** (sortableHeader "Provider" "provider" "/services" query): a head item for the table partial. */
    sortableHeader: (...args: unknown[]) => {
      const [text, key, path, query, format] = values(args)
      return sortableHeader(
        String(text),
        String(key),
        String(path),
        query as Query | undefined,
        typeof format === 'string' ? format : undefined,
      )
    },
    pluralise: (...args: unknown[]) => {
      const [count, singular, plural] = values(args)
      return pluralise(count, String(singular), typeof plural === 'string' ? plural : undefined)
    },
    percent: (...args: unknown[]) => {
      const [part, whole, decimals] = values(args)
      return percent(part, whole, typeof decimals === 'number' ? decimals : 0)
    },
    formatNumber: (value: unknown) => (typeof value === 'number' ? value.toLocaleString('en-GB') : String(value ?? '')),
    /** (obj text="Name" classes="govuk-label--m"): an object for a component option. */
    obj: (...args: unknown[]) => ({ ...hashOf(args) }),
    /** (arr a b c): an array for a component option. */
    arr: (...args: unknown[]) => values(args),
    govukAttributes: (attributes: unknown) => govukAttributes(attributes),
    /** {{asset "application.css"}}: the URL of a built asset under /assets. */
    asset: (file: unknown) => assetUrl(String(file)),
  }
}
