import { createReadStream } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { CsvFileError, MAX_RECORD_CHARS, readCsv, type CsvInput } from '../../src/ingest/council/csvReader.js'

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/council/${name}`, import.meta.url))

async function read(input: CsvInput) {
  let columns: string[] = []
  const rows: Array<{ rowNumber: number; cells: Record<string, string>; extraValues: number }> = []
  const { rowsRead } = await readCsv(input, {
    onHeader: (header) => {
      columns = header.columns
    },
    onRow: (row) => {
      rows.push(row)
    },
  })
  return { columns, rows, rowsRead }
}

async function fileError(input: CsvInput): Promise<string> {
  const error = await read(input).then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(CsvFileError)
  return (error as CsvFileError).message
}

describe('readCsv', () => {
  it('reads a header and rows, trimming values and normalising column names', async () => {
    const { columns, rows, rowsRead } = await read(' Service Ref , KIND,end-date\nS1,  embargo ,\n')
    expect(columns).toEqual(['service_ref', 'kind', 'end_date'])
    expect(rows).toEqual([{ rowNumber: 2, cells: { service_ref: 'S1', kind: 'embargo' }, extraValues: 0 }])
    expect(rowsRead).toBe(1)
  })

  it('strips a UTF-8 byte order mark, so the first column is still recognised', async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('service_ref,kind\nS1,embargo\n')])
    const { columns } = await read(bytes)
    expect(columns[0]).toBe('service_ref')
  })

  it('reads CRLF and LF line endings alike', async () => {
    const crlf = await read('a,b\r\n1,2\r\n3,4\r\n')
    const lf = await read('a,b\n1,2\n3,4\n')
    expect(crlf.rows).toEqual(lf.rows)
    expect(crlf.rows.map((row) => row.cells)).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: '4' },
    ])
  })

  it('keeps commas, doubled quotes and line breaks inside quoted values', async () => {
    const { rows } = await read(createReadStream(fixture('quoted.csv')))
    expect(rows[0]?.cells.notes).toBe('Embargo agreed, pending "action plan"\nSecond line of the note')
    expect(rows[0]?.rowNumber).toBe(2)
    // The quoted line break does not shift the spreadsheet row numbers.
    expect(rows[1]?.rowNumber).toBe(3)
    expect(rows[1]?.cells.reference).toBe('EMB-2')
  })

  it('numbers rows as a spreadsheet does: blank rows count but are not read', async () => {
    const { rows, rowsRead } = await read('a,b\n1,2\n\n,\n3,4\n')
    expect(rows.map((row) => row.rowNumber)).toEqual([2, 5])
    expect(rowsRead).toBe(2)
  })

  it('counts values beyond the header as extra, and ignores blank header cells', async () => {
    const { columns, rows } = await read('a,b,\n1,2,note,x\n')
    expect(columns).toEqual(['a', 'b', ''])
    expect(rows[0]).toEqual({ rowNumber: 2, cells: { a: '1', b: '2' }, extraValues: 1 })
  })

  it('reads a stream delivered a byte at a time, with a multi-byte character split across chunks', async () => {
    const bytes = Buffer.from('\uFEFFname,area\nCafé Day Centre,Centre\n', 'utf8')
    const oneByteChunks = Readable.from([...bytes].map((byte) => Buffer.from([byte])))
    const { columns, rows } = await read(oneByteChunks)
    expect(columns).toEqual(['name', 'area'])
    expect(rows[0]?.cells.name).toBe('Café Day Centre')
  })

  it('refuses an empty file, and one holding only a BOM or blank lines', async () => {
    expect(await fileError(createReadStream(fixture('empty.csv')))).toMatch(/empty/)
    expect(await fileError(Buffer.from([0xef, 0xbb, 0xbf]))).toMatch(/empty/)
    expect(await fileError('\n\r\n  \n')).toMatch(/empty/)
  })

  it('refuses binary junk', async () => {
    expect(await fileError(createReadStream(fixture('binary-junk.csv')))).toMatch(/not UTF-8|binary/)
    expect(await fileError('a,b\n1,\u00002\n')).toBe('This is not a CSV text file: it contains binary data (line 2).')
  })

  it('recognises an Excel workbook saved with a .csv name', async () => {
    expect(await fileError(createReadStream(fixture('workbook.csv')))).toMatch(/Excel workbook/)
  })

  it('refuses text in another encoding, saying which line and what to do', async () => {
    const message = await fileError(createReadStream(fixture('latin1.csv')))
    expect(message).toMatch(/not UTF-8/)
    expect(message).toMatch(/line 2/)
    expect(message).toMatch(/CSV UTF-8/)
    expect(await fileError(Buffer.from([0xff, 0xfe, 0x61, 0x00]))).toMatch(/UTF-16/)
  })

  it('refuses an absurdly long line', async () => {
    const long = `a,b\n1,2\n${'x'.repeat(MAX_RECORD_CHARS + 10)},3\n`
    expect(await fileError(long)).toMatch(/^Row 3 is longer than 65,536 characters/)
  })

  it('refuses a quote that is never closed, naming the row where it opens', async () => {
    expect(await fileError('a,b\n1,2\n"3,4\n5,6\n')).toBe(
      'A quoted value that starts on row 3 is never closed (a " is missing).',
    )
  })

  it('refuses semicolon- and tab-separated files with advice', async () => {
    expect(await fileError('service_ref;kind;date\nS1;embargo;2026-01-01\n')).toMatch(/semicolons/)
    expect(await fileError('service_ref\tkind\tdate\nS1\tembargo\t2026-01-01\n')).toMatch(/tabs/)
  })

  it('refuses a header naming a column twice', async () => {
    expect(await fileError('service_ref,Service Ref\n1,2\n')).toMatch(/"service_ref" more than once/)
  })

  it('reports a file that cannot be read as a file error', async () => {
    expect(await fileError(createReadStream(fixture('no-such-file.csv')))).toMatch(/could not be read/)
  })
})

describe('readCsv round trip', () => {
  it('reads back any values csv-stringify writes, whatever the line ending and BOM', async () => {
    const { stringify } = await import('csv-stringify/sync')
    const fc = await import('fast-check')
    const cell = fc.string({ unit: fc.constantFrom('a', 'Z', ' ', ',', '"', '\n', '\r\n', 'é', '£', '1') })
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(cell, { minLength: 3, maxLength: 3 }), { maxLength: 8 }),
        fc.boolean(),
        fc.boolean(),
        async (records, crlf, bom) => {
          const text = stringify([['c1', 'c2', 'c3'], ...records], {
            record_delimiter: crlf ? 'windows' : 'unix',
            quoted_match: /^\s|\s$/,
          })
          const { rows } = await read((bom ? '\uFEFF' : '') + text)
          const expected = records
            .map((record, index) => ({ rowNumber: index + 2, values: record.map((v) => v.trim()) }))
            .filter(({ values }) => values.some((v) => v !== ''))
          expect(
            rows.map((row) => ({
              rowNumber: row.rowNumber,
              values: ['c1', 'c2', 'c3'].map((c) => row.cells[c] ?? ''),
            })),
          ).toEqual(expected)
        },
      ),
      { numRuns: 200 },
    )
  })
})
