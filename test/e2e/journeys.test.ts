// The core journeys in a real browser against the real server: sign in, the dashboard's filters, sorting and
// paging, a service page with its chart, sign out; each as every role. Every page is checked with axe-core and
// for CSP violations (helpers/checks.ts).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { Role } from '../../src/auth/roles.js'
import {
  demoCredentials,
  openPage,
  ROLES,
  signIn,
  signOut,
  startE2e,
  visit,
  E2E_TEST_TIMEOUT_MS,
  type E2eEnvironment,
  type WatchedPage,
} from './helpers/browser.js'
import { expectHealthyPage } from './helpers/checks.js'
import type { PageCanvas, PageGlobals } from './helpers/pageTypes.js'

let env: E2eEnvironment
// A browser journey is many page loads: on two busy cores one can take well over the unit tests' 20 s.
vi.setConfig({ testTimeout: E2E_TEST_TIMEOUT_MS })

beforeAll(async () => {
  env = await startE2e()
})

afterAll(async () => {
  await env?.stop()
})

async function cellTexts(watched: WatchedPage, selector: string): Promise<string[]> {
  return (await watched.page.locator(selector).allTextContents()).map((text) => text.trim())
}

describe('signing in', () => {
  it.for(ROLES)(
    'as %s: an anonymous visit goes to sign-in; a wrong password is refused, the right one lets in',
    async (role) => {
      const watched = await openPage(env)
      const { page } = watched
      try {
        await visit(page, '/?rag=red')
        expect(new URL(page.url()).pathname).toBe('/sign-in')
        expect(new URL(page.url()).searchParams.get('returnTo')).toBe('/?rag=red')
        await expectHealthyPage(watched, `sign-in (${role})`, role === 'compliance' ? 'sign-in' : undefined)

        const { email, password } = demoCredentials(role)
        await page.getByLabel('Email address').fill(email)
        await page.getByLabel('Password').fill('not-the-password')
        const [refusal] = await Promise.all([
          page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/sign-in')),
          page.getByRole('button', { name: 'Sign in' }).click(),
        ])
        expect(refusal.status()).toBe(401)
        const summary = page.locator('.govuk-error-summary')
        await expect.poll(() => summary.textContent()).toContain('Enter a correct email address and password')
        expect(await page.title()).toMatch(/^Error: Sign in/)
        // GOV.UK Frontend moves focus to the error summary.
        await expect
          .poll(() =>
            page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.getAttribute('class')),
          )
          .toContain('govuk-error-summary')
        expect(await page.getByLabel('Email address').inputValue()).toBe(email)
        await expectHealthyPage(
          watched,
          `sign-in with an error (${role})`,
          role === 'compliance' ? 'sign-in-error' : undefined,
        )

        await page.getByLabel('Password').fill(password)
        await Promise.all([
          page.waitForURL((url) => url.pathname === '/'),
          page.getByRole('button', { name: 'Sign in' }).click(),
        ])
        expect(new URL(page.url()).searchParams.getAll('rag')).toEqual(['red'])
        expect(await page.locator('.app-user-bar').textContent()).toContain(email)
      } finally {
        await watched.close()
      }
    },
  )
})

