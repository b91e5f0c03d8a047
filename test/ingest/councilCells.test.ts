import { describe, expect, it } from 'vitest'
import { companiesHouseNumber, cqcId, date, vocabulary, wholeNumber } from '../../src/ingest/council/cells.js'
import { serviceRowSchema } from '../../src/ingest/council/schemas.js'

const value = <T>(result: { ok: true; value: T } | { ok: false; reason: string }) => (result.ok ? result.value : null)

describe('council cells', () => {
  it('reads ISO and UK dates, and refuses everything else', () => {
    const parse = date()
    expect(value(parse('2026-03-14'))).toBe('2026-03-14')
    expect(value(parse('14/03/2026'))).toBe('2026-03-14')
    expect(value(parse('4/3/2026'))).toBe('2026-03-04')
    expect(value(parse('2026-03-14T09:30:00Z'))).toBe('2026-03-14')
    for (const bad of [
      '2026-02-30',
      '03/14/2026',
      '31/02/2026',
      'yesterday',
      '14/03/26',
      '14 March 2026',
      '2026/03/14',
    ]) {
      expect(parse(bad).ok, bad).toBe(false)
    }
  })

  it('refuses dates after the given today, but not today itself', () => {
    const parse = date({ notAfter: '2026-03-14' })
    expect(value(parse('14/03/2026'))).toBe('2026-03-14')
    expect(parse('15/03/2026')).toEqual({ ok: false, reason: '"15/03/2026" is in the future (today is 2026-03-14)' })
  })

  it('compares words case-insensitively with spaces, hyphens and underscores alike', () => {
    const parse = vocabulary(['requires_improvement', 'good'] as const)
    for (const spelling of [
      'Requires Improvement',
      'requires-improvement',
      ' REQUIRES_IMPROVEMENT ',
      'requires  improvement',
    ]) {
      expect(value(parse(spelling)), spelling).toBe('requires_improvement')
    }
    expect(parse('requiresimprovement').ok).toBe(false)
  })

  it('maps CQC and display names of service types', () => {
    const serviceType = (raw: string) => {
      const parsed = serviceRowSchema.safeParse({
        service_ref: 'S1',
        name: 'n',
        provider_name: 'p',
        area: 'a',
        contract_status: 'spot',
        service_type: raw,
      })
      return parsed.success ? parsed.data.serviceType : null
    }
    expect(serviceType('Domiciliary care service')).toBe('home_care')
    expect(serviceType('Homecare agencies')).toBe('home_care')
    expect(serviceType('Care home service with nursing')).toBe('care_home_nursing')
    expect(serviceType('Nursing homes')).toBe('care_home_nursing')
    expect(serviceType('Care home service without nursing')).toBe('care_home_residential')
    expect(serviceType('Supported living service')).toBe('supported_living')
    expect(serviceType('Extra Care housing services')).toBe('extra_care')
    expect(serviceType('Care home with nursing')).toBe('care_home_nursing')
    expect(serviceType('Day Service')).toBe('day_service')
    expect(serviceType('Hospice services')).toBeNull()
  })

  it('validates CQC ids and Companies House numbers', () => {
    expect(value(cqcId('1-1000210669'))).toBe('1-1000210669')
    for (const bad of ['1000210669', '1-', '2-123', '1-12a', 'RX1CC']) expect(cqcId(bad).ok, bad).toBe(false)
    expect(value(companiesHouseNumber('06070408'))).toBe('06070408')
    expect(value(companiesHouseNumber('6070408'))).toBe('06070408')
    expect(value(companiesHouseNumber('sc123456'))).toBe('SC123456')
    expect(value(companiesHouseNumber('NI 012345'))).toBe('NI012345')
    expect(value(companiesHouseNumber('R0000123'))).toBe('R0000123')
    for (const bad of ['123456789', 'SC12345', 'S1234567X', 'ABC'])
      expect(companiesHouseNumber(bad).ok, bad).toBe(false)
  })

  it('reads whole numbers of 0 or more only', () => {
    expect(value(wholeNumber('0'))).toBe(0)
    expect(value(wholeNumber('42'))).toBe(42)
    for (const bad of ['-1', '2.5', '1,000', 'two', '1e3', '99999999999999999999'])
      expect(wholeNumber(bad).ok, bad).toBe(false)
  })
})
