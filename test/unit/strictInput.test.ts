import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  decimal,
  parseDecimal,
  positiveId,
  serviceRefProblem,
  unsafeCharacterProblem,
} from '../../src/domain/strictInput.js'
import { parseCouncilCsv, parseCouncilRecord } from '../../src/ingest/council/index.js'
import { awardInputSchema, referralQuerySchema } from '../../src/services/dpsService.js'

const today = '2026-03-14'

describe('numbers are plain decimals', () => {
  it('reads decimals and refuses hex, exponents, infinities and blanks', () => {
    expect(['12', ' 12.5 ', '-3', '+4', '.5'].map(parseDecimal)).toEqual([12, 12.5, -3, 4, 0.5])
    for (const text of ['0x10', '1e3', '1E3', '0b101', '0o17', 'Infinity', '', ' ', '1_000', '12abc', '1.']) {
      expect(parseDecimal(text), text).toBeUndefined()
    }
    const hours = decimal(z.number().positive())
    expect(hours.safeParse('0x10').success).toBe(false)
    expect(hours.safeParse(16).data).toBe(16)
    expect(positiveId.safeParse('0x10').success).toBe(false)
    expect(positiveId.safeParse('16').data).toBe(16)
  })

  it('in the DPS award (form and API) and the referral query', () => {
    const award = { serviceRef: 'SVC-1', lotId: '1', weeklyHours: '10', startDate: '2026-12-01', reference: 'PKG-1' }
    expect(awardInputSchema.safeParse(award).success).toBe(true)
    for (const weeklyHours of ['0x10', '1e1', '16e0']) {
      const parsed = awardInputSchema.safeParse({ ...award, weeklyHours })
      expect(
        parsed.error?.issues.map((issue) => issue.path.join('.')),
        weeklyHours,
      ).toEqual(['weeklyHours'])
    }
    expect(awardInputSchema.safeParse({ ...award, lotId: '0x1' }).success).toBe(false)
    const referral = referralQuerySchema.safeParse({ area: 'North', type: 'home_care', weeklyHours: '0x10' })
    expect(referral.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['weeklyHours'])
  })
})

describe('text without control or text-direction characters', () => {
  it('names the character refused; tab always allowed, line breaks only in multi-line text', () => {
    expect(unsafeCharacterProblem('Helping\u0000Hands')).toMatch(/control character \(U\+0000\)/)
    expect(unsafeCharacterProblem('Helping\u0085Hands')).toMatch(/U\+0085/)
    expect(unsafeCharacterProblem('abc\u202Etxt.exe')).toMatch(/text-direction control character \(U\+202E\)/)
    expect(unsafeCharacterProblem('abc\u2066x\u2069')).toMatch(/U\+2066/)
    expect(unsafeCharacterProblem('two\nlines')).toMatch(/one line/)
    expect(unsafeCharacterProblem('two\r\nlines\tand a tab', { multiline: true })).toBeUndefined()
    expect(unsafeCharacterProblem('a\u0007bell', { multiline: true })).toMatch(/U\+0007/)
    expect(unsafeCharacterProblem('Café – Ünïcode ✓ عربى')).toBeUndefined()
  })

  it('a service reference cannot begin like a spreadsheet formula', () => {
    for (const ref of ['=HYPERLINK("x")', '+1', '-2', '@SUM(A1)'])
      expect(serviceRefProblem(ref), ref).toMatch(/formula/)
    expect(serviceRefProblem('HC-001')).toBeUndefined()
  })

  // C0 controls make the whole file "not a CSV text file" (csvReader); C1 and text-direction ones reach the rows.
  it('in council CSV rows: the bad row is rejected with its reason, the others kept', async () => {
    const csv = [
      'service_ref,name,provider_name,service_type,area,contract_status',
      'HC-001,Helping Hands,Hands Ltd,home_care,North,contracted',
      '=HYPERLINK("http://x"),Formula,Hands Ltd,home_care,North,contracted',
      '@SUM(1),At,Hands Ltd,home_care,North,contracted',
      'HC-002,Evil\u202Egnp.exe,Hands Ltd,home_care,North,contracted',
      'HC-003,Csi\u009BName,Hands Ltd,home_care,North,contracted',
      'HC-004,Fine Name,Hands Ltd,home_care,North\u0085,contracted',
    ].join('\n')
    const result = await parseCouncilCsv(Buffer.from(csv), 'services', { today })
    if (result.kind !== 'services') throw new Error(result.fileError)
    expect(result.rows.map((row) => row.value.serviceRef)).toEqual(['HC-001'])
    expect(result.rejects.map((reject) => [reject.rowNumber, reject.column])).toEqual([
      [3, 'service_ref'],
      [4, 'service_ref'],
      [5, 'name'],
      [6, 'name'],
      [7, 'area'],
    ])
  })

  it('in an intelligence record (form and API): notes may span lines, references may not; no controls anywhere', () => {
    const base = { service_ref: 'S1', kind: 'embargo', date: '2026-02-01' }
    expect(parseCouncilRecord('intelligence', { ...base, notes: 'line one\nline two\ttabbed' }, { today }).ok).toBe(
      true,
    )
    const refused = (fields: Record<string, unknown>) => {
      const parsed = parseCouncilRecord('intelligence', { ...base, ...fields }, { today })
      return parsed.ok ? [] : parsed.problems.map((problem) => problem.column)
    }
    expect(refused({ notes: 'a\u0000b' })).toEqual(['notes'])
    expect(refused({ notes: 'a\u202Eb' })).toEqual(['notes'])
    expect(refused({ reference: 'REF\n2' })).toEqual(['reference'])
    expect(refused({ reference: 'REF\u2067' })).toEqual(['reference'])
  })
})

describe('JSON text fields must be strings', () => {
  it('refuses numbers and null by field name', () => {
    const parsed = parseCouncilRecord(
      'intelligence',
      { service_ref: 'S1', kind: 'embargo', date: '2026-02-01', reference: 12345, notes: null },
      { today },
    )
    expect(parsed.ok).toBe(false)
    if (parsed.ok) return
    expect(parsed.problems).toEqual([
      { column: 'reference', reason: 'must be text' },
      { column: 'notes', reason: 'must be text, not null: leave the field out' },
    ])
  })
})
