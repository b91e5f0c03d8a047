import { createReadStream } from 'node:fs'
import type { Readable } from 'node:stream'
import { parse, type CsvError } from 'csv-parse'
import { describeFsError } from '../sourcePath.js'
import { distinctIds, ResultBuilder, type ConnectorRequest, type ConnectorResult } from '../types.js'
import type { CqcLocationFacts } from './facts.js'
import { FILE_KIND_LABELS, Header, kindOf, looksLikeHeader, type CqcFileKind } from './fileHeader.js'
import { collectLongFormat, mapLongFormat, SKIPPED, type LongFormatLocation } from './longFormat.js'
import { mapRow } from './wideFormat.js'

/**
 * The CQC's downloadable files as CSV (FORMATS §2), streamed row by row: HSCA Active Locations, Deactivated
 * Locations, the care directory, and the long-format Latest ratings "Locations" sheet (its "Providers" sheet is
 * recognised and refused: it rates providers, not locations). The header is found by its column names (files may open
 * with a notice block or preamble) and columns are read by name, in any spelling CQC has used. A malformed row is
 * rejected with its line and reason; the rest of the file is kept.
 */
export type { CqcFileKind } from './fileHeader.js'

export interface CqcFileRequest extends ConnectorRequest {
  /** A path, or an already-open stream (tests, or a file fetched another way). */
  file: string | Readable
}

export interface CqcFileResult extends ConnectorResult<CqcLocationFacts> {
  fileKind: CqcFileKind
}

export const HEADER_SEARCH_ROWS = 50

/** CQC publishes its monthly files as spreadsheets; this connector streams CSV (a sheet saved as CSV). */
const SPREADSHEET_EXTENSIONS = /\.(ods|xlsx|xls)$/i

export class CqcFileError extends Error {
  override name = 'CqcFileError'
}

interface ParsedRow {
  record: string[]
  info: { lines: number }
}

/** The file's rows with their line numbers, unparseable ones reported to `onSkip` and left out. */
function csvRows(input: Readable, onSkip: (error: CsvError) => void): AsyncIterable<ParsedRow> {
  const parser = parse({
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    info: true,
    skip_records_with_error: true,
  })
  parser.on('skip', onSkip)
  // pipe() does not forward the source's errors: without this an unreadable file is an unhandled 'error' event.
  input.on('error', (error) => parser.destroy(error))
  return input.pipe(parser) as AsyncIterable<ParsedRow>
}

export async function readCqcFile(request: CqcFileRequest): Promise<CqcFileResult> {
  const label = typeof request.file === 'string' ? request.file : 'CQC file'
  if (typeof request.file === 'string' && SPREADSHEET_EXTENSIONS.test(request.file)) {
    throw new CqcFileError(
      `${request.file}: a spreadsheet, not CSV. Save its "Locations" sheet as CSV (UTF-8) and point CQC_FILE at that.`,
    )
  }
  const councilIds = new Set(distinctIds(request.ids))
  const result = new ResultBuilder<CqcLocationFacts>('cqc_file')
  const input = typeof request.file === 'string' ? createReadStream(request.file) : request.file

  let header: Header | undefined
  let kind: CqcFileKind = 'hsca_active'
  const seen = new Set<string>()
  const longFormat = new Map<string, LongFormatLocation>()
  let rowsBeforeHeader = 0
  const rows = csvRows(input, (error) => {
    result.reject(`line ${error.lines}`, `not readable as CSV: ${error.message}`)
  })

  try {
    for await (const { record, info } of rows) {
      if (!header) {
        if (looksLikeHeader(record)) {
          header = new Header(record)
          kind = kindOf(header)
          if (kind === 'latest_ratings_providers') break
        } else if (++rowsBeforeHeader > HEADER_SEARCH_ROWS) {
          break
        }
        continue
      }
      if (record.every((cell) => cell.trim() === '')) continue
      const line = `line ${info.lines}`
      const shape = shapeProblem(record, header)
      if (shape) {
        result.read++
        result.reject(line, shape)
        continue
      }
      const id = header.get(record, 'locationId')
      if (id === '') {
        result.read++
        result.reject(line, 'no location id', header.nameOf('locationId'))
        continue
      }
      if (kind === 'latest_ratings') {
        if (!longFormat.has(id)) result.read++
        if (councilIds.has(id)) collectLongFormat(longFormat, header, record, id, line, result)
        else if (!longFormat.has(id)) longFormat.set(id, SKIPPED)
        continue
      }
      result.read++
      if (!councilIds.has(id)) continue
      if (seen.has(id)) {
        result.warnings.push(`CQC file: location ${id} appears more than once; the first row (before ${line}) was used`)
        continue
      }
      seen.add(id)
      result.records.push(mapRow(header, record, id, kind, request.asOf, result))
      request.onProgress?.(seen.size, councilIds.size)
    }
  } catch (error) {
    throw new CqcFileError(`${label}: ${describeFsError(error, 'file')}`)
  } finally {
    input.destroy()
  }
  if (!header) {
    throw new CqcFileError(
      `${label}: not a CQC file: no header row found in the first ${HEADER_SEARCH_ROWS} rows (expected a "Location ID" column)`,
    )
  }
  if (kind === 'latest_ratings_providers') {
    throw new CqcFileError(
      `${label}: the ${FILE_KIND_LABELS[kind]} rates providers, not locations, so it gives no service its CQC rating. ` +
        'Save the "Locations" sheet of the same workbook as CSV and point CQC_FILE at that (or at a folder holding both).',
    )
  }

  if (kind === 'latest_ratings') {
    for (const [id, location] of longFormat) {
      if (location === SKIPPED) continue
      seen.add(id)
      result.records.push(mapLongFormat(id, location, result.warnings))
    }
  }
  for (const id of councilIds) if (!seen.has(id)) result.notFound.push(id)
  if (kind === 'care_directory' && !header.has('overallRating') && !header.has('manager')) {
    result.warnings.push(
      'CQC file: the care directory has no rating or registered manager columns, so it gives no CQC rating or manager ' +
        'for any service; only service details were read. For ratings use the HSCA Active Locations or Latest ratings ' +
        'file (as CSV) or the CQC API.',
    )
  }
  return { ...result.build(), fileKind: kind }
}

/**
 * A row with cells beyond the header's last named column holding text has been shifted (a comma outside quotes), so
 * no cell of it can be trusted. Short rows are kept: spreadsheet tools drop trailing empty cells.
 */
function shapeProblem(record: string[], header: Header): string | null {
  const width = header.width
  if (record.length <= width) return null
  const extra = record.slice(width).filter((cell) => cell.trim() !== '')
  if (extra.length === 0) return null
  return `${record.length} cells where the header names ${width} (a comma outside quotes?): the row was not read`
}
