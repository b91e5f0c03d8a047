import { parse } from 'csv-parse/sync'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { csvFileName, neutraliseCell, toCsv } from '../../src/services/csvExport.js'

describe('neutraliseCell', () => {
  it.each(['=SUM(A1:A2)', '+1', '-2+3+cmd|/C calc', '@SUM(1)', '\tx', '\rx'])('neutralises %j', (text) => {
    expect(neutraliseCell(text)).toBe(`'${text}`)
  })

  it('leaves ordinary text alone', () => {
    expect(neutraliseCell('Elm House')).toBe('Elm House')
    expect(neutraliseCell('a=b')).toBe('a=b')
    expect(neutraliseCell('')).toBe('')
  })
})

describe('toCsv', () => {
  const columns = [
    { header: 'Name', value: (row: { name: string; n: number | null; ok: boolean }) => row.name },
    { header: 'Count', value: (row: { name: string; n: number | null; ok: boolean }) => row.n },
    { header: 'OK', value: (row: { name: string; n: number | null; ok: boolean }) => row.ok },
  ]

  it('writes a BOM, CRLF rows, quoted cells and safe formulas', () => {
    const csv = toCsv(columns, [
      { name: 'Smith, "Jo"', n: -3, ok: true },
      { name: '=HYPERLINK("http://evil")', n: null, ok: false },
    ])
    expect(csv.startsWith('\uFEFF')).toBe(true)
    expect(csv).toContain('\r\n')
    const rows = parse(csv, { bom: true }) as string[][]
    expect(rows).toEqual([
      ['Name', 'Count', 'OK'],
      ['Smith, "Jo"', '-3', 'yes'],
      ['\'=HYPERLINK("http://evil")', '', 'no'],
    ])
  })

  it('round-trips any text, and no text cell ever starts a formula', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 5 }), (names) => {
        const rows = parse(toCsv([{ header: 'x', value: (s: string) => s }], names), {
          bom: true,
          relax_column_count: true,
        }) as string[][]
        const cells = rows.slice(1).map((r) => r[0] ?? '')
        expect(cells).toEqual(names.map((n) => (/^[=+\-@\t\r]/.test(n) ? `'${n}` : n)))
        for (const cell of cells) expect(/^[=+\-@\t\r]/.test(cell)).toBe(false)
      }),
    )
  })
})

describe('csvFileName', () => {
  it('keeps a header-safe name', () => {
    expect(csvFileName('market summary 2025-01-01/to"x')).toBe('market-summary-2025-01-01-to-x.csv')
  })
})
