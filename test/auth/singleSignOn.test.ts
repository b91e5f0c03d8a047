import type { Express } from 'express'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Role } from '../../src/auth/roles.js'
import { AuditLog } from '../../src/data/audit.js'
import { UsersRepository } from '../../src/data/users.js'
import type { Services } from '../../src/services/container.js'
import { appWithAllRoutes, createTestServices, signIn as signInWithPassword } from '../helpers/appHarness.js'
import {
  startOidcProvider,
  TEST_ACCOUNTS,
  TEST_CLIENT_ID,
  TEST_CLIENT_SECRET,
  type TestOidcProvider,
} from '../helpers/oidcProvider.js'
import { concretePath, ROUTE_TABLE } from '../helpers/routeTable.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'
import {
  authenticateAtProvider,
  pathAndSearch,
  signInThroughProvider,
  startSingleSignOn,
  type Browser,
} from '../helpers/singleSignOnDriver.js'

/** Issue 18: single sign-on against a real OpenID Connect provider on 127.0.0.1 (test/helpers/oidcProvider.ts). */

const PUBLIC_URL = 'http://dashboard.test'
const REDIRECT = { redirectUri: `${PUBLIC_URL}/auth/callback`, postLogoutRedirectUri: `${PUBLIC_URL}/auth/signed-out` }
const GROUP_ID = '8c7e2f1a-0000-4000-8000-00000000c0de'

function ssoEnv(issuer: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    OIDC_ISSUER: issuer,
    OIDC_CLIENT_ID: TEST_CLIENT_ID,
    OIDC_CLIENT_SECRET: TEST_CLIENT_SECRET,
    PUBLIC_URL,
    ...extra,
  }
}

let provider: TestOidcProvider
let services: Services
let app: Express

beforeAll(async () => {
  provider = await startOidcProvider(REDIRECT)
  services = createTestServices({ env: ssoEnv(provider.issuer) })
  await seedSmallBorough(services)
  app = appWithAllRoutes(services)
})

afterAll(async () => {
  await provider?.stop()
})

function heading(html: string): string {
  return /<h1[^>]*>([^<]*)<\/h1>/.exec(html)?.[1]?.trim() ?? ''
}

/** Nobody is signed in on this browser: the dashboard sends it to sign in. */
async function expectSignedOut(browser: Browser): Promise<void> {
  const home = await browser.get('/').redirects(0)
  expect(home.status).toBe(302)
  expect(home.headers.location).toMatch(/^\/sign-in/)
}

async function expectLocalSignInWorks(): Promise<void> {
  const { agent } = await signInWithPassword(app, services, 'compliance')
  expect((await agent.get('/').redirects(0)).status).toBe(200)
}

function sessionCookieOf(browser: Browser): string | undefined {
  const jar = (
    browser as unknown as { jar: { getCookie(name: string, access: unknown): { value: string } | undefined } }
  ).jar
  return jar.getCookie('prd.sid', { domain: '127.0.0.1', path: '/', secure: false, script: false })?.value
}

const GET_PAGES = ROUTE_TABLE.filter(
  (route) => route.method === 'GET' && route.access !== 'public' && !route.path.startsWith('/api/'),
)

describe('each role signs in with the council account and gets exactly its pages', () => {
  it.for(['admin', 'compliance', 'assessor'] as const)('%s', async (role: Role) => {
    const account = TEST_ACCOUNTS[role]
    const browser = request.agent(app)
    const form = await browser.get('/sign-in').expect(200)
    expect(form.text).toContain('Sign in with your council account')
    expect(form.text).toMatch(/href="\/auth\/login\?returnTo(=|&#x3D;)%2F"/)

    const { response } = await signInThroughProvider(browser, provider.issuer, account.id, '/market')
    expect(response.status).toBe(303)
    expect(response.headers.location).toBe('/market')

    for (const route of GET_PAGES) {
      const answer = await browser.get(concretePath(route)).redirects(0)
      const allowed = route.access !== 'public' && route.access.includes(role)
      expect(answer.status === 403, `${role} ${route.path}: ${answer.status}`).toBe(!allowed)
      expect(answer.headers.location ?? '', `${role} ${route.path}`).not.toMatch(/^\/sign-in/)
    }

    const user = await new UsersRepository(services.db).findByEmail(account.email)
    expect(user).toMatchObject({ role, name: account.name, oidcIssuer: provider.issuer, disabled: false })
    const audit = await new AuditLog(services.db).list({ entityType: 'user', entityId: user?.id, limit: 10 })
    expect(audit.map((entry) => entry.action)).toEqual(expect.arrayContaining(['user.created', 'user.signed_in']))
    expect(audit.find((entry) => entry.action === 'user.created')?.after).toMatchObject({
      email: account.email,
      role,
      issuer: provider.issuer,
      subject: account.id,
    })
  })
})

