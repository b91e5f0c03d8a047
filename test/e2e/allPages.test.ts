// Every page a person can reach, as each role: starting from the role's main pages, the suite follows every link
// on every page it visits (one page per kind of address: /services/:ref, /admin/runs/:id...), so a page that lands
// later is checked as soon as something links to it. Each page must answer 200 (a role is never shown a link to a
// page it may not use), pass axe-core at WCAG 2.2 AA with no serious or critical violation, raise no CSP violation
// or script error, and, for the admin (who sees every page) browsing at 320 CSS px (400% zoom), not scroll sideways.
// The pages each role may not use must answer 403, and every page sends an anonymous visitor to sign-in.
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { Role } from '../../src/auth/roles.js'
import { INTELLIGENCE_KINDS } from '../../src/domain/vocabulary.js'
import { accessibilityProblems } from './helpers/accessibility.js'
import {
  openPage,
  ROLES,
  signIn,
  startE2e,
  visit,
  E2E_TEST_TIMEOUT_MS,
  type E2eEnvironment,
  type WatchedPage,
} from './helpers/browser.js'
import { crawl, pageKind } from './helpers/crawl.js'
import { projectRoot } from './helpers/server.js'

let env: E2eEnvironment
// A browser journey is many page loads: on two busy cores one can take well over the unit tests' 20 s.
vi.setConfig({ testTimeout: E2E_TEST_TIMEOUT_MS })

beforeAll(async () => {
  env = await startE2e()
})

afterAll(async () => {
  await env?.stop()
})

const COMPLIANCE_PAGES = ['/morning', '/actions', '/intelligence', '/assessments/due', '/import']
const ADMIN_PAGES = [
  '/admin',
  '/admin/users',
  '/admin/users/new',
  '/admin/runs',
  '/admin/audit',
  '/admin/rules',
  '/admin/rules/edit',
  '/admin/dps',
  '/admin/dps/new',
  '/admin/tokens',
]
const EVERYONE_PAGES = ['/', '/dps', '/market', '/providers']

/** Pages per service that only compliance and admin may open (the first service of the dashboard is used). */
function serviceEntryPages(serviceHref: string): string[] {
  return [
    `${serviceHref}/intelligence`,
    `${serviceHref}/intelligence/new`,
    ...INTELLIGENCE_KINDS.map((kind) => `${serviceHref}/intelligence/new?kind=${kind}`),
    `${serviceHref}/assessments`,
    `${serviceHref}/assessments/new`,
    `${serviceHref}/override`,
    `${serviceHref}/actions/new`,
  ]
}

const PLANS: Record<Role, { seeds: (serviceHref: string) => string[]; refused: (serviceHref: string) => string[] }> = {
  admin: {
    seeds: (s) => [...EVERYONE_PAGES, s, ...COMPLIANCE_PAGES, ...ADMIN_PAGES, ...serviceEntryPages(s)],
    refused: () => [],
  },
  compliance: {
    seeds: (s) => [...EVERYONE_PAGES, s, ...COMPLIANCE_PAGES, ...serviceEntryPages(s)],
    refused: () => ADMIN_PAGES,
  },
  assessor: {
    seeds: (s) => [...EVERYONE_PAGES, s],
    refused: (s) => [...COMPLIANCE_PAGES, ...ADMIN_PAGES, ...serviceEntryPages(s), '/dps/1/awards/new'],
  },
}

async function firstServiceHref(watched: WatchedPage): Promise<string> {
  await visit(watched.page, '/')
  const href = await watched.page
    .locator('[data-testid="services-table"] tbody tr td:nth-child(2) a')
    .first()
    .getAttribute('href')
  expect(href).toMatch(/^\/services\/[^/]+$/)
  return href ?? ''
}

/**
 * Screenshots for a reviewer: every page as compliance (at desktop width), the admin-only pages as the admin (at
 * 320 px), and the assessor's view of the pages that differ for that role.
 */
