import type { Express } from 'express'
import request from 'supertest'
import { beforeAll, describe, expect, it } from 'vitest'
import { ApiTokensRepository } from '../../src/data/apiTokens.js'
import type { Services } from '../../src/services/container.js'
import { appWithAllRoutes, createTestServices, signIn } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

let services: Services
let app: Express
let ids: Record<'red' | 'amber' | 'green', number>
const tokens: Record<'admin' | 'compliance' | 'assessor', string> = { admin: '', compliance: '', assessor: '' }

beforeAll(async () => {
  services = createTestServices()
  ids = await seedSmallBorough(services)
  app = appWithAllRoutes(services)
  const repository = new ApiTokensRepository(services.db)
  for (const role of ['admin', 'compliance', 'assessor'] as const) {
    tokens[role] = (await repository.create({ name: `${role}-script`, role }, 'test')).secret
  }
})

const PATH = '/api/v1/services/SVC-GREEN/intelligence'
const count = () => services.observations.count()

function postAs(role: keyof typeof tokens, body: unknown, path = PATH) {
  return request(app)
    .post(path)
    .set('Authorization', `Bearer ${tokens[role]}`)
    .send(body as object)
}

describe('POST /api/v1/services/:ref/intelligence: roles', () => {
  it('refuses a request without a token or session, writing nothing', async () => {
    const before = await count()
    const response = await request(app).post(PATH).send({ kind: 'embargo', date: '2026-11-01' })
    // 401 from requireApiRole, or 403 when the CSRF check (mounted before the API routers) answers first.
    expect([401, 403]).toContain(response.status)
    expect(response.body.error).toBeTruthy()
    expect(await count()).toBe(before)
  })

  it('answers 401 for a bad token', async () => {
    const response = await request(app).post(PATH).set('Authorization', 'Bearer nope').send({ kind: 'embargo' })
    expect(response.status).toBe(401)
  })

  it('refuses assessors with 403 and writes nothing', async () => {
    const before = await count()
    const response = await postAs('assessor', { kind: 'embargo', date: '2026-11-01' })
    expect(response.status).toBe(403)
    expect(response.body.error).toBe('Your role may not use this')
    expect(await count()).toBe(before)
  })

  it('takes a session with the CSRF header, and refuses one without', async () => {
    const admin = await signIn(app, services, 'admin')
    const without = await admin.agent.post('/api/v1/services/SVC-RED/intelligence').send({
      kind: 'unexpected_death',
      date: '2026-10-02',
    })
    expect(without.status).toBe(403)
    const csrf = await admin.csrf('/')
    const response = await admin.agent
      .post('/api/v1/services/SVC-RED/intelligence')
      .set('x-csrf-token', csrf)
      .send({ kind: 'unexpected_death', date: '2026-10-02' })
    expect(response.status).toBe(201)
    expect(response.body.observation.enteredBy).toBe('admin@test.example')
  })
})