describe('acceptance', () => {
  it('an officer signs in from the sign-in page and lands on the dashboard as a compliance officer', async () => {
    const browser = request.agent(app)
    await browser.get('/sign-in').expect(200)
    const { response } = await signInThroughProvider(browser, provider.issuer, TEST_ACCOUNTS.compliance.id)
    expect(response.headers.location).toBe('/')
    const dashboard = await browser.get('/').expect(200)
    expect(dashboard.text).toContain(TEST_ACCOUNTS.compliance.email)
    expect((await browser.get('/intelligence').redirects(0)).status).toBe(200)
  })

  it('an assessor by the claim cannot open compliance pages', async () => {
    const browser = request.agent(app)
    await signInThroughProvider(browser, provider.issuer, TEST_ACCOUNTS.assessor.id)
    expect((await browser.get('/').redirects(0)).status).toBe(200)
    expect((await browser.get('/intelligence').redirects(0)).status).toBe(403)
    expect((await browser.get('/assessments').redirects(0)).status).toBe(403)
  })

  it('a person with no role is refused with a clear page and not signed in', async () => {
    const browser = request.agent(app)
    const { response } = await signInThroughProvider(browser, provider.issuer, TEST_ACCOUNTS.noRole.id)
    expect(response.status).toBe(403)
    expect(heading(response.text)).toBe('You do not have access to the Provider Risk Dashboard')
    expect(response.text).toContain('admin, compliance, assessor')
    await expectSignedOut(browser)
    expect(await new UsersRepository(services.db).findByEmail(TEST_ACCOUNTS.noRole.email)).toBeUndefined()
    const refused = await new AuditLog(services.db).list({ action: 'user.sign_in_failed', limit: 10 })
    expect(refused.map((entry) => entry.actor)).toContain(TEST_ACCOUNTS.noRole.email)
  })

  it('a replayed callback is refused, in the same browser and in another', async () => {
    const browser = request.agent(app)
    const { callbackUrl, response } = await signInThroughProvider(browser, provider.issuer, TEST_ACCOUNTS.admin.id)
    expect(response.status).toBe(303)
    const callbackPath = pathAndSearch(callbackUrl, PUBLIC_URL)

    const again = await browser.get(callbackPath).redirects(0)
    expect(again.status).toBe(400)
    expect(heading(again.text)).toBe('This sign-in link has already been used or has expired')

    const attacker = request.agent(app)
    const replay = await attacker.get(callbackPath).redirects(0)
    expect(replay.status).toBe(400)
    await expectSignedOut(attacker)

    // An attacker with a sign-in of their own under way: the state is not theirs, and the code is spent.
    await startSingleSignOn(attacker)
    const withPending = await attacker.get(callbackPath).redirects(0)
    expect(withPending.status).toBe(400)
    expect(heading(withPending.text)).toBe('Your sign-in could not be checked')
    await expectSignedOut(attacker)
  })
})

describe('the session and the user record', () => {
  it('rotates the session id at sign-in', async () => {
    const browser = request.agent(app)
    const authorizationUrl = await startSingleSignOn(browser)
    const before = sessionCookieOf(browser)
    expect(before).toBeDefined()
    const callbackUrl = await authenticateAtProvider(provider.issuer, authorizationUrl, TEST_ACCOUNTS.admin.id)
    await browser.get(pathAndSearch(callbackUrl, PUBLIC_URL)).expect(303)
    const after = sessionCookieOf(browser)
    expect(after).toBeDefined()
    expect(after).not.toBe(before)
  })

  it('reads the role again at every sign-in: a role changed or removed in the directory counts at the next one', async () => {
    const account = { id: 'rory', email: 'rory.reassigned@council.test', name: 'Rory', roles: ['compliance'] }
    provider.accounts.set(account.id, account)
    const first = request.agent(app)
    await signInThroughProvider(first, provider.issuer, account.id)
    expect((await first.get('/intelligence').redirects(0)).status).toBe(200)

    account.roles = ['assessor']
    const second = request.agent(app)
    await signInThroughProvider(second, provider.issuer, account.id)
    expect((await second.get('/intelligence').redirects(0)).status).toBe(403)
    const user = await new UsersRepository(services.db).findByEmail(account.email)
    expect(user?.role).toBe('assessor')
    const changes = await new AuditLog(services.db).list({
      action: 'user.updated_from_directory',
      entityId: user?.id,
      limit: 5,
    })
    expect(changes[0]).toMatchObject({ before: { role: 'compliance' }, after: { role: 'assessor' } })

    account.roles = []
    const third = request.agent(app)
    const { response } = await signInThroughProvider(third, provider.issuer, account.id)
    expect(response.status).toBe(403)
    await expectSignedOut(third)
  })

  it('links a password user with the same email at their first single sign-on, which then no password opens', async () => {
    const users = new UsersRepository(services.db)
    const account = { id: 'paula', email: 'paula.password@council.test', name: 'Paula', roles: ['compliance'] }
    provider.accounts.set(account.id, account)
    const existing = await users.create({ email: account.email, role: 'assessor', passwordHash: 'x' }, 'test')
    await signInThroughProvider(request.agent(app), provider.issuer, account.id)
    expect(await users.findById(existing.id)).toMatchObject({ role: 'compliance', oidcIssuer: provider.issuer })
  })

  it('refuses a disabled user', async () => {
    const users = new UsersRepository(services.db)
    const account = { id: 'dora', email: 'dora.disabled@council.test', name: 'Dora', roles: ['admin'] }
    provider.accounts.set(account.id, account)
    await signInThroughProvider(request.agent(app), provider.issuer, account.id)
    const user = await users.findByEmail(account.email)
    await users.setDisabled(user?.id ?? 0, true, 'test')
    const browser = request.agent(app)
    const { response } = await signInThroughProvider(browser, provider.issuer, account.id)
    expect(response.status).toBe(403)
    expect(heading(response.text)).toBe('Your dashboard account is disabled')
    await expectSignedOut(browser)
  })
})

