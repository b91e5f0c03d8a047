// The feature journeys in a real browser: intelligence entry, override, DPS referral and award, market summary,
// CSV export. Each runs as every role that may use it, with a refusal for one that may not. Every page these
// journeys visit must answer the status the journey expects: a missing page (404) fails the journey, never skips it.
import { readFileSync } from 'node:fs'
import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { Role } from '../../src/auth/roles.js'
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
import { expectHealthyPage } from './helpers/checks.js'

let env: E2eEnvironment
// A browser journey is many page loads: on two busy cores one can take well over the unit tests' 20 s.
vi.setConfig({ testTimeout: E2E_TEST_TIMEOUT_MS })
const signedIn = new Map<Role, WatchedPage>()

beforeAll(async () => {
  env = await startE2e()
  for (const role of ROLES) {
    const watched = await openPage(env)
    await signIn(watched.page, role)
    signedIn.set(role, watched)
  }
})

afterAll(async () => {
  for (const watched of signedIn.values()) await watched.close()
  await env?.stop()
})

function as(role: Role): WatchedPage {
  const watched = signedIn.get(role)
  if (!watched) throw new Error(`Not signed in as ${role}`)
  return watched
}

/** Visits the path and fails unless it answers `expected` (200 by default), naming the page it got instead. */
async function visitExpecting(watched: WatchedPage, path: string, expected = 200): Promise<void> {
  const status = await visit(watched.page, path)
  if (status !== expected) {
    const heading =
      (await watched.page
        .locator('h1')
        .first()
        .textContent({ timeout: 1_000 })
        .catch(() => null)) ?? ''
    expect.fail(`${path} answered ${status} ("${heading.trim()}"), expected ${expected}`)
  }
}

const londonDate = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' })
function daysFromToday(days: number): { day: string; month: string; year: string; iso: string } {
  const iso = londonDate.format(new Date(Date.now() + days * 86_400_000))
  const [year = '', month = '', day = ''] = iso.split('-')
  return { day: String(Number(day)), month: String(Number(month)), year, iso }
}

/** References of services with the given RAG, from the dashboard (sorted by name, so stable). */
async function serviceRefs(watched: WatchedPage, rag: 'red' | 'amber' | 'green'): Promise<string[]> {
  await visit(watched.page, `/?rag=${rag}&sort=name`)
  const hrefs = await watched.page
    .locator('[data-testid="services-table"] tbody tr td:nth-child(2) a')
    .evaluateAll((links) => links.map((link) => link.getAttribute('href') ?? ''))
  return hrefs.map((href) => decodeURIComponent(href.replace('/services/', '')))
}

async function errorSummaryText(watched: WatchedPage): Promise<string> {
  return (await watched.page.locator('.govuk-error-summary').textContent()) ?? ''
}

const ENTRY_ROLES: Role[] = ['compliance', 'admin']

/** The path of the demo DPS (the first framework listed on /dps). */
async function demoDpsPath(watched: WatchedPage): Promise<string> {
  await visitExpecting(watched, '/dps')
  const href = await watched.page.locator('[data-testid="frameworks-table"] tbody a').first().getAttribute('href')
  expect(href, 'a DPS framework listed on /dps').toMatch(/^\/dps\/\d+$/)
  return href ?? ''
}

describe('intelligence entry', () => {
  it.for(ENTRY_ROLES)(
    'as %s: a safeguarding decision, first with an error, turns a Green service Amber',
    async (role) => {
      const watched = as(role)
      const { page } = watched
      const ref = (await serviceRefs(watched, 'green'))[ENTRY_ROLES.indexOf(role)]
      expect(ref).toBeDefined()
      await visitExpecting(watched, `/services/${ref}/intelligence/new`)
      await expectHealthyPage(watched, `intelligence start as ${role}`)
      await page.getByRole('radio', { name: 'Safeguarding decision' }).check()
      await page.getByRole('button', { name: 'Continue' }).click()
      await page.waitForURL(/kind=safeguarding_decision/)
      await expectHealthyPage(
        watched,
        `intelligence form as ${role}`,
        role === 'compliance' ? 'intelligence-form' : undefined,
      )

      await page.getByRole('button', { name: 'Save' }).click()
      await page.locator('.govuk-error-summary').waitFor()
      expect(await page.title()).toMatch(/^Error: /)
      expect(await errorSummaryText(watched)).toMatch(/date/i)
      await expectHealthyPage(
        watched,
        `intelligence form with errors as ${role}`,
        role === 'compliance' ? 'intelligence-form-error' : undefined,
      )

      const decided = daysFromToday(-2)
      await page.getByLabel('Day').fill(decided.day)
      await page.getByLabel('Month').fill(decided.month)
      await page.getByLabel('Year').fill(decided.year)
      await page.getByLabel('Reference (optional)').fill(`SG-E2E-${role}`)
      await page.getByRole('button', { name: 'Save' }).click()
      await page.waitForURL(/saved=/)
      const banner = page.locator('[data-testid="saved-rag"]')
      expect(await banner.textContent()).toContain('is now')
      expect(await banner.locator('.govuk-tag').textContent()).toBe('Amber')
      await expectHealthyPage(
        watched,
        `intelligence saved as ${role}`,
        role === 'compliance' ? 'intelligence-saved' : undefined,
      )
    },
  )

  it('as assessor: no entry link on the service page, and the form is refused', async () => {
    const watched = as('assessor')
    const ref = (await serviceRefs(watched, 'green'))[0]
    await visit(watched.page, `/services/${ref}`)
    expect(await watched.page.getByRole('link', { name: 'Record intelligence' }).count()).toBe(0)
    await visitExpecting(watched, `/services/${ref}/intelligence/new`, 403)
    await expectHealthyPage(watched, 'intelligence refused to assessor', 'refused-assessor')
  })
})

