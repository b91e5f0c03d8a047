// Proof that the browser checks can fail: deliberately broken copies of a real page (served in place of the real
// one through the browser's request interception, with the real page's headers) must be caught by the same
// checks the journeys and the crawl use.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { accessibilityProblems, blockingViolations, runAxe } from './helpers/accessibility.js'
import {
  openPage,
  signIn,
  startE2e,
  visit,
  E2E_TEST_TIMEOUT_MS,
  type E2eEnvironment,
  type WatchedPage,
} from './helpers/browser.js'
import { expectHealthyPage } from './helpers/checks.js'
import { crawl } from './helpers/crawl.js'
import { focused, horizontalScrollProblem } from './helpers/layout.js'

let env: E2eEnvironment
// A browser journey is many page loads: on two busy cores one can take well over the unit tests' 20 s.
vi.setConfig({ testTimeout: E2E_TEST_TIMEOUT_MS })

beforeAll(async () => {
  env = await startE2e()
})

afterAll(async () => {
  await env?.stop()
})

const BROKEN_PATH = '/broken-page-for-the-checks'

/**
 * Serves the real sign-in page, changed by `breakIt`, at BROKEN_PATH on the real origin (so its assets load),
 * with the real response's headers, CSP included (unless `withoutCsp`).
 */
async function serveBrokenSignIn(
  watched: WatchedPage,
  breakIt: (html: string) => string,
  options: { withoutCsp?: boolean } = {},
): Promise<void> {
  const real = await watched.page.request.get('/sign-in')
  expect(real.status()).toBe(200)
  const html = await real.text()
  const broken = breakIt(html)
  expect(broken, 'the fixture must differ from the real page').not.toBe(html)
  const headers = { ...real.headers() }
  if (options.withoutCsp) delete headers['content-security-policy']
  await watched.page.route(`**${BROKEN_PATH}`, (route) => route.fulfill({ status: 200, headers, body: broken }))
  await visit(watched.page, BROKEN_PATH)
}

describe('the checks catch a broken page', () => {
  it('axe reports an input without a label, and the page check fails on it', async () => {
    const watched = await openPage(env)
    try {
      await serveBrokenSignIn(watched, (html) =>
        html.replace(/<label class="govuk-label" for="email">[^<]*<\/label>/, ''),
      )
      const blocking = blockingViolations(await runAxe(watched.page))
      expect(blocking.map((violation) => violation.id)).toContain('label')
      expect(blocking.find((violation) => violation.id === 'label')?.nodes[0]?.target).toEqual(['#email'])
      expect(await accessibilityProblems(watched.page, 'broken sign-in')).toMatch(/\[critical\] label: /)
      await expect(expectHealthyPage(watched, 'broken sign-in')).rejects.toThrow(/label/)
    } finally {
      await watched.close()
    }
  })

  it('an inline script without the nonce is blocked by the CSP and reported', async () => {
    const watched = await openPage(env)
    try {
      await serveBrokenSignIn(watched, (html) =>
        html.replace('</main>', '<script>document.title = "injected"</script></main>'),
      )
      expect(await watched.page.title()).not.toBe('injected')
      await expect.poll(() => watched.cspViolations.length).toBeGreaterThan(0)
      expect(watched.cspViolations.join('\n')).toMatch(/script-src/)
      await expect(expectHealthyPage(watched, 'sign-in with an inline script')).rejects.toThrow(/CSP violations/)
    } finally {
      await watched.close()
    }
  })

  it('content wider than 320 px makes the reflow check fail', async () => {
    const watched = await openPage(env, { viewport: { width: 320, height: 800 } })
    try {
      await serveBrokenSignIn(watched, (html) =>
        html.replace('</main>', `<pre class="govuk-body">${'unbreakable-'.repeat(40)}</pre></main>`),
      )
      expect(await horizontalScrollProblem(watched.page, 'broken sign-in')).toMatch(/sticking out: pre/)
    } finally {
      await watched.close()
    }
  })

  it('a focus style taken away is noticed', async () => {
    const watched = await openPage(env)
    try {
      await serveBrokenSignIn(
        watched,
        (html) =>
          html.replace(
            '</head>',
            '<style>*:focus, *:focus-visible { outline: none !important; box-shadow: none !important; background: none !important; }</style></head>',
          ),
        { withoutCsp: true },
      )
      await watched.page.locator('#email').focus()
      expect(await focused(watched.page)).toMatchObject({ id: 'email', indicator: false })
    } finally {
      await watched.close()
    }
  })

  it('the crawl reports a link to a refused page, a missing heading and a missing label', async () => {
    const watched = await openPage(env)
    try {
      await signIn(watched.page, 'assessor')
      const real = await watched.page.request.get('/')
      expect(real.status()).toBe(200)
      const html = await real.text()
      const broken = html
        .replace(/<h1[^>]*>[^<]*<\/h1>/, '')
        .replace(/<label class="govuk-label govuk-label--s" for="q">[^<]*<\/label>/, '')
        .replace('</main>', '<p class="govuk-body"><a class="govuk-link" href="/admin">Admin</a></p></main>')
      expect(broken).not.toBe(html)
      const headers = real.headers()
      await watched.page.route('**/broken-crawl-start', (route) =>
        route.fulfill({ status: 200, headers, body: broken }),
      )
      const { visited, problems } = await crawl(watched, {
        baseUrl: env.server.baseUrl,
        label: 'broken',
        seeds: ['/broken-crawl-start'],
        follow: (url) => url.pathname === '/admin',
      })
      expect(visited).toEqual(['/broken-crawl-start', '/admin'])
      const report = problems.join('\n')
      expect(report).toContain('/admin (linked from /broken-crawl-start) answered 403')
      expect(report).toContain('/broken-crawl-start has 0 h1 headings')
      expect(report).toMatch(/\[critical\] label: [\s\S]*#q/)
    } finally {
      await watched.close()
    }
  })
})
