import request from 'supertest'
import type { Express } from 'express'
import { beforeAll, describe, expect, it } from 'vitest'
import { UsersRepository } from '../../src/data/users.js'
import type { Services } from '../../src/services/container.js'
import {
  appWithAllRoutes,
  createTestServices,
  csrfTokenFrom,
  signIn,
  type SignedInAgent,
} from '../helpers/appHarness.js'

let services: Services
let app: Express
let admin: SignedInAgent
let users: UsersRepository

beforeAll(async () => {
  services = createTestServices()
  app = appWithAllRoutes(services)
  admin = await signIn(app, services, 'admin')
  users = new UsersRepository(services.db)
})

async function createUser(fields: Record<string, string>, agent = admin) {
  return agent.agent
    .post('/admin/users')
    .type('form')
    .send({ _csrf: await agent.csrf('/admin/users/new'), ...fields })
}

describe('admin pages: who may', () => {
  it.each(['/admin', '/admin/users', '/admin/users/new'])(
    '%s: sign-in for anonymous, 403 for others, 200 for admins',
    async (path) => {
      expect((await request(app).get(path)).status).toBe(302)
      for (const role of ['assessor', 'compliance'] as const) {
        const agent = await signIn(app, services, role)
        expect((await agent.agent.get(path)).status).toBe(403)
      }
      expect((await admin.agent.get(path)).status).toBe(200)
    },
  )

  it('refuses a compliance officer creating a user, and a post without CSRF', async () => {
    const officer = await signIn(app, services, 'compliance')
    const refused = await officer.agent
      .post('/admin/users')
      .type('form')
      .send({
        _csrf: await officer.csrf('/'),
        email: 'x@example.org',
        role: 'admin',
        password: 'a long enough password',
      })
    expect(refused.status).toBe(403)
    const noCsrf = await admin.agent
      .post('/admin/users')
      .type('form')
      .send({ email: 'y@example.org', role: 'admin', password: 'a long enough password' })
    expect(noCsrf.status).toBe(403)
    expect(await users.findByEmail('x@example.org')).toBeUndefined()
    expect(await users.findByEmail('y@example.org')).toBeUndefined()
  })
})

describe('the admin landing page', () => {
  it('links to users, tokens, audit, runs, DPS and the rule set', async () => {
    const page = await admin.agent.get('/admin')
    for (const href of ['/admin/users', '/admin/tokens', '/admin/audit', '/admin/runs', '/admin/dps', '/admin/rules']) {
      expect(page.text).toContain(`href="${href}"`)
    }
  })
})