describe('override', () => {
  it.for(ENTRY_ROLES)('as %s: an override, first with errors, shows on the service page', async (role) => {
    const watched = as(role)
    const { page } = watched
    const ref = (await serviceRefs(watched, 'red'))[ENTRY_ROLES.indexOf(role) + 2]
    await visitExpecting(watched, `/services/${ref}/override`)
    await expectHealthyPage(watched, `override form as ${role}`, role === 'compliance' ? 'override-form' : undefined)

    await page.getByRole('button', { name: 'Set the override' }).click()
    await page.locator('.govuk-error-summary').waitFor()
    expect(await errorSummaryText(watched)).toMatch(/reason/i)
    await expectHealthyPage(watched, `override form with errors as ${role}`)

    const expiry = daysFromToday(30)
    await page.getByRole('radio', { name: 'Amber' }).check()
    await page.getByLabel('Reason').fill('Embargo lifted at the review meeting; the data has not caught up yet.')
    await page.getByLabel('Day').fill(expiry.day)
    await page.getByLabel('Month').fill(expiry.month)
    await page.getByLabel('Year').fill(expiry.year)
    await page.getByRole('button', { name: 'Set the override' }).click()
    await page.waitForURL((url) => url.pathname === `/services/${ref}`)
    expect(await page.locator('[data-testid="overall-rag"] .govuk-tag').first().textContent()).toBe('Amber')
    expect(await page.locator('[data-testid="overall-rag"]').textContent()).toContain('manual override')
    await expectHealthyPage(watched, `service with an override as ${role}`)
  })

  it('as assessor: the override form is refused', async () => {
    const watched = as('assessor')
    const ref = (await serviceRefs(watched, 'red'))[0]
    await visitExpecting(watched, `/services/${ref}/override`, 403)
  })
})

