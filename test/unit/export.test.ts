import { parse } from 'csv-parse/sync'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  csvFileName,
  htmlText,
  neutraliseCell,
  tablesFromHtml,
  tablesToCsv,
  toCsv,
} from '../../src/services/csvExport.js'

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

describe('tablesFromHtml', () => {
  const html = `
    <h2 class="govuk-heading-l" id="capacity">Capacity at risk</h2>
    <table class="govuk-table" data-testid="capacity">
      <thead><tr class="govuk-table__row"><th scope="col">Capacity</th><th>Date</th><th>Red</th><th><span class="govuk-visually-hidden">Sorted </span>At risk</th></tr></thead>
      <tbody>
        <tr class="govuk-table__row" data-ref="x"><th scope="row" rowspan="2">Beds</th><td>1 May</td><td>3</td><td>3 of 10 (30%)</td></tr>
        <tr class="govuk-table__row"><td>1 June</td><td>-2</td><td colspan="1">5 of 10</td></tr>
        <tr class="govuk-table__row"><td colspan="4">No entries</td></tr>
      </tbody>
    </table>
    <p>Between</p>
    <table class="govuk-table">
      <caption class="govuk-table__caption">Entries (1)</caption>
      <tbody>
        <tr><td colspan="2"><a class="govuk-link" href="/services/S-1">Smith &amp; Sons &#x3D;1</a><br><span>Oak &quot;Care&quot; Ltd</span></td><td>&#x27;x&#x27; · 2</td></tr>
      </tbody>
    </table>`

  it('reads header, rows, spans, titles and text as a reader sees them', () => {
    const [capacity, entries] = tablesFromHtml(html)
    expect(capacity).toEqual({
      id: 'capacity',
      title: 'Capacity at risk',
      header: ['Capacity', 'Date', 'Red', 'At risk'],
      rows: [
        ['Beds', '1 May', '3', '3 of 10 (30%)'],
        ['Beds', '1 June', '-2', '5 of 10'],
      ],
    })
    expect(entries).toEqual({
      id: null,
      title: 'Entries (1)',
      header: [],
      rows: [['Smith & Sons =1 Oak "Care" Ltd', '', "'x' · 2"]],
    })
  })

  it('decodes numeric entities and drops tags', () => {
    expect(htmlText('<strong class="govuk-tag">Red</strong>&#32;&#x2014;<br>now')).toBe('Red — now')
  })

  it('writes several tables under their titles, neutralised, plain numbers kept', () => {
    const tables = tablesFromHtml(html)
    const rows = parse(
      tablesToCsv([...tables, { id: 't', title: '=cmd', header: ['a'], rows: [['@SUM(1)'], ['-3'], ['-2+3']] }]),
      { bom: true, relax_column_count: true },
    ) as string[][]
    expect(rows[0]).toEqual(['Capacity at risk'])
    expect(rows[1]).toEqual(['Capacity', 'Date', 'Red', 'At risk'])
    expect(rows[3]).toEqual(['Beds', '1 June', '-2', '5 of 10'])
    expect(rows[4]).toEqual([''])
    expect(rows[5]).toEqual(['Entries (1)'])
    expect(rows.slice(-6)).toEqual([[''], ["'=cmd"], ['a'], ["'@SUM(1)"], ['-3'], ["'-2+3"]])
    expect(tablesToCsv(tables.slice(0, 1)).split('\r\n')[0]).toBe('\uFEFFCapacity,Date,Red,At risk')
  })
})
