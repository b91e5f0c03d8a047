import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { safeReturnTo } from '../../src/auth/returnTo.js'

describe('safeReturnTo', () => {
  it('keeps paths on this site', () => {
    expect(safeReturnTo('/services/S-001?tab=history#chart')).toBe('/services/S-001?tab=history#chart')
    expect(safeReturnTo('/')).toBe('/')
  })

  it('refuses anything that could leave the site, and the sign-in pages themselves', () => {
    for (const bad of [
      'https://evil.example',
      '//evil.example',
      '/\\evil.example',
      '/x\r\nLocation: https://evil.example',
      'javascript:alert(1)',
      'services',
      '',
      '/sign-in?returnTo=/x',
      '/sign-out',
      undefined,
      ['/a'],
      '/' + 'a'.repeat(2001),
    ]) {
      expect(safeReturnTo(bad), String(bad)).toBe('/')
    }
  })

  it('always gives a relative path that a browser resolves on this origin', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (candidate) => {
        const result = safeReturnTo(candidate)
        const url = new URL(result, 'https://dashboard.council.example/start')
        expect(url.origin).toBe('https://dashboard.council.example')
        expect(result.startsWith('/')).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })
})
