import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AuditLog } from '../../src/data/audit.js'
import { addUser, createTestApp, csrfTokenIn, sessionCookie, signIn, type TestApp } from '../auth/testApp.js'

const PASSWORD = 'correct horse battery staple'
const WRONG = 'Enter a correct email address and password'

describe('sign-in', () => {
  let t: TestApp

  beforeEach(async () => {
    t = createTestApp()
    await addUser(t.users, 'officer@example.org', 'compliance', PASSWORD)
  })
  afterEach(() => t.db.close())

  it('shows the sign-in form with a CSRF token and the page to return to', async () => {
    const res = await request(t.app).get('/sign-in?returnTo=%2Fservices%3Frag%3Dred').expect(200)
    expect(res.text).toContain('<h1 class="govuk-heading-l">Sign in</h1>')
    expect(res.text).toMatch(/name="_csrf" value="[0-9a-f]{64,}"/)
    expect(res.text).toContain('name="returnTo" value="/services?rag&#x3D;red"')
    expect(res.text).not.toContain('govuk-error-summary')
  })

  it('signs in and goes to the page first asked for', async () => {
    const agent = request.agent(t.app)
    const start = await agent.get('/intelligence?tab=open').expect(302)
    expect(start.headers.location).toBe('/sign-in?returnTo=%2Fintelligence%3Ftab%3Dopen')

    const res = await signIn(agent, 'Officer@Example.org', PASSWORD, '/intelligence?tab=open')
    expect(res.status).toBe(303)
    expect(res.headers.location).toBe('/intelligence?tab=open')
    await agent.get('/intelligence?tab=open').expect(200)
    expect((await agent.get('/').expect(200)).text).toContain('Home for officer@example.org')
    expect((await agent.get('/sign-in?returnTo=/x')).headers.location).toBe('/x')

    const user = await t.users.findByEmail('officer@example.org')
    expect(user?.lastSignInAt).not.toBeNull()
    expect(await new AuditLog(t.db).count({ action: 'user.signed_in', actor: 'officer@example.org' })).toBe(1)
  })

  it('never redirects off the site after sign-in', async () => {
    for (const returnTo of [
      'https://evil.example/',
      '//evil.example/x',
      '/\\evil.example',
      'javascript:alert(1)',
      '/sign-in',
    ]) {
      const res = await signIn(request.agent(t.app), 'officer@example.org', PASSWORD, returnTo)
      expect(res.status).toBe(303)
      expect(res.headers.location).toBe('/')
    }
  })

  it('refuses a wrong password and an unknown user with the same message, and stays signed out', async () => {
    const agent = request.agent(t.app)
    const wrongPassword = await signIn(agent, 'officer@example.org', 'not the password at all')
    const unknownUser = await signIn(agent, 'nobody@example.org', PASSWORD)
    for (const res of [wrongPassword, unknownUser]) {
      expect(res.status).toBe(401)
      expect(res.text).toContain('govuk-error-summary')
      expect(res.text).toContain(WRONG)
      expect(res.text).toContain('<title>Error: Sign in - test</title>')
      expect(res.text).not.toContain('not the password at all')
    }
    const withoutTokens = (html: string): string =>
      html
        .replace(/value="[0-9a-f]{64,}"/, '')
        .replace(/nonce="[^"]+"/, '')
        .replace('nobody@example.org', 'officer@example.org')
    expect(withoutTokens(unknownUser.text)).toBe(withoutTokens(wrongPassword.text))
    await agent.get('/').expect(302)
  })

  it('refuses a disabled user with the same message', async () => {
    const user = await t.users.findByEmail('officer@example.org')
    await t.users.setDisabled(user!.id, true, 'admin@example.org')
    const res = await signIn(request.agent(t.app), 'officer@example.org', PASSWORD)
    expect(res.status).toBe(401)
    expect(res.text).toContain(WRONG)
  })

  it('explains missing and malformed fields with the GOV.UK error pattern', async () => {
    const agent = request.agent(t.app)
    const form = await agent.get('/sign-in')
    const res = await agent
      .post('/sign-in')
      .type('form')
      .send({ email: 'not-an-email', password: '', _csrf: csrfTokenIn(form.text) })
      .expect(400)
    expect(res.text).toContain(
      '<a href="#email">Enter an email address in the correct format, like name@example.org</a>',
    )
    expect(res.text).toContain('<a href="#password">Enter your password</a>')
    expect(res.text).toContain('aria-describedby="email-error"')
    expect(res.text).toContain('value="not-an-email"')
  })

  it('gives a new session id at sign-in, and the old one is worthless (session fixation)', async () => {
    const agent = request.agent(t.app)
    const form = await agent.get('/sign-in').expect(200)
    const before = sessionCookie(form.headers['set-cookie'])
    expect(before).toBeDefined()

    const res = await agent
      .post('/sign-in')
      .type('form')
      .send({ email: 'officer@example.org', password: PASSWORD, returnTo: '/', _csrf: csrfTokenIn(form.text) })
      .expect(303)
    const after = sessionCookie(res.headers['set-cookie'])
    expect(after).toBeDefined()
    expect(after).not.toBe(before)

    await request(t.app).get('/').set('Cookie', before!).expect(302)
    await request(t.app).get('/').set('Cookie', after!).expect(200)
  })

  it('makes no session for a request sending an API token, and will not sign one in', async () => {
    const { secret } = await t.apiTokens.create({ name: 'script', role: 'assessor' }, 'test')
    const api = await request(t.app).get('/api/v1/things').set('Authorization', `Bearer ${secret}`)
    expect(api.status).toBe(200)
    expect(api.headers['set-cookie']).toBeUndefined()
    // Pages need a person: a token there is refused, still without a session.
    const page = await request(t.app).get('/').set('Authorization', `Bearer ${secret}`)
    expect(page.status).toBe(403)
    expect(page.headers['set-cookie']).toBeUndefined()
    const form = await request(t.app)
      .post('/sign-in')
      .set('Authorization', `Bearer ${secret}`)
      .type('form')
      .send({ email: 'officer@example.org', password: PASSWORD })
    expect(form.status).toBe(400)
    expect(form.text).toContain('a request sending an API token has no session')
    expect(form.headers['set-cookie']).toBeUndefined()
    // A bad token is still refused, session or none.
    expect((await request(t.app).get('/').set('Authorization', 'Bearer nope')).status).toBe(401)
  })

  it('sets the session cookie httpOnly, SameSite=Lax, with a non-default name', async () => {
    const res = await request(t.app).get('/sign-in')
    const cookie = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('prd.sid='))
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Lax/)
    expect(cookie).not.toMatch(/Secure/)
    expect(cookie).toMatch(/Expires=/)
  })

  it('signs out: the session is destroyed and its cookie no longer works', async () => {
    const agent = request.agent(t.app)
    const signedIn = await signIn(agent, 'officer@example.org', PASSWORD)
    const cookie = sessionCookie(signedIn.headers['set-cookie'])!
    const page = await agent.get('/intelligence').expect(200)

    const out = await agent
      .post('/sign-out')
      .type('form')
      .send({ _csrf: csrfTokenIn(page.text) })
      .expect(303)
    expect(out.headers.location).toBe('/sign-in?signedOut=1')
    await agent.get('/').expect(302)
    await request(t.app).get('/').set('Cookie', cookie).expect(302)
    expect((await agent.get('/sign-in?signedOut=1')).text).toContain('You have signed out')
  })

  it('refuses sign-out without the CSRF token', async () => {
    const agent = request.agent(t.app)
    await signIn(agent, 'officer@example.org', PASSWORD)
    await agent.post('/sign-out').type('form').send({}).expect(403)
    await agent.get('/').expect(200)
  })

  it('refuses a sign-in post without the CSRF token', async () => {
    const agent = request.agent(t.app)
    await agent.get('/sign-in')
    const res = await agent.post('/sign-in').type('form').send({ email: 'officer@example.org', password: PASSWORD })
    expect(res.status).toBe(403)
    expect(res.text).toContain('The sign-in form had expired')
    expect(res.text).toContain('<a class="govuk-link" href="/sign-in">Sign in again</a>')
    await agent.get('/').expect(302)
  })

  it('sends a signed-in user away from the sign-in page', async () => {
    const agent = request.agent(t.app)
    await signIn(agent, 'officer@example.org', PASSWORD)
    const res = await agent.get('/sign-in?returnTo=/intelligence').expect(302)
    expect(res.headers.location).toBe('/intelligence')
  })
})

