import { beforeAll, describe, expect, it } from 'vitest'
import request from 'supertest'
import type { Express } from 'express'
import { ApiTokensRepository } from '../../src/data/apiTokens.js'
import { INDICATOR_KEYS } from '../../src/domain/vocabulary.js'
import type { Services } from '../../src/services/container.js'
import { appWithAllRoutes, createTestServices } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

let services: Services
let app: Express
let token: string

beforeAll(async () => {
  services = createTestServices()
  await seedSmallBorough(services)
  app = appWithAllRoutes(services)
  token = (await new ApiTokensRepository(services.db).create({ name: 'bi-tool', role: 'assessor' }, 'test')).secret
})

const get = (path: string) => request(app).get(path).set('Authorization', `Bearer ${token}`)

describe('GET /api/v1/services', () => {
  it('refuses a request without credentials with 401 JSON', async () => {
    const response = await request(app).get('/api/v1/services')
    expect(response.status).toBe(401)
    expect(response.body).toEqual({ error: expect.any(String), details: expect.any(Array) })
  })

  it('lists services with the SPEC §9 fields', async () => {
    const response = await get('/api/v1/services')
    expect(response.status).toBe(200)
    expect(response.body.total).toBe(3)
    const red = response.body.services.find((s: { ref: string }) => s.ref === 'SVC-RED')
    expect(red).toMatchObject({
      ref: 'SVC-RED',
      name: 'Elm House',
      provider: 'Evil <script>alert(1)</script> Care Ltd',
      rag: 'red',
      override: null,
      score: expect.any(Number),
      reasons: expect.arrayContaining(['CQC rated Inadequate on 2026-03-14']),
    })
    expect(red.history).toEqual(expect.arrayContaining([{ at: expect.any(String), rag: 'red' }]))
    const one = await get('/api/v1/services/SVC-RED')
    expect(red.history).toEqual(one.body.history)
    expect(red.indicators.map((i: { key: string }) => i.key)).toEqual([...INDICATOR_KEYS])
    for (const indicator of red.indicators) {
      expect(Object.keys(indicator)).toEqual(
        expect.arrayContaining(['key', 'level', 'value', 'date', 'source', 'reason', 'stale']),
      )
    }
  })

  it('filters by rag, area and type', async () => {
    const response = await get('/api/v1/services?rag=red,amber&area=North')
    expect(response.body.services.map((s: { ref: string }) => s.ref)).toEqual(['SVC-RED'])
    const byType = await get('/api/v1/services?type=home_care')
    expect(byType.body.services.map((s: { ref: string }) => s.ref)).toEqual(['SVC-AMBER'])
  })

  it('answers a bad filter with 400 and field messages', async () => {
    const response = await get('/api/v1/services?rag=purple&type=castle')
    expect(response.status).toBe(400)
    expect(response.body.error).toBe('Invalid query')
    expect(response.body.details.map((d: { field: string }) => d.field)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^rag/), expect.stringMatching(/^type/)]),
    )
  })
})

describe('GET /api/v1/services/:ref', () => {
  it('gives one service with its history', async () => {
    const response = await get('/api/v1/services/SVC-AMBER')
    expect(response.status).toBe(200)
    expect(response.body.rag).toBe('amber')
    expect(response.body.history).toEqual(expect.arrayContaining([{ at: expect.any(String), rag: 'amber' }]))
    const safeguarding = response.body.indicators.find((i: { key: string }) => i.key === 'safeguarding')
    expect(safeguarding).toMatchObject({ level: 'amber', date: '2026-10-01' })
  })

  it('gives 404 JSON for an unknown service', async () => {
    const response = await get('/api/v1/services/NOPE')
    expect(response.status).toBe(404)
    expect(response.body.error).toBe('Service not found')
  })
})

describe('GET /api/v1/refresh-runs', () => {
  it('lists runs with their sources', async () => {
    const response = await get('/api/v1/refresh-runs')
    expect(response.status).toBe(200)
    expect(response.body.runs[0]).toMatchObject({ kind: expect.any(String), status: 'completed' })
  })
})

describe('unknown API paths', () => {
  it('answer 404 JSON', async () => {
    const response = await get('/api/v1/nothing-here')
    expect(response.status).toBe(404)
    expect(response.body).toEqual({ error: 'Not found', details: [] })
  })
})
