import { createReadStream, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  formatRejectCsv,
  formatRejectReport,
  parseCouncilCsv,
  parseCouncilRecord,
  recogniseKind,
  type CouncilImportKind,
  type RowReject,
} from '../../src/ingest/council/index.js'

const today = '2026-03-14'
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/council/${name}`, import.meta.url))
const open = (name: string) => createReadStream(fixture(name))

/** Rejects as "row column: reason" lines, easy to compare. */
const describeRejects = (rejects: RowReject[]) => rejects.map((r) => `${r.rowNumber} ${r.column ?? '-'}: ${r.reason}`)

describe('parseCouncilCsv: services', () => {
  it('reads columns in any order, with CQC service type names and varied spellings', async () => {
    const result = await parseCouncilCsv(open('services.csv'), 'services', { today })
    expect(result.fileError).toBeUndefined()
    expect(result.rejects).toEqual([])
    expect(result.kind).toBe('services')
    if (result.kind !== 'services') return
    expect(result.rowsRead).toBe(5)
    expect(result.rows[0]).toEqual({
      rowNumber: 2,
      value: {
        serviceRef: 'HC-001',
        cqcLocationId: '1-10553191017',
        name: 'Helping Hands, Mansfield',
        providerName: 'Midshires Care Limited',
        cqcProviderId: '1-101671690',
        // A spreadsheet dropped the leading zero.
        companiesHouseNumber: '06070408',
        fhrsId: null,
        serviceType: 'home_care',
        area: 'North',
        capacity: 450,
        contractStatus: 'contracted',
      },
    })
    expect(result.rows.map((row) => [row.value.serviceType, row.value.contractStatus])).toEqual([
      ['home_care', 'contracted'],
      ['care_home_nursing', 'spot'],
      ['care_home_residential', 'off_contract'],
      ['supported_living', 'contracted'],
      ['extra_care', 'contracted'],
    ])
    expect(result.rows.map((row) => row.value.companiesHouseNumber)).toEqual([
      '06070408',
      'SC123456',
      null,
      'OC301234',
      null,
    ])
  })

  it('reads a file with a BOM and CRLF line endings', async () => {
    const bytes = readFileSync(fixture('services-bom-crlf.csv'))
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
    expect(bytes.includes('\r\n')).toBe(true)
    const result = await parseCouncilCsv(bytes, 'services', { today })
    expect(result.rejects).toEqual([])
    if (result.kind !== 'services') throw new Error(result.fileError)
    expect(result.rows.map((row) => [row.value.serviceRef, row.value.name, row.value.serviceType])).toEqual([
      ['HC-001', 'Helping Hands', 'home_care'],
      ['DS-010', 'Café Day Centre', 'day_service'],
    ])
  })

  it('rejects each bad row with its column and reason and keeps the good one', async () => {
    const result = await parseCouncilCsv(open('services-invalid.csv'), 'services', { today })
    expect(result.rows.map((row) => row.rowNumber)).toEqual([2])
    expect(describeRejects(result.rejects)).toEqual([
      '3 cqc_location_id: "123456" is not a CQC id: expected 1- then digits, e.g. 1-1000210669',
      '3 cqc_provider_id: "1-abc" is not a CQC id: expected 1- then digits, e.g. 1-1000210669',
      '4 companies_house_number: "ABC" is not a Companies House number: expected 8 characters, e.g. 06070408 or SC123456',
      '5 capacity: "-3" is not a whole number of 0 or more',
      '6 capacity: "2.5" is not a whole number of 0 or more',
      '7 service_type: "hospice" is not one of: home_care, care_home_nursing, care_home_residential, supported_living, extra_care, day_service, other',
      '8 contract_status: "framework" is not one of: contracted, spot, off_contract',
      '9 name: is blank: a value is required',
      '10 fhrs_id: "FH-1" is not an FHRS id: expected digits, e.g. 1583332',
    ])
  })
})

describe('parseCouncilCsv: assessments', () => {
  it('reads good rows, and rejects impossible, US-order, vague and future dates and unknown outcomes', async () => {
    const result = await parseCouncilCsv(open('assessments.csv'), 'assessments', { today })
    if (result.kind !== 'assessments') throw new Error(result.fileError)
    expect(result.rows.map((row) => row.value)).toEqual([
      {
        serviceRef: 'HC-001',
        cqcLocationId: null,
        assessmentDate: '2026-01-20',
        outcome: 'good',
        assessor: 'A. Assessor',
        domains: ['good', 'excellent', 'good', 'requires_improvement', 'good'],
      },
      {
        serviceRef: 'CH-002',
        cqcLocationId: null,
        assessmentDate: '2026-02-05',
        outcome: 'requires_improvement',
        assessor: null,
        domains: [null, null, null, null, null],
      },
    ])
    expect(describeRejects(result.rejects)).toEqual([
      '4 assessment_date: "2026-02-30" is not a real calendar date',
      '5 assessment_date: "03/14/2026" is not a date: dates are day/month/year and there is no month 14',
      '6 assessment_date: "yesterday" is not a date: use YYYY-MM-DD or DD/MM/YYYY (e.g. 2026-03-14 or 14/03/2026)',
      '7 assessment_date: "2026-03-20" is in the future (today is 2026-03-14)',
      '8 outcome: "satisfactory" is not one of: excellent, good, requires_improvement, poor',
      '9 domain_1: "great" is not one of: excellent, good, requires_improvement, poor',
    ])
  })

  it('accepts an assessment dated today', async () => {
    const result = await parseCouncilCsv(`service_ref,assessment_date,outcome\nS1,${today},good\n`, 'assessments', {
      today,
    })
    expect(result.rejects).toEqual([])
    expect(result.rows).toHaveLength(1)
  })
})

describe('parseCouncilCsv: intelligence', () => {
  it('reads every kind with its own date, end date and outcome rules', async () => {
    const result = await parseCouncilCsv(open('intelligence.csv'), 'intelligence', { today })
    expect(result.rejects).toEqual([])
    if (result.kind !== 'intelligence') throw new Error(result.fileError)
    expect(
      result.rows.map(({ value }) => [value.kind, value.date, value.endDate, value.outcome, value.reference]),
    ).toEqual([
      ['safeguarding_decision', '2026-01-10', null, 'substantiated', 'SG-2291'],
      ['safeguarding_decision', '2026-01-11', null, null, null],
      // An embargo may be due to lift in the future.
      ['embargo', '2026-02-01', '2026-04-30', null, 'EMB-7'],
      ['default_notice', '2026-01-15', '2026-02-15', 'resolved', 'DN-1'],
      ['default_notice', '2026-02-20', null, 'open', 'DN-2'],
      // Free text for a death's outcome, kept as written.
      ['unexpected_death', '2026-03-01', null, 'Coroner informed', null],
      ['contract_concern', '2026-02-02', null, 'not_substantiated', 'CC-9'],
      ['manager_vacancy', '2025-09-01', '2026-01-05', null, null],
      ['manager_vacancy', '2026-02-01', null, null, null],
    ])
    expect(result.rows[0]?.value.notes).toBe('Concern raised by family, proceeded to enquiry')
  })

  it('applies the per-kind rules of SPEC §9', async () => {
    const result = await parseCouncilCsv(open('intelligence-invalid.csv'), 'intelligence', { today })
    expect(result.rows).toEqual([])
    expect(describeRejects(result.rejects)).toEqual([
      '2 kind: "complaint" is not one of: safeguarding_decision, embargo, default_notice, unexpected_death, contract_concern, manager_vacancy',
      '3 date: "2026-03-15" is in the future (today is 2026-03-14)',
      '4 outcome: is required for contract_concern: one of substantiated, not_substantiated, open',
      '5 outcome: "upheld" is not an outcome for contract_concern: use one of substantiated, not_substantiated, open',
      '6 end_date: 2026-01-01 is before date 2026-02-01',
      '7 end_date: must be blank for safeguarding_decision',
      '8 outcome: must be blank for embargo',
      '9 end_date: is blank, but outcome is resolved: give the date the notice was resolved',
      '10 outcome: is open, but end_date says when the notice was resolved',
      '11 end_date: 2026-04-01 is in the future (today is 2026-03-14): it is the date the post was filled',
      '12 end_date: 2026-04-01 is in the future (today is 2026-03-14): it is the date the notice was resolved',
      '13 outcome: "maybe" is not an outcome for safeguarding_decision: use one of substantiated, not_substantiated, inconclusive, open',
    ])
  })

  it('names services by cqc_location_id when there is no service_ref column', async () => {
    const result = await parseCouncilCsv(open('intelligence-cqc-location.csv'), 'auto', { today })
    expect(result.rejects).toEqual([])
    if (result.kind !== 'intelligence') throw new Error(result.fileError)
    expect(result.rows.map(({ value }) => [value.serviceRef, value.cqcLocationId, value.date])).toEqual([
      [null, '1-10553191017', '2026-03-14'],
      [null, '1-125856395', '2026-03-01'],
    ])
  })

  it('rejects a row that names no service, and one whose CQC location id is malformed', async () => {
    const csv =
      'service_ref,cqc_location_id,kind,date\n,,embargo,2026-01-01\n,10553191017,embargo,2026-01-01\nS1,,embargo,2026-01-01\n'
    const result = await parseCouncilCsv(csv, 'intelligence', { today })
    expect(result.rows.map((row) => row.rowNumber)).toEqual([4])
    expect(describeRejects(result.rejects)).toEqual([
      '2 service_ref: is blank, and so is cqc_location_id: name the service by one of them',
      '3 cqc_location_id: "10553191017" is not a CQC id: expected 1- then digits, e.g. 1-1000210669',
    ])
  })

  it('rejects over-long references and notes without quoting the notes', async () => {
    const notes = 'confidential '.repeat(320).trim()
    const csv = `service_ref,kind,date,reference,notes\nS1,embargo,2026-01-01,${'R'.repeat(201)},"${notes}"\n`
    const result = await parseCouncilCsv(csv, 'intelligence', { today })
    expect(describeRejects(result.rejects)).toEqual([
      '2 reference: is 201 characters long; the limit is 200',
      '2 notes: is 4,159 characters long; the limit is 4,000',
    ])
  })

  it('rejects a row with more values than the header has columns', async () => {
    const result = await parseCouncilCsv('service_ref,kind,date\nS1,embargo,2026-01-01,Smith, J\n', 'intelligence', {
      today,
    })
    expect(describeRejects(result.rejects)).toEqual([
      '2 -: has 2 more values than the header has columns (does a value with a comma need quotes?)',
    ])
  })
})

describe('parseCouncilCsv: safeguarding_counts', () => {
  it('reads counts and rejects bad periods and numbers', async () => {
    const result = await parseCouncilCsv(open('safeguarding-counts.csv'), 'auto', { today })
    if (result.kind !== 'safeguarding_counts') throw new Error(result.fileError)
    expect(
      result.rows.map(({ rowNumber, value }) => [rowNumber, value.periodStart, value.periodEnd, value.decisions]),
    ).toEqual([
      [2, '2026-01-01', '2026-01-31', 2],
      [3, '2026-02-01', '2026-02-28', 0],
      // This month so far: a period may end after today.
      [4, '2026-03-01', '2026-03-31', 1],
    ])
    expect(describeRejects(result.rejects)).toEqual([
      '5 period_end: 2026-02-01 is before period_start 2026-03-01',
      '6 decisions: "-1" is not a whole number of 0 or more',
      '7 decisions: "two" is not a whole number of 0 or more',
      '8 period_start: "2026-04-01" is in the future (today is 2026-03-14)',
    ])
  })
})

describe('parseCouncilCsv: file errors', () => {
  const cases: Array<[string, CouncilImportKind | 'auto', RegExp]> = [
    ['empty.csv', 'intelligence', /empty/],
    ['binary-junk.csv', 'auto', /not UTF-8|binary/],
    ['latin1.csv', 'services', /not UTF-8/],
    ['workbook.csv', 'auto', /Excel workbook/],
    ['unknown-header.csv', 'auto', /not one of the council files/],
  ]
  it.each(cases)('%s (%s) is refused as a whole', async (name, kind, message) => {
    const result = await parseCouncilCsv(open(name), kind as 'auto', { today })
    expect(result.fileError).toMatch(message)
    expect(result.rows).toEqual([])
    expect(result.rejects).toEqual([])
  })

  it('names a missing column, and what the file looks like instead', async () => {
    const result = await parseCouncilCsv(open('intelligence-missing-column.csv'), 'intelligence', { today })
    expect(result.fileError).toBe('The file has no date column, which intelligence needs.')
    const wrongKind = await parseCouncilCsv(open('intelligence.csv'), 'assessments', { today })
    expect(wrongKind.fileError).toBe(
      'The file has no assessment_date column, which assessments needs (the header looks like intelligence).',
    )
    const noNaming = await parseCouncilCsv('kind,date\nembargo,2026-01-01\n', 'intelligence', { today })
    expect(noNaming.fileError).toBe(
      'The file has no service_ref (or cqc_location_id) column, which intelligence needs.',
    )
  })

  it('refuses an unknown kind', async () => {
    const result = await parseCouncilCsv('a,b\n1,2\n', 'complaints' as CouncilImportKind, { today })
    expect(result.kind).toBeNull()
    expect(result.fileError).toBe(
      'Unknown kind of import "complaints": use one of services, assessments, intelligence, safeguarding_counts.',
    )
  })

  it('keeps rows out of a file that turns out bad part-way through', async () => {
    const csv = `service_ref,kind,date\nS1,embargo,2026-01-01\nS2,embargo,2026-01-02\nS3,emb\u0000argo,2026-01-03\n`
    const result = await parseCouncilCsv(csv, 'intelligence', { today })
    expect(result.fileError).toMatch(/binary data \(line 4\)/)
    expect(result.rows).toEqual([])
  })

  it('accepts a file with a header and no rows (a quiet night)', async () => {
    const result = await parseCouncilCsv('service_ref,period_start,period_end,decisions\r\n', 'auto', { today })
    expect(result).toMatchObject({ kind: 'safeguarding_counts', rows: [], rejects: [], rowsRead: 0 })
    expect(result.fileError).toBeUndefined()
  })

  it('lists columns it does not use', async () => {
    const result = await parseCouncilCsv('service_ref,kind,date,team\nS1,embargo,2026-01-01,North\n', 'auto', { today })
    expect(result.ignoredColumns).toEqual(['team'])
    expect(result.rows).toHaveLength(1)
  })

  it('needs today as an ISO date', async () => {
    await expect(parseCouncilCsv('a\n1\n', 'auto', { today: '14/03/2026' })).rejects.toThrow(TypeError)
  })
})

describe('recogniseKind', () => {
  it('recognises each kind from its header, in any order and spelling', () => {
    expect(recogniseKind(['Name', 'Provider Name', 'Service Type', 'Area', 'Contract Status', 'Service Ref'])).toEqual({
      kind: 'services',
    })
    expect(recogniseKind(['service_ref', 'assessment_date', 'outcome'])).toEqual({ kind: 'assessments' })
    expect(recogniseKind(['notes', 'date', 'kind', 'cqc_location_id'])).toEqual({ kind: 'intelligence' })
    expect(recogniseKind(['decisions', 'period_end', 'period_start', 'service_ref'])).toEqual({
      kind: 'safeguarding_counts',
    })
  })

  it('says what is missing when a header is close to a kind', () => {
    expect(recogniseKind(['service_ref', 'period_start', 'period_end'])).toEqual({
      kind: null,
      reason: 'The header looks like safeguarding_counts but lacks column: decisions.',
    })
    expect(recogniseKind(['kind', 'date'])).toEqual({
      kind: null,
      reason: 'The header looks like intelligence but lacks column: service_ref (or cqc_location_id).',
    })
  })

  it('refuses a header that fits no kind, or more than one', () => {
    const none = recogniseKind(['patient', 'ward'])
    expect(none.kind).toBeNull()
    expect(none).toHaveProperty('reason', expect.stringMatching(/^The header is not one of the council files/))
    const both = recogniseKind(['service_ref', 'kind', 'date', 'assessment_date', 'outcome'])
    expect(both).toEqual({
      kind: null,
      reason: 'The header fits more than one kind of file (assessments, intelligence).',
    })
  })
})

describe('reject reports', () => {
  const rejects: RowReject[] = [
    { rowNumber: 3, column: 'date', reason: '"2026-02-30" is not a real calendar date' },
    { rowNumber: 12, reason: 'has 1 more value than the header has columns' },
    { rowNumber: 104, column: 'kind', reason: '"=HYPERLINK(x)" is not one of: embargo' },
  ]

  it('prints an aligned table for the command line', () => {
    expect(formatRejectReport(rejects)).toBe(
      [
        'Row  Column  Reason',
        '3    date    "2026-02-30" is not a real calendar date',
        '12           has 1 more value than the header has columns',
        '104  kind    "=HYPERLINK(x)" is not one of: embargo',
        '',
      ].join('\n'),
    )
    expect(formatRejectReport([], 'The file is empty.')).toBe('File: The file is empty.\n')
    expect(formatRejectReport([])).toBe('')
  })

  it('writes CSV for the inbox, safe to open in a spreadsheet', () => {
    const csv = formatRejectCsv([...rejects, { rowNumber: 7, column: 'notes', reason: '=cmd|calc' }], 'File problem')
    expect(csv.split('\r\n')).toEqual([
      'row,column,reason',
      ',,File problem',
      '3,date,"""2026-02-30"" is not a real calendar date"',
      '12,,has 1 more value than the header has columns',
      '104,kind,"""=HYPERLINK(x)"" is not one of: embargo"',
      "7,notes,'=cmd|calc",
      '',
    ])
  })
})

describe('parseCouncilRecord (one record, e.g. from the API)', () => {
  it('applies the same rules to named fields', () => {
    expect(
      parseCouncilRecord(
        'intelligence',
        { service_ref: 'S1', kind: 'Embargo', date: '01/02/2026', end_date: '' },
        { today },
      ),
    ).toEqual({
      ok: true,
      value: {
        serviceRef: 'S1',
        cqcLocationId: null,
        kind: 'embargo',
        date: '2026-02-01',
        endDate: null,
        outcome: null,
        reference: null,
        notes: null,
      },
    })
    expect(
      parseCouncilRecord('intelligence', { service_ref: 'S1', kind: 'contract_concern', date: 42 }, { today }),
    ).toEqual({
      ok: false,
      // A JSON number is not text, even when a date would follow from its digits.
      problems: [{ column: 'date', reason: 'must be text' }],
    })
    expect(
      parseCouncilRecord('intelligence', { service_ref: 'S1', kind: ['x'], date: '2026-01-01' }, { today }),
    ).toEqual({
      ok: false,
      problems: [{ column: 'kind', reason: 'must be text' }],
    })
  })
})