describe('sign-in rate limit', () => {
  it('blocks an address and email after too many failures, with a clear message, and counts only failures', async () => {
    const t = createTestApp({ rateLimit: { perAccountLimit: 3, perAddressLimit: 100 } })
    await addUser(t.users, 'officer@example.org', 'compliance', PASSWORD)
    // Every request comes from the same address (127.0.0.1); a fresh agent is a fresh browser.
    const attempt = (email: string, password: string) => signIn(request.agent(t.app), email, password)

    expect((await attempt('officer@example.org', PASSWORD)).status).toBe(303)
    expect((await attempt('officer@example.org', PASSWORD)).status).toBe(303)
    for (let i = 0; i < 3; i++) expect((await attempt('officer@example.org', 'wrong password!!')).status).toBe(401)

    const blocked = await attempt('officer@example.org', PASSWORD)
    expect(blocked.status).toBe(429)
    expect(blocked.text).toContain('Too many failed sign-in attempts. Wait 15 minutes, then try again.')
    expect(blocked.text).toContain('govuk-error-summary')
    expect(blocked.headers['retry-after']).toBeDefined()

    // Another account from the same address is not blocked by this one's failures.
    expect((await attempt('someone-else@example.org', PASSWORD)).status).toBe(401)
    t.db.close()
  })

  it('blocks an address trying many accounts', async () => {
    const t = createTestApp({ rateLimit: { perAccountLimit: 10, perAddressLimit: 2 } })
    const agent = request.agent(t.app)
    expect((await signIn(agent, 'a@example.org', PASSWORD)).status).toBe(401)
    expect((await signIn(agent, 'b@example.org', PASSWORD)).status).toBe(401)
    expect((await signIn(agent, 'c@example.org', PASSWORD)).status).toBe(429)
    t.db.close()
  })
})

