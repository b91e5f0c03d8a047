import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addUser, createTestApp, csrfTokenIn, signIn, type TestApp } from './testApp.js'

const PASSWORD = 'correct horse battery staple'

describe('roles and API tokens', () => {
  let t: TestApp
  let assessorToken: string
  let complianceToken: string
  let revokedToken: string

  beforeAll(async () => {
    t = createTestApp()
    await addUser(t.users, 'assessor@example.org', 'assessor', PASSWORD)
    await addUser(t.users, 'officer@example.org', 'compliance', PASSWORD)
    assessorToken = (await t.apiTokens.create({ name: 'bi', role: 'assessor' }, 'test')).secret
    complianceToken = (await t.apiTokens.create({ name: 'loader', role: 'compliance' }, 'test')).secret
    const revoked = await t.apiTokens.create({ name: 'old', role: 'admin' }, 'test')
    await t.apiTokens.revoke(revoked.token.id, 'test')
    revokedToken = revoked.secret
  })
  afterAll(() => t.db.close())

  describe('pages', () => {
    it('sends anonymous visitors to sign in, remembering where they were going', async () => {
      const res = await request(t.app).get('/intelligence?x=1').expect(302)
      expect(res.headers.location).toBe('/sign-in?returnTo=%2Fintelligence%3Fx%3D1')
    })

    it('gives 403 to a signed-in user without the role, and lets the right role in', async () => {
      const assessor = request.agent(t.app)
      await signIn(assessor, 'assessor@example.org', PASSWORD)
      await assessor.get('/').expect(200)
      const refused = await assessor.get('/intelligence').expect(403)
      expect(refused.text).toContain('You do not have permission to see this page')

      const officer = request.agent(t.app)
      await signIn(officer, 'officer@example.org', PASSWORD)
      await officer.get('/intelligence').expect(200)
    })

    it('applies a role change at the next request', async () => {
      const id = await addUser(t.users, 'promoted@example.org', 'assessor', PASSWORD)
      const agent = request.agent(t.app)
      await signIn(agent, 'promoted@example.org', PASSWORD)
      await agent.get('/intelligence').expect(403)
      await t.users.setRole(id, 'compliance', 'admin@example.org')
      await agent.get('/intelligence').expect(200)
    })
  })

  describe('CSRF on forms', () => {
    it('refuses a form post without the token, or with a wrong one, and writes nothing', async () => {
      const agent = request.agent(t.app)
      await signIn(agent, 'officer@example.org', PASSWORD)
      const missing = await agent.post('/intelligence').type('form').send({ note: 'x' }).expect(403)
      expect(missing.text).toContain('Your form was not sent')
      expect(missing.text).toContain('Nothing was saved: the form had expired')
      await agent
        .post('/intelligence')
        .type('form')
        .send({ note: 'x', _csrf: 'f'.repeat(256) })
        .expect(403)
    })

    it('accepts the post with the token from the form and the session cookie', async () => {
      const agent = request.agent(t.app)
      await signIn(agent, 'officer@example.org', PASSWORD)
      const form = await agent.get('/intelligence').expect(200)
      const res = await agent
        .post('/intelligence')
        .type('form')
        .send({ note: 'embargo lifted', _csrf: csrfTokenIn(form.text) })
        .expect(201)
      expect(res.text).toBe('saved by officer@example.org: embargo lifted')
    })

    it("refuses another session's token", async () => {
      const mine = request.agent(t.app)
      await signIn(mine, 'officer@example.org', PASSWORD)
      const theirs = request.agent(t.app)
      const theirForm = await theirs.get('/sign-in')
      await mine
        .post('/intelligence')
        .type('form')
        .send({ note: 'x', _csrf: csrfTokenIn(theirForm.text) })
        .expect(403)
    })
  })

  describe('API', () => {
    it('answers 401 JSON without a session or token', async () => {
      const res = await request(t.app).get('/api/v1/things').expect(401)
      expect(res.body).toEqual({ error: expect.stringContaining('Authentication required'), details: [] })
      expect(res.headers['www-authenticate']).toBe('Bearer')
    })

    it('accepts a bearer token with the token role', async () => {
      const res = await request(t.app).get('/api/v1/things').set('Authorization', `Bearer ${assessorToken}`).expect(200)
      expect(res.body.user).toMatchObject({ email: 'api-token:bi', role: 'assessor', via: 'token' })
      const [token] = (await t.apiTokens.list()).filter((x) => x.name === 'bi')
      expect(token?.lastUsedAt).not.toBeNull()
    })

    it('answers 403 JSON with details when the role may not', async () => {
      const res = await request(t.app)
        .post('/api/v1/things')
        .set('Authorization', `Bearer ${assessorToken}`)
        .send({ a: 1 })
        .expect(403)
      expect(res.body.error).toBe('Your role may not use this')
      expect(res.body.details).toEqual(['Requires one of the roles: admin, compliance; yours is assessor'])
    })

    it('lets a bearer token write without a CSRF token', async () => {
      const res = await request(t.app)
        .post('/api/v1/things')
        .set('Authorization', `Bearer ${complianceToken}`)
        .send({ a: 1 })
        .expect(201)
      expect(res.body).toEqual({ created: { a: 1 }, by: 'api-token:loader' })
      expect(res.headers['set-cookie']).toBeUndefined()
    })

    it('refuses a revoked, unknown or malformed token with 401', async () => {
      for (const header of [`Bearer ${revokedToken}`, 'Bearer prd_notarealtoken', 'Basic dXNlcjpwYXNz', 'Bearer']) {
        const res = await request(t.app).get('/api/v1/things').set('Authorization', header).expect(401)
        expect(res.body).toEqual({ error: 'The API token is not valid or has been revoked', details: [] })
        expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"')
      }
    })

    it('accepts a session for reads; session writes need the CSRF token in x-csrf-token', async () => {
      const agent = request.agent(t.app)
      await signIn(agent, 'officer@example.org', PASSWORD)
      await agent.get('/api/v1/things').expect(200)
      await agent.post('/api/v1/things').send({ a: 1 }).expect(403)
      const page = await agent.get('/intelligence')
      const res = await agent
        .post('/api/v1/things')
        .set('x-csrf-token', csrfTokenIn(page.text))
        .send({ a: 1 })
        .expect(201)
      expect(res.body.by).toBe('officer@example.org')
    })
  })
})
