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

// Tables of a page as CSV (`?format=csv` on any page with tables, src/routes/exports.ts), built from the view-model the
// page renders, so the CSV has exactly the rows, filters and role-dependent columns the page shows, and nothing more.

export interface ExportTable {
  /** The table's `data-testid`, when it has one (what `?table=` selects). */
  id: string | null
  /** Its caption, or else the heading just before it. */
  title: string
  header: string[]
  rows: CsvValue[][]
}

const PLAIN_NUMBER = /^-?\d+(\.\d+)?$/

/** A cell of a page's table: a plain number such as -2 is left as it is (it is no formula), other text neutralised. */
function tableCell(value: CsvValue): string {
  return typeof value === 'string' && PLAIN_NUMBER.test(value) ? value : cellText(value)
}

/**
 * Tables as one CSV: a single table as header and rows; several, each under a row with its title and after a blank
 * row. Text cells are neutralised like every export.
 */
export function tablesToCsv(tables: readonly ExportTable[]): string {
  const records: string[][] = []
  for (const [index, table] of tables.entries()) {
    if (tables.length > 1) {
      if (index > 0) records.push([])
      records.push([tableCell(table.title || table.id || `Table ${index + 1}`)])
    }
    if (table.header.length > 0) records.push(table.header.map(tableCell))
    for (const row of table.rows) records.push(row.map(tableCell))
  }
  return stringifySync(records, OPTIONS)
}
