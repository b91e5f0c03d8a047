import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { appWithAllRoutes, createTestServices, signIn } from '../helpers/appHarness.js'

function sessionRows(services: ReturnType<typeof createTestServices>): number {
  return (services.db.prepare('SELECT COUNT(*) AS n FROM sessions').get() as { n: number }).n
}

describe('sessions only when someone signs in or is shown a form', () => {
  it('writes no session row for anonymous GETs of pages, the API, errors and health', async () => {
    const services = createTestServices()
    const app = appWithAllRoutes(services)
    for (const path of ['/', '/services?rag=red', '/admin/users', '/no-such-page', '/api/v1/services', '/health']) {
      for (let i = 0; i < 3; i++) await request(app).get(path)
    }
    expect(sessionRows(services)).toBe(0)
  })

  it('writes one row for the sign-in form (its CSRF token) and keeps using it when signing in', async () => {
    const services = createTestServices()
    const app = appWithAllRoutes(services)
    const agent = request.agent(app)
    await agent.get('/sign-in').expect(200)
    await agent.get('/sign-in').expect(200)
    expect(sessionRows(services)).toBe(1)
    const signedIn = await signIn(app, services, 'admin')
    expect((await signedIn.agent.get('/admin/users')).text).toContain('name="_csrf"')
  })
})