describe.each(ROLES)('as %s', (role: Role) => {
  let watched: WatchedPage

  beforeAll(async () => {
    watched = await openPage(env)
    await signIn(watched.page, role)
  })

  afterAll(async () => {
    await watched?.close()
  })

  it('shows the dashboard with its counts and the first page of services', async () => {
    const { page } = watched
    expect(new URL(page.url()).pathname).toBe('/')
    await expect.poll(() => page.locator('h1').textContent()).toBe('Provider risk dashboard')
    expect(await page.locator('.app-user-bar').textContent()).toContain(`(${role})`)
    expect(await page.locator('[data-testid="services-table"] tbody tr').count()).toBe(50)
    await expectHealthyPage(watched, `dashboard as ${role}`, role === 'compliance' ? 'dashboard' : undefined)
  })

  it('filters by RAG: only Red services, as many as the Red count says', async () => {
    const { page } = watched
    const redCount = Number(await page.locator('.app-rag-count--red .app-rag-count__number').textContent())
    expect(redCount).toBeGreaterThan(0)
    await page.getByRole('checkbox', { name: 'Red', exact: true }).check()
    await Promise.all([page.waitForURL(/rag=red/), page.getByRole('button', { name: 'Apply filters' }).click()])
    expect(await page.getByRole('checkbox', { name: 'Red', exact: true }).isChecked()).toBe(true)
    const tags = await cellTexts(watched, '[data-testid="services-table"] tbody tr td:first-child .govuk-tag')
    expect(tags.length).toBe(Math.min(redCount, 50))
    expect(new Set(tags)).toEqual(new Set(['Red']))
    expect(await page.locator('#services-summary').textContent()).toContain(`of ${redCount} services`)
    await expectHealthyPage(watched, `dashboard filtered to Red as ${role}`)
  })

  it('sorts by service name, both ways, keeping the filter', async () => {
    const { page } = watched
    const nameHeader = page.locator('[data-testid="services-table"] thead th', { hasText: 'Service' })
    await Promise.all([page.waitForURL(/sort=name/), nameHeader.getByRole('link').click()])
    expect(new URL(page.url()).searchParams.getAll('rag')).toEqual(['red'])
    expect(await nameHeader.getAttribute('aria-sort')).toBe('ascending')
    const ascending = await cellTexts(watched, '[data-testid="services-table"] tbody tr td:nth-child(2) a')
    expect(ascending.length).toBeGreaterThan(1)
    expect(ascending).toEqual([...ascending].sort((a, b) => compareLowerCase(a, b)))

    await Promise.all([page.waitForURL(/dir=desc/), nameHeader.getByRole('link').click()])
    expect(await nameHeader.getAttribute('aria-sort')).toBe('descending')
    const descending = await cellTexts(watched, '[data-testid="services-table"] tbody tr td:nth-child(2) a')
    expect(descending.length).toBe(ascending.length)
    expect(descending).toEqual([...descending].sort((a, b) => compareLowerCase(b, a)))
    await expectHealthyPage(watched, `dashboard sorted by name as ${role}`)
  })

  it('combines the area, type and eligibility filters and a name search; clearing them shows every service', async () => {
    const { page } = watched
    const rows = '[data-testid="services-table"] tbody tr'
    const total = async () =>
      Number(/of (\d+) services/.exec((await page.locator('#services-summary').textContent()) ?? '')?.[1] ?? 0)
    await visit(page, '/')
    const everyService = await total()
    await page.getByRole('checkbox', { name: 'North', exact: true }).check()
    await page.getByRole('checkbox', { name: 'Home care', exact: true }).check()
    await Promise.all([page.waitForURL(/type=home_care/), page.getByRole('button', { name: 'Apply filters' }).click()])
    expect(new URL(page.url()).searchParams.getAll('area')).toEqual(['North'])
    const northHomeCare = await total()
    expect(northHomeCare).toBeGreaterThan(0)
    expect(northHomeCare).toBeLessThan(everyService)
    expect(new Set(await cellTexts(watched, `${rows} td:nth-child(5)`))).toEqual(new Set(['North']))
    expect(new Set(await cellTexts(watched, `${rows} td:nth-child(4)`))).toEqual(new Set(['Home care']))

    await page.getByRole('radio', { name: 'Eligible for new packages' }).check()
    await Promise.all([page.waitForURL(/eligible=true/), page.getByRole('button', { name: 'Apply filters' }).click()])
    expect(await page.getByRole('checkbox', { name: 'North', exact: true }).isChecked()).toBe(true)
    expect(await total()).toBeLessThanOrEqual(northHomeCare)
    expect(new Set(await cellTexts(watched, `${rows} td:nth-child(6)`))).toEqual(new Set(['Eligible']))
    await expectHealthyPage(watched, `dashboard with combined filters as ${role}`)

    await page.getByRole('link', { name: 'Clear filters' }).click()
    await page.waitForURL((url) => url.search === '')
    expect(await total()).toBe(everyService)
    const provider = (await cellTexts(watched, `${rows} td:nth-child(3)`))[0] ?? ''
    const word = provider.split(/\s+/).find((part) => part.length > 3) ?? provider
    await page.getByLabel('Provider or service name').fill(word)
    await Promise.all([page.waitForURL(/q=/), page.getByRole('button', { name: 'Apply filters' }).click()])
    expect(await total()).toBeGreaterThan(0)
    const names = await cellTexts(watched, `${rows} td:nth-child(2) a`)
    const providers = await cellTexts(watched, `${rows} td:nth-child(3)`)
    for (const [i, name] of names.entries()) {
      expect(`${name} ${providers[i] ?? ''}`.toLowerCase()).toContain(word.toLowerCase())
    }
  })

  it('sorts by RAG, one way and the other', async () => {
    const { page } = watched
    await visit(page, '/?sort=name')
    const ragHeader = page.locator('[data-testid="services-table"] thead th', { hasText: 'RAG' })
    const ranks = async () =>
      (await cellTexts(watched, '[data-testid="services-table"] tbody tr td:first-child .govuk-tag')).map((tag) =>
        ['Green', 'Amber', 'Red'].indexOf(tag),
      )
    await Promise.all([page.waitForURL(/sort=rag/), ragHeader.getByRole('link').click()])
    const first = await ranks()
    const firstDirection = await ragHeader.getAttribute('aria-sort')
    const sortedOnce = page.url()
    await Promise.all([page.waitForURL((url) => url.href !== sortedOnce), ragHeader.getByRole('link').click()])
    const second = await ranks()
    const secondDirection = await ragHeader.getAttribute('aria-sort')
    expect([firstDirection, secondDirection].sort()).toEqual(['ascending', 'descending'])
    // One order puts Red first, the other Green first (the demo has all three colours), each without going back.
    const [worstFirst, bestFirst] = first[0] === 2 ? [first, second] : [second, first]
    expect(worstFirst[0]).toBe(2)
    expect(bestFirst[0]).toBe(0)
    expect(worstFirst).toEqual([...worstFirst].sort((a, b) => b - a))
    expect(bestFirst).toEqual([...bestFirst].sort((a, b) => a - b))
  })

  it('pages through all services', async () => {
    const { page } = watched
    await visit(page, '/?sort=name')
    const total = Number(/of (\d+) services/.exec((await page.locator('#services-summary').textContent()) ?? '')?.[1])
    // The demo borough has more than two pages of 50 services.
    expect(total).toBeGreaterThan(100)
    const pages = Math.ceil(total / 50)
    const firstPage = await cellTexts(watched, '[data-testid="services-table"] tbody tr td:nth-child(2) a')
    expect(await page.locator('.app-pagination-status').textContent()).toBe(`Page 1 of ${pages}`)

    await Promise.all([page.waitForURL(/page=2/), page.getByRole('link', { name: 'Next page' }).click()])
    expect(await page.locator('.app-pagination-status').textContent()).toBe(`Page 2 of ${pages}`)
    expect(await page.locator('#services-summary').textContent()).toContain(`Showing 51 to 100 of ${total} services`)
    const secondPage = await cellTexts(watched, '[data-testid="services-table"] tbody tr td:nth-child(2) a')
    expect(secondPage).toHaveLength(50)
    expect(compareLowerCase(firstPage.at(-1) ?? '', secondPage[0] ?? '')).toBeLessThanOrEqual(0)
    expect(secondPage.filter((name) => firstPage.includes(name))).toEqual([])
    await expectHealthyPage(watched, `dashboard page 2 as ${role}`)

    await Promise.all([page.waitForURL(/page=1/), page.getByRole('link', { name: 'Previous page' }).click()])
    expect(await cellTexts(watched, '[data-testid="services-table"] tbody tr td:nth-child(2) a')).toEqual(firstPage)
  })

  it('opens a service page whose RAG chart draws and whose table matches the chart data', async () => {
    const { page } = watched
    await visit(page, '/?rag=red')
    const link = page.locator('[data-testid="services-table"] tbody tr td:nth-child(2) a').first()
    const name = (await link.textContent())?.trim() ?? ''
    await Promise.all([page.waitForURL(/\/services\//), link.click()])
    expect(await page.locator('h1').textContent()).toBe(name)
    expect(await page.locator('[data-testid="overall-rag"] .govuk-tag').first().textContent()).toBe('Red')

    await page.locator('#rag-history[data-chart-drawn="true"]').waitFor()
    const painted = () =>
      page.evaluate(() => {
        const { document } = globalThis as unknown as PageGlobals
        const canvas = document.querySelector('#rag-history') as PageCanvas | null
        const pixels = canvas?.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data
        if (!canvas || !pixels) return { opaque: 0, colours: 0, redPoint: false }
        let opaque = 0
        let redPoint = false
        const colours = new Set<string>()
        for (let i = 0; i < pixels.length; i += 4) {
          if ((pixels[i + 3] ?? 0) === 0) continue
          opaque++
          colours.add(`${pixels[i]},${pixels[i + 1]},${pixels[i + 2]}`)
          // The chart's Red point fill (#ca3535), as rag-chart.js draws it.
          if (pixels[i] === 202 && pixels[i + 1] === 53 && pixels[i + 2] === 53) redPoint = true
        }
        return { opaque, colours: colours.size, redPoint }
      })
    // Drawing may finish a frame after the attribute is set: wait for the final pixels.
    await expect.poll(async () => (await painted()).redPoint).toBe(true)
    const pixels = await painted()
    expect(pixels.opaque).toBeGreaterThan(500)
    expect(pixels.colours).toBeGreaterThan(3)

    const chartData = JSON.parse((await page.locator('#rag-history-data').textContent()) ?? 'null') as {
      points: Array<{ at: string; rag: string; label: string }>
    }
    const tableRows = await page.locator('[data-testid="history-table"] tbody tr').evaluateAll((rows) =>
      rows.map((row) => {
        const cells = (
          row as unknown as { querySelectorAll(s: string): ArrayLike<{ textContent: string | null }> }
        ).querySelectorAll('td')
        return {
          label: cells[0]?.textContent?.trim() ?? '',
          rag: cells[1]?.textContent?.replace('(override)', '').trim() ?? '',
        }
      }),
    )
    expect(tableRows.length).toBeGreaterThan(1)
    // The chart may add today's point after the last stored one; the table lists the stored history, newest first.
    const stored = chartData.points.slice(0, tableRows.length)
    expect(chartData.points.length - tableRows.length).toBeLessThanOrEqual(1)
    expect([...tableRows].reverse()).toEqual(
      stored.map((point) => ({ label: point.label, rag: capitalise(point.rag) })),
    )
    expect(await page.locator('#rag-history').getAttribute('aria-label')).toContain(`${chartData.points.length} points`)

    const notesColumn = page.locator('[data-testid="observations-table"] thead th', { hasText: 'Reference and notes' })
    expect(await notesColumn.count()).toBe(role === 'assessor' ? 0 : 1)
    await expectHealthyPage(watched, `service page as ${role}`, role === 'admin' ? undefined : `service-${role}`)
  })

  it('the service navigation marks exactly one item as the current page', async () => {
    const { page } = watched
    const current = () => page.locator('.govuk-service-navigation [aria-current="page"]').allTextContents()
    await visit(page, '/')
    expect((await current()).map((text) => text.trim())).toEqual(['Dashboard'])
    await visit(page, '/?rag=red')
    const serviceHref = await page.locator('[data-testid="services-table"] tbody a').first().getAttribute('href')
    await visit(page, serviceHref ?? '/')
    // A service page belongs to the dashboard's section.
    expect((await current()).map((text) => text.trim())).toEqual(['Dashboard'])
  })

  it('signs out, and the dashboard then asks for sign-in again', async () => {
    const { page } = watched
    await visit(page, '/')
    await signOut(page)
    expect(await page.locator('.govuk-notification-banner').textContent()).toContain('You have signed out')
    await expectHealthyPage(watched, `signed out (${role})`, role === 'compliance' ? 'signed-out' : undefined)
    await visit(page, '/')
    expect(new URL(page.url()).pathname).toBe('/sign-in')
  })
})

function compareLowerCase(a: string, b: string): number {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  return x < y ? -1 : x > y ? 1 : 0
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1)
}
