import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { createDemoUsers, DEMO_USERS } from '../../src/auth/demoUsers.js'
import { hashPassword } from '../../src/auth/passwords.js'
import { ApiTokensRepository } from '../../src/data/apiTokens.js'
import { LastActiveAdminError, UsersRepository } from '../../src/data/users.js'
import type { Services } from '../../src/services/container.js'
import { prepareDatabase } from '../../src/services/startup.js'
import { appWithAllRoutes, createTestServices, csrfTokenFrom, ensureUser, signIn } from '../helpers/appHarness.js'

const DEMO_ADMIN = DEMO_USERS.find((demo) => demo.role === 'admin')!
const DEMO_ASSESSOR = DEMO_USERS.find((demo) => demo.role === 'assessor')!

function auditRows(services: Services, action: string) {
  return services.db.prepare('SELECT * FROM audit_log WHERE action = ? ORDER BY id').all(action) as {
    actor: string
    entity_id: string | null
    after_json: string | null
  }[]
}

/** Posts the sign-in form over "HTTPS" (a TLS proxy on loopback), as production's Secure cookie needs. */
async function postSignIn(services: Services, email: string, password: string) {
  const app = appWithAllRoutes(services)
  const form = await request(app).get('/sign-in').set('X-Forwarded-Proto', 'https')
  const cookie = (form.headers['set-cookie'] as unknown as string[])[0]!.split(';', 1)[0]!
  return request(app)
    .post('/sign-in')
    .set('X-Forwarded-Proto', 'https')
    .set('Cookie', cookie)
    .type('form')
    .send({ email, password, _csrf: csrfTokenFrom(form.text) })
}

describe('the published demo passwords under NODE_ENV=production', () => {
  it('a start in production disables the demo accounts still holding their password, and says so', async () => {
    const services = createTestServices({ env: { NODE_ENV: 'production', SESSION_SECRET: 'a production secret' } })
    const users = new UsersRepository(services.db)
    await createDemoUsers(users, 'development')
    const assessor = (await users.findByEmail(DEMO_ASSESSOR.email))!
    await users.setPasswordHash(assessor.id, await hashPassword('a council chose this one'), 'test')

    const lines: string[] = []
    await prepareDatabase(services, (line) => lines.push(line))
    expect((await users.findByEmail(DEMO_ADMIN.email))?.disabled).toBe(true)
    expect((await users.findByEmail('compliance@example.org'))?.disabled).toBe(true)
    expect((await users.findByEmail(DEMO_ASSESSOR.email))?.disabled).toBe(false)
    expect(lines.join('\n')).toContain(`disabled the demo account ${DEMO_ADMIN.email}`)
    expect(lines.join('\n')).toContain('npm run user -- add')
    expect(lines.join('\n')).not.toContain(DEMO_ASSESSOR.email)
  })

  it('a demo password never signs in in production, even on an enabled account', async () => {
    const services = createTestServices({ env: { NODE_ENV: 'production', SESSION_SECRET: 'a production secret' } })
    await createDemoUsers(new UsersRepository(services.db), 'development')
    const refused = await postSignIn(services, DEMO_ADMIN.email, DEMO_ADMIN.password)
    expect(refused.status).toBe(401)
    expect(refused.headers.location).toBeUndefined()
    expect(auditRows(services, 'user.sign_in_failed').at(-1)?.after_json).toContain('published demo password')

    // The same sign-in outside production works: the refusal is production's alone.
    const development = createTestServices({ env: { NODE_ENV: 'development' } })
    await createDemoUsers(new UsersRepository(development.db), 'development')
    expect((await postSignIn(development, DEMO_ADMIN.email, DEMO_ADMIN.password)).status).toBe(303)
  })
})

describe('the last active admin', () => {
  it('cannot be disabled or demoted through the users repository (every route goes through it)', async () => {
    const services = createTestServices()
    const users = new UsersRepository(services.db)
    const only = (await users.findByEmail(await ensureUser(services, 'admin')))!
    await expect(users.setDisabled(only.id, true, 'someone')).rejects.toBeInstanceOf(LastActiveAdminError)
    await expect(users.setRole(only.id, 'assessor', 'someone')).rejects.toThrow(/last active admin/)
    expect(await users.findById(only.id)).toMatchObject({ role: 'admin', disabled: false })

    const second = await users.create({ email: 'second@test.example', role: 'admin', passwordHash: 'x' }, 'test')
    await users.setDisabled(second.id, true, 'someone')
    // A disabled admin does not count: the first is still the last active one.
    await expect(users.setRole(only.id, 'compliance', 'someone')).rejects.toBeInstanceOf(LastActiveAdminError)
    await users.setDisabled(second.id, false, 'someone')
    await users.setRole(only.id, 'compliance', 'someone')
    await expect(users.setDisabled(second.id, true, 'someone')).rejects.toBeInstanceOf(LastActiveAdminError)
  })
})

describe('admin pages need a person', () => {
  it('an admin API token cannot disable the only admin, create users or create tokens', async () => {
    const services = createTestServices()
    const app = appWithAllRoutes(services)
    const users = new UsersRepository(services.db)
    const only = (await users.findByEmail(await ensureUser(services, 'admin')))!
    const tokens = new ApiTokensRepository(services.db)
    const { secret } = await tokens.create({ name: 'admin-script', role: 'admin' }, 'test')
    const bearer = { Authorization: `Bearer ${secret}` }

    const disable = await request(app).post(`/admin/users/${only.id}/disabled`).set(bearer).type('form').send({
      disabled: 'true',
    })
    expect(disable.status).toBe(403)
    expect((await users.findById(only.id))?.disabled).toBe(false)

    const create = await request(app)
      .post('/admin/users')
      .set(bearer)
      .type('form')
      .send({ email: 'new@test.example', role: 'admin', password: 'a long enough password' })
    expect(create.status).toBe(403)
    expect(await users.findByEmail('new@test.example')).toBeUndefined()

    const token = await request(app).post('/admin/tokens').set(bearer).type('form').send({ name: 'x', role: 'admin' })
    expect(token.status).toBe(403)
    expect((await tokens.list()).map((t) => t.name)).toEqual(['admin-script'])
    expect((await request(app).get('/admin/users').set(bearer)).status).toBe(403)
    // The same token still works where tokens belong.
    expect((await request(app).get('/api/v1/services').set(bearer)).status).toBe(200)
  })
})

describe('failed sign-ins', () => {
  it('are audited with the address typed and the account, never the password', async () => {
    const services = createTestServices()
    const email = await ensureUser(services, 'compliance')
    const app = appWithAllRoutes(services)
    const agent = request.agent(app)
    const form = await agent.get('/sign-in')
    const wrong = 'wrong-password-123456'
    const refused = await agent
      .post('/sign-in')
      .type('form')
      .send({ email: ` ${email.toUpperCase()} `, password: wrong, _csrf: csrfTokenFrom(form.text) })
    expect(refused.status).toBe(401)
    await agent
      .post('/sign-in')
      .type('form')
      .send({ email: 'nobody@test.example', password: wrong, _csrf: csrfTokenFrom(form.text) })
    const rows = auditRows(services, 'user.sign_in_failed')
    const account = (await new UsersRepository(services.db).findByEmail(email))!
    expect(rows.map((row) => [row.actor, row.entity_id])).toEqual([
      [email, String(account.id)],
      ['nobody@test.example', null],
    ])
    expect(JSON.stringify(rows)).not.toContain(wrong)
    // A good sign-in is not a failure.
    await signIn(app, services, 'compliance')
    expect(auditRows(services, 'user.sign_in_failed')).toHaveLength(2)
  })
})
