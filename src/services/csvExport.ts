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

// Tables of a rendered page as CSV (`?format=csv` on any page with tables, src/routes/exports.ts). Read from the page's
// own HTML, so the CSV has exactly the rows, filters and role-dependent columns the page shows, and nothing more.

export interface HtmlTable {
  /** The table's `data-testid`, when it has one (what `?table=` selects). */
  id: string | null
  /** Its caption, or else the heading just before it. */
  title: string
  header: string[]
  rows: string[][]
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  middot: '·',
  ndash: '–',
  mdash: '—',
  hellip: '…',
  pound: '£',
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, code: string) => {
    if (code[0] === '#') {
      const point = code[1] === 'x' || code[1] === 'X' ? parseInt(code.slice(2), 16) : parseInt(code.slice(1), 10)
      return Number.isFinite(point) && point > 0 && point <= 0x10ffff ? String.fromCodePoint(point) : whole
    }
    return NAMED_ENTITIES[code.toLowerCase()] ?? whole
  })
}

/** The text a reader sees in a fragment of HTML: tags dropped (line breaks become spaces), entities decoded. */
export function htmlText(fragment: string): string {
  return decodeEntities(
    fragment
      .replace(/<span class="govuk-visually-hidden">[^<]*<\/span>/g, '')
      .replace(/<br\s*\/?>/gi, ' ')
      .replace(/<[^>]*>/g, ''),
  )
    .replace(/\s+/g, ' ')
    .trim()
}

function attribute(tag: string, name: string): string | null {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag)
  return match ? decodeEntities(match[1] as string) : null
}

function span(tag: string, name: string): number {
  const value = Number(attribute(tag, name))
  return Number.isInteger(value) && value > 1 ? Math.min(value, 100) : 1
}

interface Cell {
  text: string
  header: boolean
  colspan: number
  rowspan: number
}

function cellsOf(row: string): Cell[] {
  return [...row.matchAll(/<(th|td)(\s[^>]*)?>([\s\S]*?)<\/\1>/gi)].map((m) => ({
    text: htmlText(m[3] as string),
    header: (m[1] as string).toLowerCase() === 'th',
    colspan: span(m[2] ?? '', 'colspan'),
    rowspan: span(m[2] ?? '', 'rowspan'),
  }))
}

/** Lays out rows of cells on a grid, repeating a cell that spans rows and padding one that spans columns. */
function grid(rows: Cell[][]): string[][] {
  const carried: Array<{ text: string; left: number } | undefined> = []
  return rows.map((cells) => {
    const out: string[] = []
    let column = 0
    const fillCarried = () => {
      for (let c = carried[column]; c && c.left > 0; c = carried[column]) {
        out.push(c.text)
        c.left--
        column++
      }
    }
    for (const cell of cells) {
      fillCarried()
      for (let i = 0; i < cell.colspan; i++) {
        const text = i === 0 ? cell.text : ''
        out.push(text)
        carried[column] = cell.rowspan > 1 ? { text, left: cell.rowspan - 1 } : undefined
        column++
      }
    }
    fillCarried()
    return out
  })
}

/** Every table of a page (tables are not nested in this application's pages). */
export function tablesFromHtml(html: string): HtmlTable[] {
  const tables: HtmlTable[] = []
  let lastHeading = ''
  let at = 0
  const pattern = /<table(\s[^>]*)?>([\s\S]*?)<\/table>/gi
  for (let match = pattern.exec(html); match; match = pattern.exec(html)) {
    const before = html.slice(at, match.index)
    const headings = [...before.matchAll(/<h[1-4][^>]*>([\s\S]*?)<\/h[1-4]>/gi)]
    if (headings.length > 0) lastHeading = htmlText(headings[headings.length - 1]?.[1] ?? '')
    at = match.index + match[0].length
    const body = match[2] as string
    const caption = /<caption[^>]*>([\s\S]*?)<\/caption>/i.exec(body)
    const head = /<thead[^>]*>([\s\S]*?)<\/thead>/i.exec(body)?.[1] ?? ''
    const rest = head ? body.replace(/<thead[^>]*>[\s\S]*?<\/thead>/i, '') : body
    const rowsOf = (fragment: string) =>
      [...fragment.matchAll(/<tr(?:\s[^>]*)?>([\s\S]*?)<\/tr>/gi)].map((m) => cellsOf(m[1] as string))
    let headRows = rowsOf(head)
    let bodyRows = rowsOf(rest).filter((cells) => cells.length > 0)
    if (headRows.length === 0 && bodyRows[0]?.every((cell) => cell.header)) {
      headRows = bodyRows.slice(0, 1)
      bodyRows = bodyRows.slice(1)
    }
    const header = grid(headRows).at(-1) ?? []
    const width = Math.max(header.length, ...bodyRows.map((cells) => cells.reduce((n, c) => n + c.colspan, 0)))
    // A lone cell across the whole table ("No entries") says the table is empty; it is not a row of data.
    bodyRows = bodyRows.filter((cells) => !(width > 1 && cells.length === 1 && (cells[0]?.colspan ?? 1) >= width))
    tables.push({
      id: attribute(match[1] ?? '', 'data-testid'),
      title: caption ? htmlText(caption[1] as string) : lastHeading,
      header,
      rows: grid(bodyRows),
    })
  }
  return tables
}

const PLAIN_NUMBER = /^-?\d+(\.\d+)?$/

/**
 * Tables as one CSV: a single table as header and rows; several, each under a row with its title and after a blank
 * row. Text cells are neutralised like every export (a plain number such as -2 is left as it is: it is no formula).
 */
export function tablesToCsv(tables: readonly HtmlTable[]): string {
  const safe = (cell: string) => (PLAIN_NUMBER.test(cell) ? cell : neutraliseCell(cell))
  const records: string[][] = []
  for (const [index, table] of tables.entries()) {
    if (tables.length > 1) {
      if (index > 0) records.push([])
      records.push([safe(table.title || table.id || `Table ${index + 1}`)])
    }
    if (table.header.length > 0) records.push(table.header.map(safe))
    for (const row of table.rows) records.push(row.map(safe))
  }
  return stringifySync(records, OPTIONS)
}