describe('a callback or ID token that does not hold is a clear error page; nobody is signed in', () => {
  async function refusedCallback(
    tamper: (callback: URL) => void,
  ): Promise<{ status: number; heading: string; browser: Browser }> {
    const browser = request.agent(app)
    const authorizationUrl = await startSingleSignOn(browser)
    const callback = new URL(await authenticateAtProvider(provider.issuer, authorizationUrl, TEST_ACCOUNTS.admin.id))
    tamper(callback)
    const response = await browser.get(pathAndSearch(callback.href, PUBLIC_URL)).redirects(0)
    await expectSignedOut(browser)
    return { status: response.status, heading: heading(response.text), browser }
  }

  it('a tampered code', async () => {
    const refused = await refusedCallback((url) => url.searchParams.set('code', `${url.searchParams.get('code')}x`))
    expect(refused).toMatchObject({ status: 400, heading: 'This sign-in link has already been used or has expired' })
    await expectLocalSignInWorks()
  })

  it('a wrong state', async () => {
    const refused = await refusedCallback((url) => url.searchParams.set('state', 'not-the-state'))
    expect(refused).toMatchObject({ status: 400, heading: 'Your sign-in could not be checked' })
    await expectLocalSignInWorks()
  })

  it('an error from the provider', async () => {
    const refused = await refusedCallback((url) => {
      url.searchParams.delete('code')
      url.searchParams.set('error', 'access_denied')
      url.searchParams.set('error_description', 'The person cancelled')
    })
    expect(refused).toMatchObject({ status: 400, heading: 'The council sign-in service did not sign you in' })
  })

  const rewrites: Array<[string, (claims: Record<string, unknown>) => Record<string, unknown>]> = [
    ['an ID token for another audience', (claims) => ({ ...claims, aud: 'another-application' })],
    ['an ID token from another issuer', (claims) => ({ ...claims, iss: 'https://login.example.invalid/other/v2.0' })],
    [
      'an expired ID token',
      (claims) => ({ ...claims, iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }),
    ],
    ['an ID token for another sign-in (nonce)', (claims) => ({ ...claims, nonce: 'someone-elses-nonce' })],
  ]
  it.for(rewrites)('%s', async ([, rewrite]) => {
    provider.rewriteIdTokens(rewrite)
    try {
      const refused = await refusedCallback(() => undefined)
      expect(refused).toMatchObject({ status: 400, heading: 'Your sign-in could not be checked' })
    } finally {
      provider.rewriteIdTokens(undefined)
    }
    await expectLocalSignInWorks()
  })

  it('the same rewriting that keeps the claims intact signs in (so the refusals above are the claims’)', async () => {
    provider.rewriteIdTokens((claims) => claims)
    try {
      const { response } = await signInThroughProvider(request.agent(app), provider.issuer, TEST_ACCOUNTS.admin.id)
      expect(response.status).toBe(303)
    } finally {
      provider.rewriteIdTokens(undefined)
    }
  })
})

