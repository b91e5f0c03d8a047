// Keyboard-only use (skip link, visible focus, the dashboard filters and the sign-in form without a mouse) and
// reflow at 320 CSS pixels wide (WCAG 1.4.10: 1280 px at 400% zoom) without horizontal scrolling of the page.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  demoCredentials,
  openPage,
  screenshot,
  signIn,
  startE2e,
  visit,
  E2E_TEST_TIMEOUT_MS,
  type E2eEnvironment,
  type WatchedPage,
} from './helpers/browser.js'
import { focused, horizontalScrollProblem, tabUntil, withoutVisibleFocus } from './helpers/layout.js'

let env: E2eEnvironment
// A browser journey is many page loads: on two busy cores one can take well over the unit tests' 20 s.
vi.setConfig({ testTimeout: E2E_TEST_TIMEOUT_MS })

beforeAll(async () => {
  env = await startE2e()
})

afterAll(async () => {
  await env?.stop()
})

describe('keyboard only', () => {
  it('the skip link is the first stop, shows its focus, and moves focus to the main content', async () => {
    const watched = await openPage(env)
    const { page } = watched
    try {
      await signIn(page, 'compliance')
      await page.keyboard.press('Tab')
      const first = await focused(page)
      expect(first?.text).toBe('Skip to main content')
      expect(first?.visible).toBe(true)
      expect(first?.indicator).toBe(true)
      await screenshot(page, 'keyboard-skip-link', { fullPage: false })
      await page.keyboard.press('Enter')
      await expect.poll(() => focused(page).then((state) => state?.id)).toBe('main-content')
      expect(new URL(page.url()).hash).toBe('#main-content')
    } finally {
      await watched.close()
    }
  })

  it('filters the dashboard to Red and opens a service, with visible focus at every stop', async () => {
    const watched = await openPage(env)
    const { page } = watched
    try {
      await signIn(page, 'compliance')
      const toRed = await tabUntil(page, (state) => state.id === 'rag-red', 80)
      await page.keyboard.press('Space')
      expect(await page.locator('#rag-red').isChecked()).toBe(true)
      const toApply = await tabUntil(page, (state) => state.text === 'Apply filters')
      await Promise.all([page.waitForURL(/rag=red/), page.keyboard.press('Enter')])

      const toFirstService = await tabUntil(page, (state) => state.href.startsWith('/services/'), 80)
      const name = toFirstService.at(-1)?.text ?? ''
      await Promise.all([page.waitForURL(/\/services\//), page.keyboard.press('Enter')])
      expect((await page.locator('h1').textContent())?.trim()).toBe(name)

      expect(withoutVisibleFocus([...toRed, ...toApply, ...toFirstService])).toEqual([])
    } finally {
      await watched.close()
    }
  })

  it('signs in with the keyboard alone, through the form and its error', async () => {
    const watched = await openPage(env)
    const { page } = watched
    try {
      await visit(page, '/sign-in')
      const stops = await tabUntil(page, (state) => state.id === 'email')
      const { email, password } = demoCredentials('assessor')
      await page.keyboard.type(email)
      await page.keyboard.press('Tab')
      expect((await focused(page))?.id).toBe('password')
      await page.keyboard.type('wrong password')
      await Promise.all([page.waitForLoadState(), page.keyboard.press('Enter')])
      await page.locator('.govuk-error-summary').waitFor()
      // The error summary takes focus; its link leads back to the field.
      await expect.poll(() => focused(page).then((state) => state?.text ?? '')).toContain('There is a problem')
      const toLink = await tabUntil(page, (state) => state.text === 'Enter a correct email address and password')
      await page.keyboard.press('Enter')
      await expect.poll(() => focused(page).then((state) => state?.id)).toBe('email')
      const toPassword = await tabUntil(page, (state) => state.id === 'password')
      await page.keyboard.type(password)
      await Promise.all([page.waitForURL((url) => url.pathname === '/'), page.keyboard.press('Enter')])
      expect(withoutVisibleFocus([...stops, ...toLink, ...toPassword])).toEqual([])
    } finally {
      await watched.close()
    }
  })

  it('records intelligence with the keyboard alone: from the service page, through the error, to the saved entry', async () => {
    const watched = await openPage(env)
    const { page } = watched
    try {
      await signIn(page, 'compliance')
      await visit(page, '/?rag=green&sort=name')
      const href = await page
        .locator('[data-testid="services-table"] tbody tr td:nth-child(2) a')
        .first()
        .getAttribute('href')
      await visit(page, href ?? '/')
      const toRecord = await tabUntil(page, (state) => state.text === 'Record intelligence', 120)
      await Promise.all([page.waitForURL(/\/intelligence\/new$/), page.keyboard.press('Enter')])

      // A radio group is one Tab stop; Space chooses the focused (first) kind, Safeguarding decision.
      const toKind = await tabUntil(page, (state) => state.id === 'kind')
      await page.keyboard.press('Space')
      expect(await page.getByRole('radio', { name: 'Safeguarding decision' }).isChecked()).toBe(true)
      const toContinue = await tabUntil(page, (state) => state.text === 'Continue')
      await Promise.all([page.waitForURL(/kind=safeguarding_decision/), page.keyboard.press('Enter')])

      // Saving the empty form: the error summary takes focus, and its link leads to the date's first box.
      const toSave = await tabUntil(page, (state) => state.text === 'Save')
      await Promise.all([page.waitForLoadState(), page.keyboard.press('Enter')])
      await page.locator('.govuk-error-summary').waitFor()
      await expect.poll(() => focused(page).then((state) => state?.text ?? '')).toContain('There is a problem')
      const toError = await tabUntil(page, (state) => state.href === '#date-day')
      await page.keyboard.press('Enter')
      await expect.poll(() => focused(page).then((state) => state?.id)).toBe('date-day')

      const decided = new Date(Date.now() - 3 * 86_400_000)
      await page.keyboard.type(String(decided.getUTCDate()))
      await page.keyboard.press('Tab')
      expect((await focused(page))?.id).toBe('date-month')
      await page.keyboard.type(String(decided.getUTCMonth() + 1))
      await page.keyboard.press('Tab')
      expect((await focused(page))?.id).toBe('date-year')
      await page.keyboard.type(String(decided.getUTCFullYear()))
      const toSaveAgain = await tabUntil(page, (state) => state.text === 'Save')
      await Promise.all([page.waitForURL(/saved=/), page.keyboard.press('Enter')])
      expect(await page.locator('[data-testid="saved-rag"]').textContent()).toContain('is now')

      expect(
        withoutVisibleFocus([...toRecord, ...toKind, ...toContinue, ...toSave, ...toError, ...toSaveAgain]),
      ).toEqual([])
      expect(watched.cspViolations).toEqual([])
    } finally {
      await watched.close()
    }
  })
})

describe('at 320 CSS pixels wide (400% zoom)', () => {
  const narrow = { width: 320, height: 800 }

  it('the sign-in page reflows', async () => {
    const watched = await openPage(env, { viewport: narrow })
    try {
      await visit(watched.page, '/sign-in')
      expect(await horizontalScrollProblem(watched.page, 'sign-in')).toBe('')
      await screenshot(watched.page, 'narrow-sign-in')
    } finally {
      await watched.close()
    }
  })

  let watched: WatchedPage
  let serviceHref = ''

  beforeAll(async () => {
    watched = await openPage(env, { viewport: narrow })
    await signIn(watched.page, 'compliance')
    serviceHref =
      (await watched.page
        .locator('[data-testid="services-table"] tbody tr td:nth-child(2) a')
        .first()
        .getAttribute('href')) ?? ''
  })

  afterAll(async () => {
    await watched?.close()
  })

  it('the dashboard reflows; its wide tables scroll inside their own focusable region', async () => {
    const { page } = watched
    await visit(page, '/')
    expect(await horizontalScrollProblem(page, 'dashboard')).toBe('')
    await screenshot(page, 'narrow-dashboard')
    const regions = page.locator('.app-table-scroll')
    for (let i = 0; i < (await regions.count()); i++) {
      const region = regions.nth(i)
      expect(await region.getAttribute('tabindex')).toBe('0')
      expect(await region.getAttribute('role')).toBe('region')
    }
  })

  it('the service page reflows', async () => {
    await visit(watched.page, serviceHref)
    expect(await horizontalScrollProblem(watched.page, 'service page')).toBe('')
    await screenshot(watched.page, 'narrow-service')
  })

  const OTHER_PAGES: Array<{ name: string; path: () => string }> = [
    { name: 'market summary', path: () => '/market' },
    { name: 'DPS referral', path: () => '/dps/1/referral?area=North&type=home_care' },
    { name: 'intelligence form', path: () => `${serviceHref}/intelligence/new?kind=embargo` },
    { name: 'override form', path: () => `${serviceHref}/override` },
    { name: 'morning page', path: () => '/morning' },
  ]
  it.for(OTHER_PAGES)('the $name reflows', async ({ name, path }) => {
    expect(await visit(watched.page, path()), `${path()} must exist`).toBe(200)
    expect(await horizontalScrollProblem(watched.page, name)).toBe('')
  })
})
