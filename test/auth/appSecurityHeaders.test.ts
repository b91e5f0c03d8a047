import type { Express } from 'express'
import request from 'supertest'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Services } from '../../src/services/container.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

/**
 * The strict CSP on the real pages, as `npm start` composes the app (test/auth/webSecurity.test.ts checks the policy
 * itself): every inline script carries the response's nonce, no page needs inline styles or inline event handlers
 * (which the policy would block), and every page with data is `Cache-Control: no-store`.
 */

let services: Services
let app: Express
let admin: SignedInAgent

const PAGES = [
  '/',
  '/services/SVC-RED',
  '/services/SVC-AMBER/report',
  '/morning',
  '/intelligence',
  '/services/SVC-GREEN/intelligence/new?kind=embargo',
  '/services/SVC-GREEN/assessments/new',
  '/assessments/due',
  '/services/SVC-GREEN/override',
  '/services/SVC-GREEN/actions/new',
  '/import',
  '/admin',
  '/admin/users',
  '/admin/tokens',
  '/admin/audit',
  '/market',
  '/dps',
]

function nonceOf(csp: string): string {
  const nonce = /script-src 'self' 'nonce-([A-Za-z0-9+/=]+)'(;|$)/.exec(csp)?.[1]
  if (!nonce) throw new Error(`No script nonce in ${csp}`)
  return nonce
}

beforeAll(async () => {
  services = createTestServices()
  await seedSmallBorough(services)
  app = appWithAllRoutes(services)
  admin = await signIn(app, services, 'admin')
}, 60_000)

describe('the real pages under the strict CSP', () => {
  it.each(PAGES)('%s', async (path) => {
    const response = await admin.agent.get(path)
    expect(response.status, path).toBe(200)
    const csp = response.headers['content-security-policy'] as string
    expect(csp).not.toContain('unsafe-inline')
    expect(csp).not.toContain('unsafe-eval')
    expect(csp).toContain("style-src 'self'")
    const nonce = nonceOf(csp).replaceAll('=', '&#x3D;')
    const html = response.text

    const scripts = html.match(/<script\b[^>]*>/g) ?? []
    expect(scripts.length).toBeGreaterThan(0)
    for (const tag of scripts) {
      // JSON data islands are never executed; everything else runs only with this response's nonce.
      if (/type="application\/json"/.test(tag)) continue
      expect(tag, `${path}: ${tag}`).toContain(`nonce="${nonce}"`)
    }
    expect(html, `${path}: an inline style attribute`).not.toMatch(/\sstyle="/)
    expect(html, `${path}: a <style> element`).not.toMatch(/<style\b/)
    expect(html, `${path}: an inline event handler`).not.toMatch(/<[^>]+\son[a-z]+="/)
    expect(html, `${path}: a javascript: URL`).not.toMatch(/href="javascript:/i)
    expect(response.headers['cache-control']).toBe('no-store')
  })

  it('gives the sign-in page and the JSON API the same headers', async () => {
    const signInPage = await request(app).get('/sign-in')
    expect(signInPage.headers['cache-control']).toBe('no-store')
    expect(signInPage.text).toContain(
      `nonce="${nonceOf(signInPage.headers['content-security-policy'] as string).replaceAll('=', '&#x3D;')}"`,
    )
    const api = await admin.agent.get('/api/v1/services')
    expect(api.status).toBe(200)
    expect(api.headers['cache-control']).toBe('no-store')
    expect(api.headers['x-content-type-options']).toBe('nosniff')
  })
})
