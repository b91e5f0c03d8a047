import { Readable } from 'node:stream'
import { isIsoDate } from '../../domain/dates.js'
import { CsvFileError, normaliseColumnName, readCsv, type CsvInput } from './csvReader.js'
import { missingColumns, plural, recogniseKind } from './recogniseKind.js'
import {
  COUNCIL_IMPORT_KINDS,
  KIND_COLUMNS,
  SERVICE_NAMING_COLUMNS,
  isCouncilImportKind,
  rowSchemaFor,
  type CouncilImportKind,
  type CouncilRow,
  type CouncilRowOf,
} from './schemas.js'

export interface RowReject {
  /** Spreadsheet row number (the header is row 1). */
  rowNumber: number
  column?: string
  reason: string
}

export interface ParsedRow<T> {
  rowNumber: number
  value: T
}

interface CouncilCsvCommon {
  /** Normalised names of the header's columns, in file order. */
  columns: string[]
  /** Columns the kind does not use (reported, not an error). */
  ignoredColumns: string[]
  rejects: RowReject[]
  /** A problem with the whole file. When set, `rows` and `rejects` are empty: import nothing. */
  fileError?: string
  /** Data rows read (blank rows not counted). */
  rowsRead: number
}

export type CouncilCsvResultOf<K extends CouncilImportKind> = {
  [P in K]: CouncilCsvCommon & { kind: P; rows: ParsedRow<CouncilRowOf[P]>[] }
}[K]

/** The kind could not be told (an unknown kind, or a header that is no council file): always a file error. */
export type UnrecognisedCsvResult = CouncilCsvCommon & { kind: null; rows: []; fileError: string }

export type CouncilCsvResult = CouncilCsvResultOf<CouncilImportKind> | UnrecognisedCsvResult

export interface ParseCouncilCsvOptions {
  /** Today's date (ISO) in the council's time zone: events cannot be dated after it. */
  today: string
}

/** Reading a large file without holding its rows: the good rows are handed over in batches as they are read. */
export interface CouncilCsvBatchOptions extends ParseCouncilCsvOptions {
  batchSize: number
  /**
   * Receives each full batch of good rows, in file order, and is awaited before reading on. The rows of the last,
   * partial batch are returned in the result's `rows` instead. A file error may come after batches were handed over.
   */
  onBatch?: (kind: CouncilImportKind, rows: ParsedRow<CouncilRow>[]) => Promise<void>
  /** Only look for problems with the whole file (header, encoding, CSV syntax): rows are counted, not validated. */
  checkOnly?: boolean
}

/**
 * Reads and validates one council CSV file of the given kind, or of the kind its header shows ('auto', for the
 * inbox). Every bad row is reported with its row number, column and reason; good rows are kept. Whether the named
 * service exists is for the caller to check.
 */
export function parseCouncilCsv<K extends CouncilImportKind>(
  input: CsvInput,
  kind: K,
  options: ParseCouncilCsvOptions,
): Promise<CouncilCsvResultOf<K> | UnrecognisedCsvResult>
export function parseCouncilCsv(
  input: CsvInput,
  kind: 'auto',
  options: ParseCouncilCsvOptions,
): Promise<CouncilCsvResult>
export async function parseCouncilCsv(
  input: CsvInput,
  requestedKind: CouncilImportKind | 'auto',
  options: ParseCouncilCsvOptions,
): Promise<CouncilCsvResult> {
  return parseCouncilCsvInBatches(input, requestedKind, { today: options.today, batchSize: Infinity })
}

/**
 * parseCouncilCsv for a file too large to hold: full batches of good rows go to `onBatch` as they are read, so only
 * one batch (and the rejects) is held at a time. With `checkOnly`, a first pass that tells whether the file can be
 * imported at all before anything of it is written.
 */
