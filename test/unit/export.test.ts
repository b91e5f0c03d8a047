import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parse } from 'csv-parse/sync'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TABLE_VIEWS } from '../../src/routes/pageTables/index.js'
import { csvFileName, neutraliseCell, tablesToCsv, toCsv, type ExportTable } from '../../src/services/csvExport.js'
import { viewsDir } from '../../src/views/setup.js'

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

describe('tablesToCsv', () => {
  const tables: ExportTable[] = [
    {
      id: 'capacity',
      title: 'Capacity at risk',
      header: ['Capacity', 'Date', 'Red', 'At risk'],
      rows: [
        ['Beds', '1 May', '3', '3 of 10 (30%)'],
        ['Beds', '1 June', '-2', '5 of 10'],
      ],
    },
    { id: null, title: 'Entries (1)', header: [], rows: [['Smith & Sons =1 Oak "Care" Ltd', '', "'x' · 2"]] },
  ]

  it('writes several tables under their titles, neutralised, plain numbers kept', () => {
    const rows = parse(
      tablesToCsv([...tables, { id: 't', title: '=cmd', header: ['a'], rows: [['@SUM(1)'], ['-3'], ['-2+3'], [-4]] }]),
      { bom: true, relax_column_count: true },
    ) as string[][]
    expect(rows[0]).toEqual(['Capacity at risk'])
    expect(rows[1]).toEqual(['Capacity', 'Date', 'Red', 'At risk'])
    expect(rows[3]).toEqual(['Beds', '1 June', '-2', '5 of 10'])
    expect(rows[4]).toEqual([''])
    expect(rows[5]).toEqual(['Entries (1)'])
    expect(rows[6]).toEqual(['Smith & Sons =1 Oak "Care" Ltd', '', "'x' · 2"])
    expect(rows.slice(-7)).toEqual([[''], ["'=cmd"], ['a'], ["'@SUM(1)"], ['-3'], ["'-2+3"], ['-4']])
    expect(tablesToCsv(tables.slice(0, 1)).split('\r\n')[0]).toBe('\uFEFFCapacity,Date,Red,At risk')
  })
})

describe('page tables', () => {
  it('are built for every view that draws a table, and only those', () => {
    const pages = readdirSync(path.join(viewsDir, 'pages')).filter((file) => file.endsWith('.hbs'))
    const drawsTables = pages.filter((file) =>
      /<table[\s>]|\{\{> *(changes\/table|inbox\/)/.test(readFileSync(path.join(viewsDir, 'pages', file), 'utf8')),
    )
    expect([...TABLE_VIEWS].sort()).toEqual(drawsTables.map((file) => `pages/${file.replace(/\.hbs$/, '')}`).sort())
  })
})