describe('users', () => {
  it('creates a user with a role and an initial password they can sign in with; audited', async () => {
    const response = await createUser({
      email: 'New.Officer@Example.org',
      role: 'compliance',
      password: 'initial password 123',
    })
    expect(response.status).toBe(303)
    const user = await users.findByEmail('new.officer@example.org')
    expect(user).toMatchObject({ role: 'compliance', disabled: false })
    expect(await services.audit.count({ action: 'user.created', entityId: user!.id })).toBe(1)
    const list = await admin.agent.get('/admin/users')
    expect(list.text).toContain('new.officer@example.org')

    const agent = request.agent(app)
    const form = await agent.get('/sign-in')
    const signedIn = await agent
      .post('/sign-in')
      .type('form')
      .send({ email: 'new.officer@example.org', password: 'initial password 123', _csrf: csrfTokenFrom(form.text) })
    expect(signedIn.status).toBe(303)
    expect((await agent.get('/morning')).status).toBe(200)
  })

  const bad: Array<[string, Record<string, string>, string]> = [
    ['missing email', { email: '', role: 'assessor', password: 'initial password 123' }, 'Enter an email address'],
    [
      'bad email',
      { email: 'not-an-email', role: 'assessor', password: 'initial password 123' },
      'in the correct format',
    ],
    [
      'over-long email',
      { email: `${'a'.repeat(250)}@example.org`, role: 'assessor', password: 'initial password 123' },
      '254 characters or fewer',
    ],
    ['unknown role', { email: 'r@example.org', role: 'superuser', password: 'initial password 123' }, 'Select a role'],
    ['short password', { email: 'p@example.org', role: 'assessor', password: 'short' }, 'at least 12 characters'],
    [
      'over-long password',
      { email: 'p@example.org', role: 'assessor', password: 'p'.repeat(257) },
      '256 characters or fewer',
    ],
    ['missing password', { email: 'p@example.org', role: 'assessor' }, 'Enter an initial password'],
  ]

  it.each(bad)(
    'bad input (%s): the form again with the error summary, nothing written',
    async (_n, fields, message) => {
      const before = await users.count()
      const auditBefore = await services.audit.count()
      const response = await createUser(fields)
      expect(response.status).toBe(400)
      expect(response.text).toContain('govuk-error-summary')
      expect(response.text).toContain(message)
      expect(response.text).not.toContain('initial password 123')
      expect(await users.count()).toBe(before)
      expect(await services.audit.count()).toBe(auditBefore)
    },
  )

  it('refuses a duplicate email address', async () => {
    await createUser({ email: 'dup@example.org', role: 'assessor', password: 'initial password 123' })
    const again = await createUser({ email: 'DUP@example.org', role: 'admin', password: 'initial password 123' })
    expect(again.status).toBe(400)
    expect(again.text).toContain('A user with this email address already exists')
    expect((await users.findByEmail('dup@example.org'))?.role).toBe('assessor')
  })

  it('changes a role and disables then enables an account, audited, effective at the next request', async () => {
    await createUser({ email: 'changing@example.org', role: 'assessor', password: 'initial password 123' })
    const user = (await users.findByEmail('changing@example.org'))!
    const agent = request.agent(app)
    const form = await agent.get('/sign-in')
    await agent
      .post('/sign-in')
      .type('form')
      .send({ email: 'changing@example.org', password: 'initial password 123', _csrf: csrfTokenFrom(form.text) })
    expect((await agent.get('/morning')).status).toBe(403)

    const page = await admin.agent.get(`/admin/users/${user.id}`)
    expect(page.status).toBe(200)
    const csrf = csrfTokenFrom(page.text)
    const badRole = await admin.agent
      .post(`/admin/users/${user.id}/role`)
      .type('form')
      .send({ _csrf: csrf, role: 'root' })
    expect(badRole.status).toBe(400)
    expect(badRole.text).toContain('Select a role')
    const role = await admin.agent
      .post(`/admin/users/${user.id}/role`)
      .type('form')
      .send({ _csrf: csrf, role: 'compliance' })
    expect(role.status).toBe(303)
    expect((await users.findById(user.id))?.role).toBe('compliance')
    expect((await agent.get('/morning')).status).toBe(200)

    const disable = await admin.agent
      .post(`/admin/users/${user.id}/disabled`)
      .type('form')
      .send({ _csrf: csrf, disabled: 'true' })
    expect(disable.status).toBe(303)
    expect((await users.findById(user.id))?.disabled).toBe(true)
    expect((await agent.get('/morning')).status).toBe(302)

    await admin.agent.post(`/admin/users/${user.id}/disabled`).type('form').send({ _csrf: csrf, disabled: 'false' })
    expect((await users.findById(user.id))?.disabled).toBe(false)

    const actions = (await services.audit.list({ entityType: 'user', entityId: user.id, limit: 10 })).map(
      (e) => e.action,
    )
    expect(actions).toEqual(
      expect.arrayContaining(['user.created', 'user.role_changed', 'user.disabled', 'user.enabled']),
    )
  })

  it('does not let admins change their own role or disable themselves', async () => {
    const self = (await users.findByEmail('admin@test.example'))!
    const page = await admin.agent.get(`/admin/users/${self.id}`)
    expect(page.text).toContain('This is your own account')
    const csrf = csrfTokenFrom(page.text)
    const role = await admin.agent
      .post(`/admin/users/${self.id}/role`)
      .type('form')
      .send({ _csrf: csrf, role: 'assessor' })
    expect(role.status).toBe(400)
    expect(role.text).toContain('You cannot change your own role')
    const disable = await admin.agent
      .post(`/admin/users/${self.id}/disabled`)
      .type('form')
      .send({ _csrf: csrf, disabled: 'true' })
    expect(disable.status).toBe(400)
    expect(await users.findById(self.id)).toMatchObject({ role: 'admin', disabled: false })
  })

  it('gives 404 for an unknown user', async () => {
    expect((await admin.agent.get('/admin/users/999999')).status).toBe(404)
    expect((await admin.agent.get('/admin/users/abc')).status).toBe(404)
  })
})
