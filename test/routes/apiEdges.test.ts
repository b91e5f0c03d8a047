import type { Express } from 'express'
import request from 'supertest'
import { beforeAll, describe, expect, it } from 'vitest'
import { ApiTokensRepository } from '../../src/data/apiTokens.js'
import type { Services } from '../../src/services/container.js'
import { appWithAllRoutes, createTestServices, signIn } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

let services: Services
let app: Express
let compliance: string

beforeAll(async () => {
  services = createTestServices()
  await seedSmallBorough(services)
  app = appWithAllRoutes(services)
  compliance = (await new ApiTokensRepository(services.db).create({ name: 'script', role: 'compliance' }, 'test'))
    .secret
})

describe('API edges (issue 14)', () => {
  it('takes the Bearer scheme in any case', async () => {
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      const response = await request(app).get('/api/v1/services').set('Authorization', `${scheme} ${compliance}`)
      expect(response.status, scheme).toBe(200)
    }
  })

  it('answers JSON on /api paths whatever their case', async () => {
    const anonymous = await request(app).get('/API/v1/services')
    expect(anonymous.status).toBe(401)
    expect(anonymous.type).toBe('application/json')
    const missing = await request(app).get('/Api/v1/nothing-here').set('Authorization', `Bearer ${compliance}`)
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({ error: 'Not found', details: [] })
    const listed = await request(app).get('/API/V1/services').set('Authorization', `Bearer ${compliance}`)
    expect(listed.status).toBe(200)
    expect(listed.body.services).toBeInstanceOf(Array)

    const admin = await signIn(app, services, 'admin')
    const noCsrf = await admin.agent.post('/API/v1/services/SVC-GREEN/intelligence').send({ kind: 'embargo' })
    expect(noCsrf.status).toBe(403)
    expect(noCsrf.type).toBe('application/json')
  })

  it('answers a JSON body that does not parse with 400 and a details entry', async () => {
    for (const path of ['/api/v1/services/SVC-GREEN/intelligence', '/API/v1/services/SVC-GREEN/intelligence']) {
      const response = await request(app)
        .post(path)
        .set('Authorization', `Bearer ${compliance}`)
        .set('Content-Type', 'application/json')
        .send('{"kind": "embargo",')
      expect(response.status).toBe(400)
      expect(response.type).toBe('application/json')
      expect(response.body.details).toEqual([{ field: '(body)', message: expect.stringMatching(/JSON/) }])
    }
  })

  it('refuses numbers, null and control characters in JSON text fields, by field', async () => {
    const before = await services.observations.count()
    const response = await request(app)
      .post('/api/v1/services/SVC-GREEN/intelligence')
      .set('Authorization', `Bearer ${compliance}`)
      .send({ kind: 'embargo', date: '2026-11-01', reference: 42, notes: null })
    expect(response.status).toBe(400)
    expect(response.body.details).toEqual([
      { field: 'reference', message: 'must be text' },
      { field: 'notes', message: 'must be text, not null: leave the field out' },
    ])
    const bidi = await request(app)
      .post('/api/v1/services/SVC-GREEN/intelligence')
      .set('Authorization', `Bearer ${compliance}`)
      .send({ kind: 'embargo', date: '2026-11-01', reference: 'EMB\u202E1', notes: 'ok\u0000' })
    expect(bidi.status).toBe(400)
    expect(bidi.body.details.map((detail: { field: string }) => detail.field)).toEqual(['reference', 'notes'])
    expect(await services.observations.count()).toBe(before)
  })
})
