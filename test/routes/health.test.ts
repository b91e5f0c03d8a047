import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { readMigrations } from '../../src/data/database.js'
import { appWithAllRoutes, createTestServices } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

const LATEST_MIGRATION = Math.max(...readMigrations().map((m) => m.version))

describe('GET /health', () => {
  it('says the database is reachable, its schema version, and that no refresh has run yet', async () => {
    const services = createTestServices()
    const response = await request(appWithAllRoutes(services)).get('/health')
    expect(response.status).toBe(200)
    expect(response.headers['set-cookie']).toBeUndefined()
    expect(response.body).toMatchObject({
      status: 'UP',
      database: { reachable: true, schemaVersion: LATEST_MIGRATION },
      lastRefresh: null,
    })
  })

  it('gives the last published refresh run', async () => {
    const services = createTestServices()
    await seedSmallBorough(services)
    const last = await services.runs.lastPublishedRun('full')
    const response = await request(appWithAllRoutes(services)).get('/health')
    expect(response.status).toBe(200)
    expect(response.body.lastRefresh).toEqual({
      runId: last?.id,
      startedAt: last?.startedAt,
      finishedAt: last?.finishedAt,
      status: 'completed',
    })
  })

  it('answers 503 DOWN, without the internal error, when the database cannot be read', async () => {
    const services = createTestServices()
    const app = appWithAllRoutes(services)
    services.db.close()
    const response = await request(app).get('/health')
    expect(response.status).toBe(503)
    expect(response.body).toEqual({ status: 'DOWN', database: { reachable: false } })
  })
})
