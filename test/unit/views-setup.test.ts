import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import express from 'express'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error the build script is plain JavaScript, without type declarations
import { buildAssets } from '../../scripts/build.mjs'
import { assetsDir, errorPageHeading, renderErrorPage, setUpViews } from '../../src/views/setup.js'

const NONCE = 'dGVzdC1ub25jZQ=='

/** Attribute values as a browser reads them (Handlebars escapes `=` as &#x3D;). */
function decodeAttribute(value: string): string {
  return value.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&')
}

function appWithLocals(locals: Record<string, unknown>) {
  const app = express()
  app.use((_req, res, next) => {
    Object.assign(res.locals, { cspNonce: NONCE, csrfToken: 'csrf-token-123', ...locals })
    next()
  })
  setUpViews(app, { timeZone: 'Europe/London' })
  app.get('/forbidden', (_req, res) => renderErrorPage(res, 403))
  app.get('/broken', (_req, res) => renderErrorPage(res, 500))
  app.get('/custom', (_req, res) => renderErrorPage(res, 400, { messages: ['Choose a <valid> area.'] }))
  app.use((_req, res) => renderErrorPage(res, 404))
  return app
}

const signedIn = appWithLocals({
  user: { email: 'officer@council.example', role: 'compliance' },
  navigation: [
    { text: 'Dashboard', href: '/', active: true },
    { text: 'Market', href: '/market', active: false },
  ],
})
const anonymous = appWithLocals({})

describe('build', () => {
  let outDir: string

  beforeAll(() => {
    outDir = mkdtempSync(path.join(os.tmpdir(), 'views-build-'))
    buildAssets(outDir)
  })

  afterAll(() => rmSync(outDir, { recursive: true, force: true }))

  it('compiles GOV.UK Frontend with Arial and without the GDS Transport font', () => {
    const css = readFileSync(path.join(outDir, 'application.css'), 'utf8')
    expect(css).toContain('.govuk-generic-header')
    expect(css).toContain('.app-table__sort-link')
    expect(css).toMatch(/font-family:\s*arial,\s*sans-serif/)
    expect(css).not.toContain('GDS Transport')
    expect(css).not.toContain('@font-face')
  })

  it('copies the self-hosted scripts and images', () => {
    for (const file of [
      'govuk-frontend.min.js',
      'chart.umd.js',
      'manifest.json',
      'images/favicon.ico',
      'js/init.js',
      'js/rag-chart.js',
    ]) {
      expect(existsSync(path.join(outDir, file)), file).toBe(true)
    }
    expect(existsSync(path.join(outDir, 'fonts'))).toBe(false)
    expect(readFileSync(path.join(outDir, 'js/init.js'), 'utf8')).toContain('initAll()')
  })
})

