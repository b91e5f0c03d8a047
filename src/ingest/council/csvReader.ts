import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CsvError, parse } from 'csv-parse'
import { normaliseWord } from '../../domain/vocabulary.js'

/**
 * Streaming reader for the council's CSV files (SPEC §9): UTF-8 with or without BOM, comma-separated, quoted fields,
 * CRLF or LF, a header row. Anything that is not such a file ends with a CsvFileError that says what to do about it.
 */

export type CsvInput = Readable | string | Buffer

/** A problem with the file as a whole: nothing in it is imported. */
export class CsvFileError extends Error {
  override name = 'CsvFileError'
}

/** Longest record accepted, in characters. The longest legitimate row (notes of 4,000 characters) is far below it. */
export const MAX_RECORD_CHARS = 65_536

export interface CsvHeader {
  /** Normalised column names by position ('' for a blank header cell, which is ignored). */
  columns: string[]
  /** Spreadsheet row number of the header (1 unless blank lines precede it). */
  rowNumber: number
}

export interface CsvRow {
  /** Spreadsheet row number: the header is row 1 and every record after it, blank or not, counts one. */
  rowNumber: number
  /** Trimmed values by normalised column name; blank cells are left out. */
  cells: Record<string, string>
  /** How many non-blank values the row has beyond the header's last column. */
  extraValues: number
}

export interface CsvHandlers {
  /** Called once with the header; may throw CsvFileError to refuse the file. */
  onHeader(header: CsvHeader): void
  /** Called for every non-blank data row, in order; a returned promise is awaited before the next row is read. */
  onRow(row: CsvRow): void | Promise<void>
}

/** Normalised column name: trimmed, case-insensitive, spaces/hyphens/underscores alike ("Service Ref" = service_ref). */
export function normaliseColumnName(raw: string): string {
  return normaliseWord(raw)
}

/** Reads the whole input, calling the handlers; resolves with the number of data rows read. Throws CsvFileError. */
export async function readCsv(input: CsvInput, handlers: CsvHandlers): Promise<{ rowsRead: number }> {
  let header: CsvHeader | null = null
  let rowsRead = 0
  let lastRecord = 0
  const parser = parse({
    relax_column_count: true,
    relax_quotes: true,
    // The record delimiter is detected from the header line, so a bare LF inside a value of a CRLF file stays data.
    max_record_size: MAX_RECORD_CHARS,
    info: true,
  })

  async function consume(records: AsyncIterable<{ record: string[]; info: { records: number } }>): Promise<void> {
    for await (const { record, info } of records) {
      lastRecord = info.records
      if (record.every((value) => value.trim() === '')) continue
      if (header === null) {
        header = readHeader(record, info.records)
        handlers.onHeader(header)
        continue
      }
      rowsRead++
      const handled = handlers.onRow(toRow(header, record, info.records))
      if (handled) await handled
    }
  }

  try {
    await pipeline(toByteStream(input), decodeUtf8Text, parser, consume)
  } catch (error) {
    throw asFileError(error, lastRecord + 1)
  }
  if (header === null) throw new CsvFileError('The file is empty: expected a header row and then one row per record.')
  return { rowsRead }
}

function toByteStream(input: CsvInput): Readable {
  if (typeof input === 'string') return Readable.from([Buffer.from(input, 'utf8')])
  if (Buffer.isBuffer(input)) return Readable.from([input])
  return input
}

function readHeader(record: string[], rowNumber: number): CsvHeader {
  const named = record.map((cell) => cell.trim()).filter((cell) => cell !== '')
  const only = named.length === 1 ? (named[0] as string) : ''
  if (only.includes(';')) {
    throw new CsvFileError('The columns are separated by semicolons: save the file as comma-separated CSV (CSV UTF-8).')
  }
  if (only.includes('\t')) {
    throw new CsvFileError('The columns are separated by tabs: save the file as comma-separated CSV (CSV UTF-8).')
  }
  const columns = record.map(normaliseColumnName)
  const seen = new Set<string>()
  for (const column of columns) {
    if (column === '') continue
    if (seen.has(column)) throw new CsvFileError(`The header names column "${column}" more than once.`)
    seen.add(column)
  }
  return { columns, rowNumber }
}

function toRow(header: CsvHeader, record: string[], rowNumber: number): CsvRow {
  const cells: Record<string, string> = {}
  let extraValues = 0
  record.forEach((raw, index) => {
    const value = raw.trim()
    if (value === '') return
    const column = header.columns[index]
    if (column === undefined) extraValues++
    else if (column !== '') cells[column] = value
  })
  return { rowNumber, cells, extraValues }
}