describe('the provider down at sign-in', () => {
  it('before the redirect, and between the redirect and the callback: a clear page; local sign-in still works', async () => {
    const downProvider = await startOidcProvider(REDIRECT)
    const downServices = createTestServices({ env: ssoEnv(downProvider.issuer) })
    const downApp = appWithAllRoutes(downServices)

    // Discovery done and the person at the provider; then it goes down before the code can be redeemed.
    const browser = request.agent(downApp)
    const authorizationUrl = await startSingleSignOn(browser)
    const callbackUrl = await authenticateAtProvider(downProvider.issuer, authorizationUrl, TEST_ACCOUNTS.admin.id)
    await downProvider.stop()
    const atCallback = await browser.get(pathAndSearch(callbackUrl, PUBLIC_URL)).redirects(0)
    expect(atCallback.status).toBe(503)
    expect(heading(atCallback.text)).toBe('The council sign-in service is not available')
    await expectSignedOut(browser)

    // A dashboard that has never reached it.
    const freshApp = appWithAllRoutes(createTestServices({ env: ssoEnv(downProvider.issuer) }))
    const atLogin = await request.agent(freshApp).get('/auth/login').redirects(0)
    expect(atLogin.status).toBe(503)
    expect(heading(atLogin.text)).toBe('The council sign-in service is not available')

    const { agent } = await signInWithPassword(downApp, downServices, 'assessor')
    expect((await agent.get('/').redirects(0)).status).toBe(200)
  })
})

describe('signing out', () => {
  it('ends the provider session too, through its end_session_endpoint, and comes back to the sign-in page', async () => {
    const browser = request.agent(app)
    await signInThroughProvider(browser, provider.issuer, TEST_ACCOUNTS.compliance.id)
    const page = await browser.get('/').expect(200)
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? ''
    const signOut = await browser.post('/sign-out').type('form').send({ _csrf: csrf }).redirects(0)
    expect(signOut.status).toBe(303)
    const endSession = new URL(signOut.headers.location as string)
    expect(endSession.origin).toBe(provider.issuer)
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${PUBLIC_URL}/auth/signed-out`)
    expect(endSession.searchParams.get('id_token_hint')).toMatch(/^ey/)
    await expectSignedOut(browser)

    const providerPage = await request(provider.issuer).get(pathAndSearch(endSession.href, provider.issuer))
    expect(providerPage.status).toBe(200)
    expect(providerPage.text).toContain('/session/end/confirm')
    expect((await browser.get('/auth/signed-out').redirects(0)).headers.location).toBe('/sign-in?signedOut=1')
  })

  it('a password user signs out as before', async () => {
    const { agent, csrf } = await signInWithPassword(app, services, 'admin')
    const signOut = await agent
      .post('/sign-out')
      .type('form')
      .send({ _csrf: await csrf() })
      .redirects(0)
    expect(signOut.headers.location).toBe('/sign-in?signedOut=1')
  })
})

describe('settings', () => {
  it('maps other claim values (group ids) to roles', async () => {
    const groupServices = createTestServices({
      env: ssoEnv(provider.issuer, { OIDC_ROLES_CLAIM: 'groups', OIDC_ROLE_MAP: `${GROUP_ID}=compliance` }),
    })
    const groupApp = appWithAllRoutes(groupServices)
    const browser = request.agent(groupApp)
    const { response } = await signInThroughProvider(browser, provider.issuer, TEST_ACCOUNTS.grouped.id)
    expect(response.status).toBe(303)
    expect((await browser.get('/intelligence').redirects(0)).status).toBe(200)
    // `roles` is not the claim read here: the admin has no group, so no role.
    const admin = await signInThroughProvider(request.agent(groupApp), provider.issuer, TEST_ACCOUNTS.admin.id)
    expect(admin.response.status).toBe(403)
  })

  it('LOCAL_SIGN_IN=false: the sign-in page offers only the council account and passwords are refused', async () => {
    const ssoOnly = createTestServices({ env: ssoEnv(provider.issuer, { LOCAL_SIGN_IN: 'false' }) })
    const ssoOnlyApp = appWithAllRoutes(ssoOnly)
    const browser = request.agent(ssoOnlyApp)
    const form = await browser.get('/sign-in').expect(200)
    expect(form.text).toContain('Sign in with your council account')
    expect(form.text).not.toContain('name="password"')
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)?.[1]
    expect(csrf).toBeUndefined()
    await expect(signInWithPassword(ssoOnlyApp, ssoOnly, 'admin')).rejects.toThrow()
  })

  it('without OIDC_ISSUER there is no council button and /auth/login is not found', async () => {
    const plainApp = appWithAllRoutes(createTestServices())
    const form = await request(plainApp).get('/sign-in').expect(200)
    expect(form.text).not.toContain('council account')
    await request(plainApp).get('/auth/login').expect(404)
  })
})
