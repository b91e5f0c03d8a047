import type { CsvValue, ExportTable } from '../../services/csvExport.js'

/** A page's view-model, or a row of one: what the page's template reads. */
export type Model = Record<string, unknown>

/** The value at a dotted path of a view-model (`tag.text`), or undefined. */
export function valueAt(model: unknown, path: string): unknown {
  let value = model
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Model)[key]
  }
  return value
}

/** The text a template shows for a value: strings and numbers as they are, nothing for the rest. */
export function text(model: unknown, path: string): string {
  const value = valueAt(model, path)
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : ''
}

/** The rows at a path of a view-model (an `{{#each}}`), or none. */
export function rowsAt(model: unknown, path: string): Model[] {
  const value = valueAt(model, path)
  return Array.isArray(value) ? (value as Model[]) : []
}

/** Whether the template's `{{#if path}}` shows (Handlebars: an empty list is false). */
export function shows(model: unknown, path: string): boolean {
  const value = valueAt(model, path)
  return Array.isArray(value) ? value.length > 0 : Boolean(value)
}

/** Pieces of a cell, as a reader sees them on one line: empty pieces dropped, the rest spaced. */
export function words(...pieces: Array<string | false | null | undefined>): string {
  return pieces.filter((piece): piece is string => typeof piece === 'string' && piece !== '').join(' ')
}

/** A list the template writes out item by item (`{{#each reasons}}`), joined. */
export function listText(model: unknown, path: string, separator = ' '): string {
  const value = valueAt(model, path)
  return Array.isArray(value) ? value.filter((item) => typeof item === 'string').join(separator) : ''
}

export interface Column {
  header: string
  cell: (row: Model, model: Model) => CsvValue
  /** Only when the template shows the column (a role's column). */
  when?: (model: Model) => boolean
}

export interface TableSpec {
  /** The table's `data-testid` (what `?table=` picks), when it has one. */
  id: string | null
  /** Its caption, or the heading above it. */
  title: string | ((model: Model) => string)
  /** The view-model's rows. */
  rows: (model: Model) => Model[]
  columns: Column[]
  /** Only when the template draws the table. */
  when?: (model: Model) => boolean
}

/** One table of rows at a path, the common case. */
export function table(
  id: string | null,
  title: TableSpec['title'],
  path: string,
  columns: Column[],
  when?: TableSpec['when'],
): TableSpec {
  return { id, title, rows: (model) => rowsAt(model, path), columns, ...(when ? { when } : {}) }
}

/** A column showing the text at a path of its row. */
export function column(header: string, path: string): Column {
  return { header, cell: (row) => text(row, path) }
}

/** The tables a page's view-model holds, as it shows them. */
export function tablesOf(specs: readonly TableSpec[], model: Model): ExportTable[] {
  return specs
    .filter((spec) => spec.when?.(model) ?? true)
    .map((spec) => {
      const columns = spec.columns.filter((c) => c.when?.(model) ?? true)
      return {
        id: spec.id,
        title: typeof spec.title === 'string' ? spec.title : spec.title(model),
        header: columns.map((c) => c.header),
        rows: spec.rows(model).map((row) => columns.map((c) => c.cell(row, model))),
      }
    })
}
