// Issue 18: the whole single sign-on journey in headless Chromium, against the real server and a real OpenID Connect
// provider on 127.0.0.1 (test/helpers/oidcProvider.ts).
import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  startOidcProvider,
  TEST_ACCOUNTS,
  TEST_CLIENT_ID,
  TEST_CLIENT_SECRET,
  type TestOidcProvider,
} from '../helpers/oidcProvider.js'
import { E2E_TEST_TIMEOUT_MS, openPage, startE2e, type E2eEnvironment } from './helpers/browser.js'

let env: E2eEnvironment | undefined
let provider: TestOidcProvider | undefined
vi.setConfig({ testTimeout: E2E_TEST_TIMEOUT_MS })

/** A port free now, so the provider can know the dashboard's redirect URI before the dashboard starts. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

beforeAll(async () => {
  const publicUrl = `http://127.0.0.1:${await freePort()}`
  provider = await startOidcProvider({
    redirectUri: `${publicUrl}/auth/callback`,
    postLogoutRedirectUri: `${publicUrl}/auth/signed-out`,
  })
  env = await startE2e({
    PORT: new URL(publicUrl).port,
    PUBLIC_URL: publicUrl,
    OIDC_ISSUER: provider.issuer,
    OIDC_CLIENT_ID: TEST_CLIENT_ID,
    OIDC_CLIENT_SECRET: TEST_CLIENT_SECRET,
  })
})

afterAll(async () => {
  await env?.stop()
  await provider?.stop()
})

async function signInAtProvider(username: string) {
  if (env === undefined) throw new Error('No environment')
  const watched = await openPage(env)
  const { page } = watched
  await page.goto('/?rag=red')
  expect(new URL(page.url()).pathname).toBe('/sign-in')
  await Promise.all([
    page.waitForURL((url) => url.pathname.startsWith('/interaction/')),
    page.getByRole('button', { name: 'Sign in with your council account' }).click(),
  ])
  await page.getByLabel('Username').fill(username)
  await page.getByRole('button', { name: 'Continue' }).click()
  await page.waitForURL((url) => url.origin === env?.server.baseUrl)
  return watched
}

describe('single sign-on in a browser', () => {
  it('a compliance officer signs in from the sign-in page, lands on the dashboard, and signs out of both', async () => {
    const watched = await signInAtProvider(TEST_ACCOUNTS.compliance.id)
    const { page } = watched
    try {
      expect(new URL(page.url()).pathname).toBe('/')
      expect(new URL(page.url()).search).toBe('?rag=red')
      expect(await page.locator('body').textContent()).toContain(TEST_ACCOUNTS.compliance.email)
      expect((await page.goto('/intelligence'))?.status()).toBe(200)

      await page.getByRole('button', { name: 'Sign out' }).click()
      await page.getByRole('button', { name: 'Yes, sign me out' }).click()
      await page.waitForURL((url) => url.pathname === '/sign-in' && url.search === '?signedOut=1')
      expect(await page.locator('body').textContent()).toContain('You have signed out')
      await page.goto('/')
      expect(new URL(page.url()).pathname).toBe('/sign-in')
      expect(watched.cspViolations).toEqual([])
      expect(watched.scriptErrors).toEqual([])
    } finally {
      await watched.close()
    }
  })

  it('an assessor cannot open compliance pages; a person with no role is refused', async () => {
    const assessor = await signInAtProvider(TEST_ACCOUNTS.assessor.id)
    try {
      expect((await assessor.page.goto('/intelligence'))?.status()).toBe(403)
    } finally {
      await assessor.close()
    }
    const nobody = await signInAtProvider(TEST_ACCOUNTS.noRole.id)
    try {
      expect(await nobody.page.locator('h1').textContent()).toContain('You do not have access')
      await nobody.page.goto('/')
      expect(new URL(nobody.page.url()).pathname).toBe('/sign-in')
    } finally {
      await nobody.close()
    }
  })
})
