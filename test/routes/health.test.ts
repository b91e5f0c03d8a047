import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { databaseStatus, readMigrations } from '../../src/data/database.js'
import { appWithAllRoutes, createTestServices } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

const LATEST_MIGRATION = Math.max(...readMigrations().map((m) => m.version))

describe('GET /health', () => {
  it('says the database is UP, and gives no refresh part before the first refresh', async () => {
    const services = createTestServices()
    const response = await request(appWithAllRoutes(services)).get('/health')
    expect(response.status).toBe(200)
    expect(response.headers['set-cookie']).toBeUndefined()
    expect(response.body).toEqual({ status: 'UP', database: 'UP', databaseType: 'sqlite', sources: {} })
    // The schema version is for operators (the database itself), not for anonymous callers.
    expect(await databaseStatus(services.db)).toEqual({ reachable: true, schemaVersion: LATEST_MIGRATION })
  })

  it('says the last published refresh completed as UP, without its id or times', async () => {
    const services = createTestServices()
    await seedSmallBorough(services)
    const last = await services.runs.lastPublishedRun('full')
    expect(last?.status).toBe('completed')
    const response = await request(appWithAllRoutes(services)).get('/health')
    expect(response.status).toBe(200)
    expect(response.body).toMatchObject({ status: 'UP', database: 'UP', lastRefresh: 'UP' })
    expect(response.text).not.toContain(String(last?.startedAt))
  })

  it('tells anyone only UP or DOWN per source: no error text, host or path', async () => {
    const services = createTestServices()
    const run = await services.runs.startRun('full', { trigger: 'test' })
    await services.runs.recordSourceRun({
      runId: run,
      source: 'cqc',
      status: 'failed',
      startedAt: '2026-11-23T02:00:00.000Z',
      finishedAt: '2026-11-23T02:01:00.000Z',
      read: 0,
      matched: 0,
      changed: 0,
      unchanged: 0,
      rejected: 0,
      error: 'CQC file: ENOENT: no such file or directory, open /srv/secret/cqc.csv',
      rejects: [],
    })
    const response = await request(appWithAllRoutes(services)).get('/health')
    expect(response.body.sources).toEqual({ cqc: 'DOWN' })
    expect(response.text).not.toMatch(/ENOENT|\/srv\/secret/)
  })

  it('answers 503 DOWN, without the internal error, when the database cannot be read', async () => {
    const services = createTestServices()
    const app = appWithAllRoutes(services)
    services.db.close()
    const response = await request(app).get('/health')
    expect(response.status).toBe(503)
    expect(response.body).toEqual({ status: 'DOWN', database: 'DOWN' })
  })
})
