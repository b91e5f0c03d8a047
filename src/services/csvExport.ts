import { stringify, type Stringifier } from 'csv-stringify'
import { stringify as stringifySync } from 'csv-stringify/sync'

/**
 * CSV exports that open safely in a spreadsheet. A cell beginning with `=`, `+`, `-`, `@`, a tab or a carriage return
 * could be read as a formula (CSV injection, OWASP), so such text is prefixed with an apostrophe, which spreadsheets
 * show as text and do not evaluate. Numbers are written as numbers: a negative number is not a formula.
 */

const FORMULA_START = /^[=+\-@\t\r]/

export function neutraliseCell(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text
}

export type CsvValue = string | number | boolean | null | undefined

export interface CsvColumn<T> {
  header: string
  value: (row: T) => CsvValue
}

function cellText(value: CsvValue): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'boolean') return value ? 'yes' : 'no'
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : ''
  return neutraliseCell(value)
}

function recordOf<T>(columns: ReadonlyArray<CsvColumn<T>>, row: T): string[] {
  return columns.map((column) => cellText(column.value(row)))
}

const OPTIONS = {
  // A byte order mark so spreadsheet programs read UTF-8 (names with accents) correctly; CRLF as RFC 4180 says.
  bom: true,
  record_delimiter: 'windows',
} as const

/** A whole CSV document in memory (small tables such as the market summary). */
export function toCsv<T>(columns: ReadonlyArray<CsvColumn<T>>, rows: Iterable<T>): string {
  const records = [columns.map((c) => neutraliseCell(c.header)), ...[...rows].map((row) => recordOf(columns, row))]
  return stringifySync(records, OPTIONS)
}

/** A CSV stream: write rows as they come, pipe it to the response. */
export function csvStream<T>(columns: ReadonlyArray<CsvColumn<T>>): {
  stream: Stringifier
  write(row: T): boolean
  end(): void
} {
  const stream = stringify(OPTIONS)
  stream.write(columns.map((c) => neutraliseCell(c.header)))
  return { stream, write: (row) => stream.write(recordOf(columns, row)), end: () => stream.end() }
}

/** A file name safe for a Content-Disposition header. */
export function csvFileName(base: string): string {
  return `${base.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'export'}.csv`
}
