import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nextNonce } from '../../src/auth/webSecurity.js'
import { createTestApp, type TestApp } from './testApp.js'

function directives(header: string): Map<string, string> {
  return new Map(
    header.split(';').map((part) => {
      const [name, ...values] = part.trim().split(/\s+/)
      return [name ?? '', values.join(' ')]
    }),
  )
}

describe('web security headers', () => {
  let t: TestApp
  beforeAll(() => {
    t = createTestApp()
  })
  afterAll(() => t.db.close())

  it('sends a strict CSP whose script nonce is the one in the page, new on every request', async () => {
    const first = await request(t.app).get('/sign-in').expect(200)
    const csp = first.headers['content-security-policy'] as string
    const policy = directives(csp)
    const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(policy.get('script-src') ?? '')?.[1]
    expect(nonce).toBeDefined()
    expect(policy.get('script-src')).toBe(`'self' 'nonce-${nonce}'`)
    expect(policy.get('default-src')).toBe("'self'")
    expect(policy.get('style-src')).toBe("'self'")
    expect(policy.get('img-src')).toBe("'self' data:")
    expect(policy.get('object-src')).toBe("'none'")
    expect(policy.get('frame-ancestors')).toBe("'none'")
    expect(policy.get('form-action')).toBe("'self'")
    expect(policy.get('base-uri')).toBe("'self'")
    expect(csp).not.toContain('unsafe-inline')
    expect(csp).not.toContain('unsafe-eval')
    // Handlebars escapes "=" in attributes; the browser decodes it back.
    expect(first.text).toContain(`<script nonce="${nonce!.replaceAll('=', '&#x3D;')}">`)

    const second = await request(t.app).get('/sign-in')
    expect(second.headers['content-security-policy']).not.toBe(csp)
  })

  it('never gives the same nonce twice, across refills of its pool of random bytes', () => {
    const nonces = Array.from({ length: 1000 }, () => nextNonce())
    expect(new Set(nonces).size).toBe(1000)
    for (const nonce of nonces) expect(Buffer.from(nonce, 'base64')).toHaveLength(16)
  })

  it('sets the other helmet headers', async () => {
    const res = await request(t.app).get('/sign-in')
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN')
    expect(res.headers['referrer-policy']).toBe('same-origin')
    expect(res.headers['x-powered-by']).toBeUndefined()
  })

  it('marks pages no-store, but not assets or the health check', async () => {
    expect((await request(t.app).get('/sign-in')).headers['cache-control']).toBe('no-store')
    expect((await request(t.app).get('/')).headers['cache-control']).toBe('no-store')
    expect((await request(t.app).get('/no-such-page')).headers['cache-control']).toBe('no-store')
    expect((await request(t.app).get('/assets/app.css')).headers['cache-control']).toBeUndefined()
    expect((await request(t.app).get('/health')).headers['cache-control']).toBeUndefined()
  })

  it('creates no session for the health check or assets', async () => {
    expect((await request(t.app).get('/health')).headers['set-cookie']).toBeUndefined()
    expect((await request(t.app).get('/assets/app.css')).headers['set-cookie']).toBeUndefined()
  })
})
