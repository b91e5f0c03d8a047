import request from 'supertest'
import type { Express } from 'express'
import { beforeAll, describe, expect, it } from 'vitest'
import { ApiTokensRepository } from '../../src/data/apiTokens.js'
import type { Services } from '../../src/services/container.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

let services: Services
let app: Express
let admin: SignedInAgent
let tokens: ApiTokensRepository

beforeAll(async () => {
  services = createTestServices()
  await seedSmallBorough(services)
  app = appWithAllRoutes(services)
  admin = await signIn(app, services, 'admin')
  tokens = new ApiTokensRepository(services.db)
})

async function createToken(fields: Record<string, string>, agent = admin) {
  return agent.agent
    .post('/admin/tokens')
    .type('form')
    .send({ _csrf: await agent.csrf('/admin/tokens'), ...fields })
}

describe('/admin/tokens', () => {
  it('is for admins only', async () => {
    expect((await request(app).get('/admin/tokens')).status).toBe(302)
    for (const role of ['assessor', 'compliance'] as const) {
      const agent = await signIn(app, services, role)
      expect((await agent.agent.get('/admin/tokens')).status).toBe(403)
      const post = await agent.agent
        .post('/admin/tokens')
        .type('form')
        .send({ _csrf: await agent.csrf('/'), name: 'sneaky', role: 'admin' })
      expect(post.status).toBe(403)
    }
    const noCsrf = await admin.agent.post('/admin/tokens').type('form').send({ name: 'no csrf', role: 'admin' })
    expect(noCsrf.status).toBe(403)
    expect(await tokens.list()).toEqual([])
  })

  it('creates a token, shows the secret once, and the secret works on the API', async () => {
    const created = await createToken({ name: 'Power BI', role: 'assessor' })
    expect(created.status).toBe(201)
    const secret = /data-testid="token-secret"/.test(created.text)
      ? /value="(prd_[^"]+)"/.exec(created.text)?.[1]
      : undefined
    expect(secret).toMatch(/^prd_/)
    expect(created.text).toContain('shown only once')

    const list = await admin.agent.get('/admin/tokens')
    expect(list.text).toContain('Power BI')
    expect(list.text).not.toContain(secret!)

    const api = await request(app).get('/api/v1/services').set('Authorization', `Bearer ${secret}`)
    expect(api.status).toBe(200)
    expect(await services.audit.count({ action: 'api_token.created' })).toBe(1)
  })

  it.each([
    ['missing name', { name: ' ', role: 'assessor' }, 'Enter a name for the token'],
    ['over-long name', { name: 'n'.repeat(101), role: 'assessor' }, '100 characters or fewer'],
    ['unknown role', { name: 'x', role: 'root' }, 'Select the role the token acts with'],
  ])('bad input (%s): the page again with the error summary, nothing written', async (_n, fields, message) => {
    const before = (await tokens.list()).length
    const response = await createToken(fields)
    expect(response.status).toBe(400)
    expect(response.text).toContain('govuk-error-summary')
    expect(response.text).toContain(message)
    expect((await tokens.list()).length).toBe(before)
  })

  it('revokes a token: the API refuses it afterwards', async () => {
    const created = await createToken({ name: 'Old script', role: 'compliance' })
    const secret = /value="(prd_[^"]+)"/.exec(created.text)![1]!
    const token = (await tokens.list()).find((t) => t.name === 'Old script')!
    const revoke = await admin.agent
      .post(`/admin/tokens/${token.id}/revoke`)
      .type('form')
      .send({ _csrf: await admin.csrf('/admin/tokens') })
    expect(revoke.status).toBe(303)
    expect((await request(app).get('/api/v1/services').set('Authorization', `Bearer ${secret}`)).status).toBe(401)
    const page = await admin.agent.get('/admin/tokens')
    expect(/data-testid="revoked-tokens"[\s\S]*Old script/.test(page.text)).toBe(true)
    expect(await services.audit.count({ action: 'api_token.revoked' })).toBe(1)
    const unknown = await admin.agent
      .post('/admin/tokens/999999/revoke')
      .type('form')
      .send({ _csrf: await admin.csrf('/admin/tokens') })
    expect(unknown.status).toBe(404)
  })
})