describe('layout', () => {
  let html: string

  beforeAll(async () => {
    const response = await request(signedIn).get('/nowhere').expect(404)
    html = response.text
  })

  it('is an en-GB GOV.UK template page with the page title and the service name', () => {
    expect(html).toMatch(/^<!DOCTYPE html>/)
    expect(html).toContain('<html lang="en-GB" class="govuk-template">')
    expect(html).toContain('<title>Page not found - Provider Risk Dashboard</title>')
    expect(html).toContain('<body class="govuk-template__body">')
  })

  it('has a skip link to the main content', () => {
    expect(html).toContain('<a href="#main-content" class="govuk-skip-link" data-module="govuk-skip-link">')
    expect(html).toContain('<main class="govuk-main-wrapper" id="main-content">')
  })

  it('uses the generic header, not the GOV.UK crown', () => {
    expect(html).toMatch(/govuk-generic-header__homepage-link">\s*Provider Risk Dashboard\s*<\/a>/)
    expect(html).not.toContain('govuk-header__logotype')
    expect(html).not.toContain('crown')
    expect(html).not.toContain('<svg')
  })

  it('shows the service navigation with the current page marked', () => {
    expect(html).toContain('class="govuk-service-navigation"')
    expect(html).toMatch(
      /<a class="govuk-service-navigation__link" href="\/" aria-current="page">\s*<strong class="govuk-service-navigation__active-fallback">Dashboard<\/strong>/,
    )
    expect(html).toMatch(/<a class="govuk-service-navigation__link" href="\/market">\s*Market\s*<\/a>/)
  })

  it('shows who is signed in and a sign-out form with the CSRF token', () => {
    expect(html).toContain('officer@council.example')
    expect(html).toContain('<form class="app-user-bar__form" method="post" action="/sign-out">')
    expect(html).toContain('<input type="hidden" name="_csrf" value="csrf-token-123">')
  })

  it('gives every script the CSP nonce and has no inline styles or event handlers', () => {
    const scripts = html.match(/<script\b[^>]*>/g) ?? []
    expect(scripts.length).toBeGreaterThanOrEqual(2)
    for (const script of scripts) expect(decodeAttribute(script)).toContain(`nonce="${NONCE}"`)
    expect(decodeAttribute(html)).toMatch(/<script type="module" src="\/assets\/js\/init\.js(\?v=[0-9a-f]+)?" nonce=/)
    expect(html).not.toMatch(/\sstyle=/)
    expect(html).not.toMatch(/\son[a-z]+=/)
    expect(html).not.toContain('<style')
  })

  it('links only to self-hosted assets', () => {
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] as string)
    expect(urls.length).toBeGreaterThan(3)
    for (const url of urls) expect(url.startsWith('http')).toBe(false)
  })

  it('starts the title with "Error: " when the page has an error list', async () => {
    const withErrors = appWithLocals({ errorList: [{ text: 'Enter a date', href: '#date' }] })
    const response = await request(withErrors).get('/nowhere').expect(404)
    expect(response.text).toContain('<title>Error: Page not found - Provider Risk Dashboard</title>')
  })

  it('shows no user line or navigation to someone not signed in', async () => {
    const response = await request(anonymous).get('/nowhere').expect(404)
    expect(response.text).not.toContain('Sign out')
    expect(response.text).not.toContain('govuk-service-navigation')
  })
})

describe('error pages', () => {
  it('renders the GOV.UK "Page not found" page', async () => {
    const response = await request(anonymous).get('/nowhere').expect(404)
    expect(response.text).toContain('<h1 class="govuk-heading-l">Page not found</h1>')
    expect(response.text).toContain('If you typed the web address, check it is correct.')
  })

  it('renders the GOV.UK problem page for a server error', async () => {
    const response = await request(anonymous).get('/broken').expect(500)
    expect(response.text).toContain('Sorry, there is a problem with the service')
    expect(response.text).toContain('Try again later.')
    expect(response.text).toContain(
      '<title>Sorry, there is a problem with the service - Provider Risk Dashboard</title>',
    )
  })

  it('explains a refusal', async () => {
    const response = await request(signedIn).get('/forbidden').expect(403)
    expect(response.text).toContain('You do not have permission to see this page')
    expect(response.text).toContain('ask the dashboard administrator')
  })

  it('escapes custom messages', async () => {
    const response = await request(anonymous).get('/custom').expect(400)
    expect(response.text).toContain('Choose a &lt;valid&gt; area.')
  })

  it('has a heading for other statuses', () => {
    expect(errorPageHeading(502)).toBe('Sorry, there is a problem with the service')
    expect(errorPageHeading(418)).toBe('Sorry, there is a problem with your request')
  })
})

describe('assets', () => {
  beforeAll(() => {
    if (!existsSync(path.join(assetsDir, 'application.css'))) buildAssets()
  })

  it('serves the built assets at /assets, versioned URLs cached for a year', async () => {
    const page = await request(anonymous).get('/nowhere')
    const cssUrl = decodeAttribute(/<link rel="stylesheet" href="([^"]+)">/.exec(page.text)?.[1] ?? '')
    expect(cssUrl).toMatch(/^\/assets\/application\.css\?v=[0-9a-f]{10}$/)
    const response = await request(anonymous).get(cssUrl).expect(200)
    expect(response.headers['content-type']).toContain('text/css')
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable')
  })

  it('caches unversioned URLs briefly', async () => {
    const response = await request(anonymous).get('/assets/govuk-frontend.min.js').expect(200)
    expect(response.headers['cache-control']).toBe('public, max-age=3600')
  })

  it('gives a missing asset the not-found page', async () => {
    await request(anonymous).get('/assets/missing.js').expect(404)
  })
})