describe('session time-outs', () => {
  it('ends a session past the absolute time-out however active it was', async () => {
    let now = new Date()
    const t = createTestApp({ absoluteTimeoutMs: 60 * 60 * 1000, now: () => now })
    await addUser(t.users, 'officer@example.org', 'compliance', PASSWORD)
    const agent = request.agent(t.app)
    expect((await signIn(agent, 'officer@example.org', PASSWORD)).status).toBe(303)
    now = new Date(Date.now() + 59 * 60 * 1000)
    await agent.get('/').expect(200)
    now = new Date(Date.now() + 61 * 60 * 1000)
    await agent.get('/').expect(302)
    now = new Date()
    await agent.get('/').expect(302)
    t.db.close()
  })

  it('gives the cookie the idle time-out, renewed on every request (rolling)', async () => {
    const t = createTestApp()
    await addUser(t.users, 'officer@example.org', 'compliance', PASSWORD)
    const agent = request.agent(t.app)
    await signIn(agent, 'officer@example.org', PASSWORD)
    const res = await agent.get('/').expect(200)
    const cookie = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('prd.sid='))!
    const expires = Date.parse(/Expires=([^;]+)/.exec(cookie)![1]!)
    expect(expires - Date.now()).toBeGreaterThan(29 * 60 * 1000)
    expect(expires - Date.now()).toBeLessThanOrEqual(30 * 60 * 1000)
    const row = t.db.prepare('SELECT expires_at FROM sessions').get() as { expires_at: string }
    expect(Math.abs(Date.parse(row.expires_at) - expires)).toBeLessThan(2000)
    t.db.close()
  })

  it('ends a session idle for longer than the idle time-out, on the server too (not only by the cookie expiring)', async () => {
    const t = createTestApp()
    await addUser(t.users, 'officer@example.org', 'compliance', PASSWORD)
    const agent = request.agent(t.app)
    const signedIn = await signIn(agent, 'officer@example.org', PASSWORD)
    const cookie = sessionCookie(signedIn.headers['set-cookie'])!
    await agent.get('/').expect(200)
    // 31 minutes without a request: the stored session has expired, whatever cookie the browser still sends.
    const idle = new Date(Date.now() - 60_000).toISOString()
    t.db.prepare('UPDATE sessions SET expires_at = ?').run(idle)
    await request(t.app).get('/').set('Cookie', cookie).expect(302)
    await agent.get('/intelligence').expect(302)
    t.db.close()
  })

  it('explains a form sent after the session ended: signed out, nothing saved, and the way back', async () => {
    const t = createTestApp()
    await addUser(t.users, 'officer@example.org', 'compliance', PASSWORD)
    const agent = request.agent(t.app)
    await signIn(agent, 'officer@example.org', PASSWORD)
    const form = await agent.get('/intelligence').expect(200)
    t.db.prepare('UPDATE sessions SET expires_at = ?').run(new Date(Date.now() - 60_000).toISOString())

    const refused = await agent
      .post('/intelligence')
      .set('Referer', 'http://127.0.0.1/intelligence?tab=open')
      .type('form')
      .send({ note: 'typed for half an hour', _csrf: csrfTokenIn(form.text) })
      .expect(403)
    expect(refused.text).toContain('Your form was not sent')
    expect(refused.text).toContain('you had been signed out, after 30 minutes without activity')
    expect(refused.text).toMatch(/<a class="govuk-link" href="\/sign-in\?returnTo&#x3D;%2F">Sign in again<\/a>/)
    expect(refused.text).not.toContain('You do not have permission')
    expect(refused.text).not.toContain('saved by')

    // The API answers in JSON as before.
    const api = await agent.post('/api/v1/things').send({ a: 1 }).expect(403)
    expect(api.body.error).toBeTruthy()
    t.db.close()
  })

  it('ends the session of a user who has been disabled since signing in', async () => {
    const t = createTestApp()
    const id = await addUser(t.users, 'officer@example.org', 'compliance', PASSWORD)
    const agent = request.agent(t.app)
    await signIn(agent, 'officer@example.org', PASSWORD)
    await agent.get('/').expect(200)
    await t.users.setDisabled(id, true, 'admin@example.org')
    await agent.get('/').expect(302)
    t.db.close()
  })
})
