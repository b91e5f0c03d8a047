import { addDays } from '../domain/dates.js'
import { calendarDateOf, formatDate, formatDateTime } from './display.js'

/** The council's hour (0-23) of a timestamp. */
function hourOf(iso: string, timeZone: string): number {
  const hour = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', hourCycle: 'h23' }).format(new Date(iso))
  return Number(hour)
}

/** "5 December", with the year only when it is not this year's. */
export function dayAndMonth(isoDate: string, today: string): string {
  const full = formatDate(isoDate)
  return isoDate.slice(0, 4) === today.slice(0, 4) ? full.replace(/ \d{4}$/, '') : full
}

/**
 * When a source failed, as a person says it: "last night" for the overnight hours (18:00 the day before to 07:00
 * today), "today at 14:03", "yesterday", else "on 3 December". The timestamp itself is on the admin run page.
 */
export function failedWhen(attemptAt: string | null, timeZone: string, today: string): string {
  if (!attemptAt) return ''
  const day = calendarDateOf(attemptAt, timeZone)
  const hour = hourOf(attemptAt, timeZone)
  const yesterday = addDays(today, -1)
  if ((day === today && hour < 7) || (day === yesterday && hour >= 18)) return 'last night'
  if (day === today) return `today at ${formatDateTime(attemptAt, timeZone).replace(/^.* at /, '')}`
  if (day === yesterday) return 'yesterday'
  return `on ${dayAndMonth(day, today)}`
}

/** "CQC: failed last night, data from 5 December" (or "no data yet"): no technical detail, which is for admins. */
export function failedSourceText(
  label: string,
  attemptAt: string | null,
  lastSuccessAt: string | null,
  timeZone: string,
  today: string,
): string {
  const dataFrom = lastSuccessAt
    ? `data from ${dayAndMonth(calendarDateOf(lastSuccessAt, timeZone), today)}`
    : 'no data from it yet'
  return `${label}: failed ${failedWhen(attemptAt, timeZone, today)}, ${dataFrom}`
}
