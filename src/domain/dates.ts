/** Calendar-date helpers on ISO strings (YYYY-MM-DD), computed in UTC so no time zone shifts a day. */

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const UK_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/
const DAY_MS = 86_400_000

function validYmd(y: number, m: number, d: number): string | null {
  const date = new Date(Date.UTC(y, m - 1, d))
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return null
  return date.toISOString().slice(0, 10)
}

/**
 * Parses a date as council spreadsheets export it: ISO 8601 (`2026-03-14`, optionally with a time part)
 * or UK day/month/year (`14/03/2026`). Anything else (US order, two-digit years, 31/02) gives null:
 * rejected, never guessed.
 */
export function parseCouncilDate(raw: string): string | null {
  const text = raw.trim()
  const isoWithTime = /^(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(text)
  if (isoWithTime) {
    const m = ISO_DATE.exec(isoWithTime[1] as string)
    return m ? validYmd(Number(m[1]), Number(m[2]), Number(m[3])) : null
  }
  const uk = UK_DATE.exec(text)
  if (uk) return validYmd(Number(uk[3]), Number(uk[2]), Number(uk[1]))
  return null
}

export function isIsoDate(text: string): boolean {
  const m = ISO_DATE.exec(text)
  return m !== null && validYmd(Number(m[1]), Number(m[2]), Number(m[3])) !== null
}

function toUtcMs(isoDate: string): number {
  return Date.parse(`${isoDate.slice(0, 10)}T00:00:00Z`)
}

/** Whole days from `from` to `to` (positive when `to` is later). */
export function daysBetween(from: string, to: string): number {
  return Math.round((toUtcMs(to) - toUtcMs(from)) / DAY_MS)
}

export function addDays(isoDate: string, days: number): string {
  return new Date(toUtcMs(isoDate) + days * DAY_MS).toISOString().slice(0, 10)
}

export function addMonths(isoDate: string, months: number): string {
  const d = new Date(toUtcMs(isoDate))
  const day = d.getUTCDate()
  d.setUTCDate(1)
  d.setUTCMonth(d.getUTCMonth() + months)
  const lastDay = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate()
  d.setUTCDate(Math.min(day, lastDay))
  return d.toISOString().slice(0, 10)
}

const dayFormats = new Map<string, Intl.DateTimeFormat>()

/** Today's date in the given IANA time zone (the council's, Europe/London by default). */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  let format = dayFormats.get(timeZone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    dayFormats.set(timeZone, format)
  }
  return format.format(now)
}

/** "3 years, 2 months" style age for display. */
export function describeAge(fromIso: string, asOf: string): string {
  const days = daysBetween(fromIso, asOf)
  if (days < 0) return 'in the future'
  if (days === 0) return 'today'
  if (days < 31) return `${days} day${days === 1 ? '' : 's'}`
  const months = Math.floor(days / 30.44)
  if (months < 12) return `${months} month${months === 1 ? '' : 's'}`
  const years = Math.floor(months / 12)
  const rest = months % 12
  return `${years} year${years === 1 ? '' : 's'}${rest ? `, ${rest} month${rest === 1 ? '' : 's'}` : ''}`
}