describe('DPS', () => {
  it.for(ROLES)('as %s: a referral, first with errors, lists services in allocation order', async (role) => {
    const watched = as(role)
    const { page } = watched
    await visitExpecting(watched, '/dps')
    await expectHealthyPage(watched, `DPS list as ${role}`, role === 'compliance' ? 'dps' : undefined)
    await page.locator('[data-testid="frameworks-table"] tbody a').first().click()
    await page.waitForURL(/\/dps\/\d+$/)
    await expectHealthyPage(watched, `DPS framework as ${role}`, role === 'compliance' ? 'dps-framework' : undefined)

    // A GOV.UK start-style button: a link with role="button".
    await page.getByRole('button', { name: 'Find a service for a person' }).click()
    await page.waitForURL(/\/referral/)
    await page.getByRole('button', { name: 'Find services' }).click()
    await page.locator('.govuk-error-summary').waitFor()
    await expectHealthyPage(watched, `DPS referral with errors as ${role}`)

    const area = page.getByLabel('Area the person lives in')
    const firstArea = await area.locator('option').nth(1).getAttribute('value')
    await area.selectOption(firstArea ?? '')
    await page.getByLabel('Type of service').selectOption({ label: 'Home care' })
    await page.getByRole('button', { name: 'Find services' }).click()
    await page.locator('[data-testid="referral-eligible"]').waitFor()
    const eligible = page.locator('[data-testid="referral-eligible"] tbody tr[data-referral]')
    expect(await eligible.count()).toBeGreaterThan(0)
    const order = (await eligible.locator('td:first-child').allTextContents()).map(Number)
    expect(order).toEqual(order.map((_n, i) => i + 1))
    const awardLinks = await page.getByRole('link', { name: /^Award a package/ }).count()
    expect(awardLinks > 0).toBe(role !== 'assessor')
    await expectHealthyPage(watched, `DPS referral as ${role}`, role === 'admin' ? undefined : `dps-referral-${role}`)
  })

  it.for(ENTRY_ROLES)('as %s: an award to an ineligible service is refused with the reason', async (role) => {
    const watched = as(role)
    const { page } = watched
    const dps = await demoDpsPath(watched)
    await visitExpecting(watched, `${dps}/referral`)
    const area = page.getByLabel('Area the person lives in')
    const areas = await area
      .locator('option')
      .evaluateAll((options) => options.map((option) => option.getAttribute('value') ?? '').filter(Boolean))
    // Some area has an ineligible Home care member in the demo DPS.
    let refused: { ref: string; lot: string } | null = null
    for (const value of areas) {
      await visit(page, `${dps}/referral?area=${encodeURIComponent(value)}&type=home_care`)
      const row = page.locator('[data-testid="referral-ineligible"] tbody tr[data-referral]').first()
      if ((await row.count()) === 0) continue
      const lot = (await row.locator('td:nth-child(2)').innerText()).split('\n')[0]?.trim() ?? ''
      refused = { ref: (await row.getAttribute('data-referral')) ?? '', lot }
      break
    }
    expect(refused, 'an ineligible Home care service in the demo DPS').not.toBeNull()
    if (!refused) return

    await visit(page, `${dps}/awards/new`)
    await page.getByLabel('Service reference').fill(refused.ref)
    await page.getByLabel('Lot').selectOption({ label: refused.lot })
    await page.getByLabel('Hours a week').fill('10')
    const start = daysFromToday(7)
    await page
      .getByLabel('Start date')
      .fill(`${start.day.padStart(2, '0')}/${start.month.padStart(2, '0')}/${start.year}`)
    await page.getByLabel('Package reference').fill(`PKG-E2E-${role}`)
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`${dps}/awards`) && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Record the award' }).click(),
    ])
    expect(response.status()).toBe(409)
    await page.locator('.govuk-error-summary').waitFor()
    expect(await errorSummaryText(watched)).toContain('cannot receive new packages')
    await expectHealthyPage(
      watched,
      `refused award as ${role}`,
      role === 'compliance' ? 'dps-award-refused' : undefined,
    )
  })

  it('as assessor: the award form is refused', async () => {
    const dps = await demoDpsPath(as('assessor'))
    await visitExpecting(as('assessor'), `${dps}/awards/new`, 403)
  })
})

describe('market summary', () => {
  it.for(ROLES)('as %s: the summary draws its charts beside their tables', async (role) => {
    const watched = as(role)
    const { page } = watched
    await visitExpecting(watched, '/market')
    expect(await page.locator('h1').textContent()).toBe('Market summary')
    const charts = await page.locator('canvas[data-chart]').count()
    expect(charts).toBeGreaterThan(0)
    await expect.poll(() => page.locator('canvas[data-chart-drawn="true"]').count()).toBe(charts)
    expect(await page.locator('[data-testid^="mix-"]').count()).toBeGreaterThan(0)
    await expectHealthyPage(watched, `market summary as ${role}`, role === 'compliance' ? 'market' : undefined)
  })

  it('refuses anyone not signed in', async () => {
    const anonymous = await openPage(env)
    try {
      await visit(anonymous.page, '/market')
      expect(new URL(anonymous.page.url()).pathname).toBe('/sign-in')
    } finally {
      await anonymous.close()
    }
  })
})

describe('CSV export', () => {
  it.for(ROLES)('as %s: the download has the rows of the filtered dashboard', async (role) => {
    const watched = as(role)
    const { page } = watched
    const probe = await page.request.get('/services.csv?rag=red', { maxRedirects: 0 })
    expect(probe.status()).toBe(200)
    expect(probe.headers()['content-type']).toMatch(/^text\/csv/)
    await visit(page, '/?rag=red')
    const redCount = Number(await page.locator('.app-rag-count--red .app-rag-count__number').textContent())
    const shown = await page.locator('[data-testid="services-table"] tbody tr td:nth-child(2) a').allTextContents()
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download this view as CSV' }).click(),
    ])
    expect(download.suggestedFilename()).toMatch(/\.csv$/)
    const file = await download.path()
    const rows = parse(readFileSync(file, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>
    expect(rows).toHaveLength(redCount)
    expect(new Set(rows.map((row) => row.RAG))).toEqual(new Set(['Red']))
    expect(rows.slice(0, shown.length).map((row) => row.Service)).toEqual(shown.map((name) => name.trim()))
  })

  it('refuses anyone not signed in', async () => {
    const anonymous = await openPage(env)
    try {
      const response = await anonymous.page.request.get('/services.csv', { maxRedirects: 0 })
      expect(response.status()).toBe(302)
      expect(response.headers().location).toMatch(/^\/sign-in\?returnTo=/)
    } finally {
      await anonymous.close()
    }
  })
})

// The other pages (morning, providers, assessments, import, admin...) are visited as every role, with axe, by
// allPages.test.ts, which also checks the refusals.