describe('POST /api/v1/services/:ref/intelligence: recording', () => {
  it('stores one row with the CSV field names and answers 201 with the observation and the new RAG', async () => {
    const before = await count()
    const response = await postAs('compliance', {
      service_ref: 'IGNORED-BY-PATH',
      kind: 'Contract concern',
      date: '01/11/2026',
      outcome: 'Substantiated',
      reference: 'CC-77',
      notes: 'Missed calls on three days',
    })
    expect(response.status).toBe(201)
    expect(await count()).toBe(before + 1)
    expect(response.body.observation).toMatchObject({
      kind: 'contract_concern',
      indicator: 'contract_concerns',
      date: '2026-11-01',
      outcome: 'substantiated',
      reference: 'CC-77',
      notes: 'Missed calls on three days',
      source: 'council_api',
      enteredBy: 'api-token:compliance-script',
    })
    expect(response.body.rag).toBe('green')
    expect(response.body.service.ref).toBe('SVC-GREEN')
    const concerns = response.body.service.indicators.find((i: { key: string }) => i.key === 'contract_concerns')
    expect(concerns.value).toMatch(/1/)
    const [audit] = await services.audit.list({ limit: 1, action: 'intelligence.recorded' })
    expect(audit?.actor).toBe('api-token:compliance-script')
  })

  it('recomputes at once: an embargo bars the service before the answer', async () => {
    const response = await postAs(
      'admin',
      { kind: 'embargo', date: '2026-11-23' },
      '/api/v1/services/SVC-AMBER/intelligence',
    )
    expect(response.status).toBe(201)
    expect(response.body.rag).toBe('red')
    expect((await services.runs.current(ids.amber))?.result.rag).toBe('red')
    const detail = await request(app)
      .get('/api/v1/services/SVC-AMBER')
      .set('Authorization', `Bearer ${tokens.assessor}`)
    expect(detail.body.rag).toBe('red')
    expect(detail.body.reasons.join(' ')).toMatch(/embargo/i)
  })

  it('answers 404 for an unknown service, writing nothing', async () => {
    const before = await count()
    const response = await postAs(
      'compliance',
      { kind: 'embargo', date: '2026-11-01' },
      '/api/v1/services/NOPE/intelligence',
    )
    expect(response.status).toBe(404)
    expect(response.body.error).toBe('Service not found')
    expect(await count()).toBe(before)
  })
})

describe('POST /api/v1/services/:ref/intelligence: bad input gets 400 with field messages and writes nothing', () => {
  const cases: Array<[string, unknown, string]> = [
    ['a missing kind', { date: '2026-11-01' }, 'kind'],
    ['a missing date', { kind: 'embargo' }, 'date'],
    ['an unknown kind', { kind: 'parking_fine', date: '2026-11-01' }, 'kind'],
    ['a date of the wrong type', { kind: 'embargo', date: true }, 'date'],
    ['an object for notes', { kind: 'embargo', date: '2026-11-01', notes: { text: 'x' } }, 'notes'],
    ['a date that is not a date', { kind: 'embargo', date: '11/30/2026' }, 'date'],
    ['a date in the future', { kind: 'unexpected_death', date: '2026-12-01' }, 'date'],
    [
      'an end date for a kind without one',
      { kind: 'unexpected_death', date: '2026-11-01', end_date: '2026-11-02' },
      'end_date',
    ],
    ['an unknown outcome', { kind: 'safeguarding_decision', date: '2026-11-01', outcome: 'maybe' }, 'outcome'],
    ['an over-long reference', { kind: 'embargo', date: '2026-11-01', reference: 'x'.repeat(201) }, 'reference'],
    ['over-long notes', { kind: 'embargo', date: '2026-11-01', notes: 'x'.repeat(4001) }, 'notes'],
    ['an unknown field', { kind: 'embargo', date: '2026-11-01', severity: 'high' }, 'severity'],
    ['an array body', [{ kind: 'embargo', date: '2026-11-01' }], '(body)'],
  ]
  for (const [name, body, field] of cases) {
    it(name, async () => {
      const before = await count()
      const audits = await services.audit.count()
      const response = await postAs('compliance', body)
      expect(response.status).toBe(400)
      expect(response.body.error).toBeTruthy()
      const fields = (response.body.details as Array<{ field: string; message: string }>).map((d) => d.field)
      expect(fields).toContain(field)
      expect(response.body.details.every((d: { message: string }) => typeof d.message === 'string')).toBe(true)
      expect(await count()).toBe(before)
      expect(await services.audit.count()).toBe(audits)
    })
  }

  it('refuses malformed JSON with 400', async () => {
    const response = await request(app)
      .post(PATH)
      .set('Authorization', `Bearer ${tokens.compliance}`)
      .set('Content-Type', 'application/json')
      .send('{"kind": "embargo",')
    expect(response.status).toBe(400)
    expect(response.body.error).toBeTruthy()
  })
})