export async function parseCouncilCsvInBatches(
  input: CsvInput,
  requestedKind: CouncilImportKind | 'auto',
  options: CouncilCsvBatchOptions,
): Promise<CouncilCsvResult> {
  if (!isIsoDate(options.today)) throw new TypeError(`today must be an ISO date, got ${options.today}`)
  if (requestedKind !== 'auto' && !isCouncilImportKind(requestedKind)) {
    if (input instanceof Readable) input.destroy()
    return unrecognised(unknownKindMessage(requestedKind))
  }

  let kind: CouncilImportKind | null = requestedKind === 'auto' ? null : requestedKind
  let columns: string[] = []
  let ignoredColumns: string[] = []
  let rowsRead = 0
  let rows: ParsedRow<CouncilRow>[] = []
  const rejects: RowReject[] = []

  try {
    let validate: ((cells: Record<string, string>) => ValidatedRow) | null = null
    await readCsv(input, {
      onHeader(header) {
        columns = header.columns.filter((column) => column !== '')
        kind = kind ?? recognisedOrRefused(columns)
        refuseMissingColumns(kind, columns)
        const known = new Set<string>([
          ...SERVICE_NAMING_COLUMNS,
          ...KIND_COLUMNS[kind].required,
          ...KIND_COLUMNS[kind].optional,
        ])
        ignoredColumns = columns.filter((column) => !known.has(column))
        validate = options.checkOnly ? null : rowValidator(kind, options.today)
      },
      onRow({ rowNumber, cells, extraValues }) {
        rowsRead++
        if (validate === null) return
        const result = validate(cells)
        const problems = result.ok ? [] : result.problems
        if (extraValues > 0) {
          problems.unshift({
            reason: `has ${extraValues} more ${plural(extraValues, 'value')} than the header has columns (does a value with a comma need quotes?)`,
          })
        }
        if (result.ok && problems.length === 0) rows.push({ rowNumber, value: result.value })
        else rejects.push(...problems.map((problem) => ({ rowNumber, ...problem })))
        if (rows.length < options.batchSize || options.onBatch === undefined) return
        const batch = rows
        rows = []
        return options.onBatch(kind as CouncilImportKind, batch)
      },
    })
  } catch (error) {
    if (!(error instanceof CsvFileError)) throw error
    const common = { columns, ignoredColumns, rejects: [], fileError: error.message, rowsRead }
    return kind === null ? { ...common, kind: null, rows: [] } : ({ ...common, kind, rows: [] } as CouncilCsvResult)
  }
  if (kind === null) return unrecognised('The file is empty: expected a header row.')
  return { kind, columns, ignoredColumns, rows, rejects, rowsRead } as CouncilCsvResult
}

function unrecognised(fileError: string): UnrecognisedCsvResult {
  return { kind: null, columns: [], ignoredColumns: [], rows: [], rejects: [], fileError, rowsRead: 0 }
}

export function unknownKindMessage(kind: string): string {
  return `Unknown kind of import "${kind}": use one of ${COUNCIL_IMPORT_KINDS.join(', ')}.`
}

function recognisedOrRefused(columns: string[]): CouncilImportKind {
  const recognition = recogniseKind(columns)
  if (recognition.kind === null) throw new CsvFileError(recognition.reason)
  return recognition.kind
}

function refuseMissingColumns(kind: CouncilImportKind, columns: string[]): void {
  const missing = missingColumns(kind, columns)
  if (missing.length === 0) return
  const recognition = recogniseKind(columns)
  const hint =
    recognition.kind !== null && recognition.kind !== kind ? ` (the header looks like ${recognition.kind})` : ''
  throw new CsvFileError(
    `The file has no ${missing.join(', ')} ${plural(missing.length, 'column')}, which ${kind} needs${hint}.`,
  )
}

type RowProblem = Omit<RowReject, 'rowNumber'>
type ValidatedRow = { ok: true; value: CouncilRow } | { ok: false; problems: RowProblem[] }

function rowValidator(kind: CouncilImportKind, today: string): (cells: Record<string, string>) => ValidatedRow {
  const schema = rowSchemaFor(kind, today)
  return (cells) => {
    const problems: RowProblem[] = []
    if (!SERVICE_NAMING_COLUMNS.some((column) => cells[column] !== undefined)) {
      problems.push({
        column: SERVICE_NAMING_COLUMNS[0],
        reason: `is blank, and so is ${SERVICE_NAMING_COLUMNS[1]}: name the service by one of them`,
      })
    }
    const parsed = schema.safeParse(cells)
    if (parsed.success) return problems.length === 0 ? { ok: true, value: parsed.data } : { ok: false, problems }
    for (const issue of parsed.error.issues) {
      const column = issue.path[0]
      problems.push(typeof column === 'string' ? { column, reason: issue.message } : { reason: issue.message })
    }
    return { ok: false, problems }
  }
}

/**
 * Validates one record given as named fields (e.g. the JSON body of `POST /services/{ref}/intelligence`, which
 * uses the CSV's field names): the same rules as a CSV row. Blank fields count as absent; every field given must be
 * text (a JSON number or null is refused by name).
 */
export function parseCouncilRecord<K extends CouncilImportKind>(
  kind: K,
  fields: Record<string, unknown>,
  options: ParseCouncilCsvOptions,
): { ok: true; value: CouncilRowOf[K] } | { ok: false; problems: RowProblem[] } {
  const cells: Record<string, string> = {}
  const problems: RowProblem[] = []
  for (const [name, raw] of Object.entries(fields)) {
    const column = normaliseColumnName(name)
    if (raw === undefined) continue
    // JSON null or a number is not text: refused by name rather than read as blank or as its digits.
    if (typeof raw !== 'string') {
      problems.push({ column, reason: raw === null ? 'must be text, not null: leave the field out' : 'must be text' })
      continue
    }
    const value = raw.trim()
    if (value !== '') cells[column] = value
  }
  const result = rowValidator(kind, options.today)(cells)
  if (!result.ok) {
    const notText = new Set(problems.map((problem) => problem.column))
    return { ok: false, problems: [...problems, ...result.problems.filter((problem) => !notText.has(problem.column))] }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: result.value as CouncilRowOf[K] }
}