/** Bytes in, UTF-8 text out; refuses other encodings and binary files before the CSV parser sees them. */
async function* decodeUtf8Text(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let head: Buffer | null = Buffer.alloc(0)
  let linesBefore = 0

  function decode(bytes: Buffer | undefined): string {
    let text: string
    try {
      text = bytes === undefined ? decoder.decode() : decoder.decode(bytes, { stream: true })
    } catch {
      const partial = new TextDecoder('utf-8').decode(bytes ?? Buffer.alloc(0))
      const badAt = partial.indexOf('\uFFFD')
      const line = linesBefore + 1 + countLineBreaks(badAt >= 0 ? partial.slice(0, badAt) : partial)
      throw new CsvFileError(
        `The file is not UTF-8 text (line ${line} has bytes that are not UTF-8, such as an accented letter saved as ` +
          'Windows/Latin-1): save it as "CSV UTF-8 (Comma delimited)".',
      )
    }
    // eslint-disable-next-line no-control-regex -- control characters are exactly what marks a binary file
    const control = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.exec(text)
    if (control) {
      const line = linesBefore + 1 + countLineBreaks(text.slice(0, control.index))
      throw new CsvFileError(`This is not a CSV text file: it contains binary data (line ${line}).`)
    }
    linesBefore += countLineBreaks(text)
    return text
  }

  for await (const chunk of chunks) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk
    if (head !== null) {
      head = Buffer.concat([head, bytes])
      if (head.length < SNIFF_BYTES) continue
      refuseKnownBinary(head)
      const first = head
      head = null
      yield decode(first)
    } else {
      yield decode(bytes)
    }
  }
  if (head !== null) {
    refuseKnownBinary(head)
    yield decode(head)
  }
  yield decode(undefined)
}

const SNIFF_BYTES = 4

/** Files councils commonly drop by mistake, recognised by their first bytes. */
const KNOWN_BINARY: Array<{ magic: number[]; message: string }> = [
  {
    magic: [0x50, 0x4b, 0x03, 0x04],
    message: 'This is an Excel workbook (.xlsx) or other zip file, not CSV: save it as "CSV UTF-8 (Comma delimited)".',
  },
  {
    magic: [0xd0, 0xcf, 0x11, 0xe0],
    message: 'This is an old Excel (.xls) or Office file, not CSV: save it as "CSV UTF-8 (Comma delimited)".',
  },
  { magic: [0x25, 0x50, 0x44, 0x46], message: 'This is a PDF, not a CSV file.' },
  { magic: [0x1f, 0x8b], message: 'This is a compressed (gzip) file: unzip it first.' },
  {
    magic: [0xff, 0xfe],
    message: 'The file is UTF-16 text (Excel "Unicode Text"), not UTF-8: save it as "CSV UTF-8 (Comma delimited)".',
  },
  {
    magic: [0xfe, 0xff],
    message: 'The file is UTF-16 text (Excel "Unicode Text"), not UTF-8: save it as "CSV UTF-8 (Comma delimited)".',
  },
]

function refuseKnownBinary(head: Buffer): void {
  for (const { magic, message } of KNOWN_BINARY) {
    if (head.length >= magic.length && magic.every((byte, index) => head[index] === byte)) {
      throw new CsvFileError(message)
    }
  }
}

function countLineBreaks(text: string): number {
  let count = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code === 10 || (code === 13 && text.charCodeAt(i + 1) !== 10)) count++
  }
  return count
}

function asFileError(error: unknown, rowNumber: number): Error {
  if (error instanceof CsvFileError) return error
  if (error instanceof CsvError) {
    // The parser runs ahead of the rows handled so far: its own count says which record failed.
    if (typeof error.records === 'number') rowNumber = error.records + 1
    switch (error.code) {
      case 'CSV_MAX_RECORD_SIZE':
        return new CsvFileError(
          `Row ${rowNumber} is longer than ${MAX_RECORD_CHARS.toLocaleString('en-GB')} characters: ` +
            'this does not look like a council CSV file (or a quote mark is never closed).',
        )
      case 'CSV_QUOTE_NOT_CLOSED':
        return new CsvFileError(`A quoted value that starts on row ${rowNumber} is never closed (a " is missing).`)
      case 'CSV_INVALID_CLOSING_QUOTE':
      case 'INVALID_OPENING_QUOTE':
        return new CsvFileError(`Row ${rowNumber} is not valid CSV: a quote mark (") is misplaced.`)
      default:
        return new CsvFileError(`Row ${rowNumber} is not valid CSV: ${error.message}`)
    }
  }
  if (isSystemError(error)) return new CsvFileError(`The file could not be read: ${error.message}`)
  return error instanceof Error ? error : new Error(String(error))
}

function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && 'syscall' in error
}
