import { stringify } from 'csv-stringify/sync'
import type { RowReject } from './parseCouncilCsv.js'

/**
 * The reject report of an import, as an aligned table for the command line:
 *
 *   Row  Column      Reason
 *   3    date        "2026-02-30" is not a real calendar date
 */
export function formatRejectReport(rejects: readonly RowReject[], fileError?: string): string {
  const lines: string[] = []
  if (fileError !== undefined) lines.push(`File: ${fileError}`)
  if (rejects.length > 0) {
    const table = [['Row', 'Column', 'Reason'], ...rejects.map((r) => [String(r.rowNumber), r.column ?? '', r.reason])]
    const rowWidth = Math.max(...table.map((cells) => (cells[0] as string).length))
    const columnWidth = Math.max(...table.map((cells) => (cells[1] as string).length))
    for (const [row, column, reason] of table) {
      lines.push(`${(row as string).padEnd(rowWidth)}  ${(column as string).padEnd(columnWidth)}  ${reason}`.trimEnd())
    }
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : ''
}

/**
 * The reject report as CSV (row, column, reason), written beside a file moved to the inbox's rejected/ folder.
 * A file-level problem is a line with a blank row number.
 */
export function formatRejectCsv(rejects: readonly RowReject[], fileError?: string): string {
  const records = [
    ...(fileError !== undefined ? [['', '', fileError]] : []),
    ...rejects.map((reject) => [String(reject.rowNumber), reject.column ?? '', reject.reason]),
  ]
  return stringify([['row', 'column', 'reason'], ...records.map((cells) => cells.map(defuseFormula))], {
    record_delimiter: 'windows',
  })
}

/** A reason may quote the council's own cell; a leading =, +, - or @ would run as a formula when opened in Excel. */
function defuseFormula(cell: string): string {
  return /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell
}