const SCREENSHOTS: Record<Role, (kind: string) => boolean> = {
  compliance: () => true,
  admin: (kind) => kind.startsWith('/admin'),
  assessor: (kind) => ['/', '/services/:id', '/dps/:id', '/providers/:id'].includes(kind),
}

// The three crawls run at the same time: the browser and the server then share the two cores between them.
describe.concurrent('every page reachable by link', () => {
  it.for(ROLES)(
    'as %s: each page answers 200, passes axe, raises no CSP violation and links only to pages it may use',
    { timeout: 300_000 },
    async (role, { expect }) => {
      const narrow = role === 'admin'
      const watched = await openPage(env, narrow ? { viewport: { width: 320, height: 800 } } : {})
      try {
        await signIn(watched.page, role)
        const serviceHref = await firstServiceHref(watched)
        const seeds = PLANS[role].seeds(serviceHref)
        const { visited, problems } = await crawl(watched, {
          baseUrl: env.server.baseUrl,
          label: role,
          seeds,
          narrow,
          screenshotOf: SCREENSHOTS[role],
        })
        // For a reviewer: which pages were checked (their screenshots are in test-results/screenshots/pages-*).
        mkdirSync(path.join(projectRoot, 'test-results'), { recursive: true })
        writeFileSync(path.join(projectRoot, 'test-results', `pages-${role}.txt`), `${visited.join('\n')}\n`)
        expect(problems, problems.join('\n\n')).toEqual([])
        // The crawl really went beyond the seeds: it found the linked pages (services, providers, DPS...).
        expect(visited.length).toBeGreaterThan(seeds.length)
        for (const kind of ['/services/:id', '/providers/:id', '/dps/:id', '/dps/:id/referral']) {
          expect(visited.map((address) => pageKind(new URL(address, env.server.baseUrl)))).toContain(kind)
        }
      } finally {
        await watched.close()
      }
    },
  )
})

describe('pages a role may not use', () => {
  it.for(ROLES.filter((role) => role !== 'admin'))(
    'as %s: each answers 403 with a healthy refusal page',
    async (role) => {
      const watched = await openPage(env)
      try {
        await signIn(watched.page, role)
        const refused = PLANS[role].refused(await firstServiceHref(watched))
        expect(refused.length).toBeGreaterThan(0)
        const wrong: string[] = []
        for (const path of refused) {
          const response = await watched.page.request.get(path, { maxRedirects: 0 })
          if (response.status() !== 403) wrong.push(`${path} answered ${response.status()}`)
        }
        expect(wrong).toEqual([])
        expect(await visit(watched.page, refused[0] ?? '/')).toBe(403)
        const problems = await accessibilityProblems(watched.page, `refused page as ${role}`)
        expect(problems, problems).toBe('')
        expect(watched.cspViolations).toEqual([])
      } finally {
        await watched.close()
      }
    },
  )

  it('not signed in: every page sends the visitor to sign-in, and the missing page is healthy', async () => {
    const watched = await openPage(env)
    try {
      const wrong: string[] = []
      for (const path of [...EVERYONE_PAGES, ...COMPLIANCE_PAGES, ...ADMIN_PAGES, '/services/SVC-0001']) {
        const response = await watched.page.request.get(path, { maxRedirects: 0 })
        const location = response.headers().location ?? ''
        const to = new URL(location, env.server.baseUrl)
        if (response.status() !== 302 || to.pathname !== '/sign-in' || to.searchParams.get('returnTo') !== path) {
          wrong.push(`${path} answered ${response.status()} to ${location}`)
        }
      }
      expect(wrong).toEqual([])

      await signIn(watched.page, 'assessor')
      expect(await visit(watched.page, '/no-such-page')).toBe(404)
      expect(await watched.page.locator('h1').textContent()).toBe('Page not found')
      const problems = await accessibilityProblems(watched.page, 'page not found')
      expect(problems, problems).toBe('')
      expect(watched.cspViolations).toEqual([])
    } finally {
      await watched.close()
    }
  })
})
