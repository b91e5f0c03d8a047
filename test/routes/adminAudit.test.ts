import request from 'supertest'
import type { Express } from 'express'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Services } from '../../src/services/container.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'

let services: Services
let app: Express
let admin: SignedInAgent

beforeAll(async () => {
  services = createTestServices()
  for (let i = 1; i <= 60; i++) {
    await services.audit.record({
      actor: i % 2 === 0 ? 'even@example.org' : 'odd@example.org',
      action: i <= 55 ? 'override.set' : 'action.opened',
      entityType: i % 3 === 0 ? 'user' : 'service',
      entityId: String(i),
      after: { n: i, note: `entry <${i}>` },
    })
  }
  app = appWithAllRoutes(services)
  admin = await signIn(app, services, 'admin')
})

function rows(html: string): string[] {
  return [...html.matchAll(/data-audit-id="(\d+)"/g)].map((m) => m[1]!)
}

describe('GET /admin/audit', () => {
  it('is for admins only', async () => {
    expect((await request(app).get('/admin/audit')).status).toBe(302)
    for (const role of ['assessor', 'compliance'] as const) {
      const agent = await signIn(app, services, role)
      expect((await agent.agent.get('/admin/audit')).status).toBe(403)
    }
  })

  it('pages through every entry, newest first, 50 to a page', async () => {
    const total = await services.audit.count()
    const first = await admin.agent.get('/admin/audit')
    expect(first.status).toBe(200)
    expect(rows(first.text)).toHaveLength(50)
    expect(first.text).toContain(`Showing 1 to 50 of ${total} entries`)
    expect(first.text).toContain('entry &lt;60&gt;')
    expect(first.text).toMatch(/href="\/admin\/audit\?page(=|&#x3D;)2"/)
    const second = await admin.agent.get('/admin/audit?page=2')
    expect(rows(second.text)).toHaveLength(total - 50)
    expect(new Set([...rows(first.text), ...rows(second.text)]).size).toBe(total)
  })

  it('filters by actor, action, entity type and id, and date range', async () => {
    const byActor = await admin.agent.get('/admin/audit?actor=even%40example.org&action=action.opened')
    // The audit ids are the loop's numbers: nothing else is audited before the first sign-in.
    expect(rows(byActor.text)).toEqual(['60', '58', '56'])
    expect(byActor.text).toContain('of 3 entries matching the filters')

    const byType = await admin.agent.get('/admin/audit?entityType=user&action=override.set')
    expect(rows(byType.text)).toHaveLength(18)

    const byId = await admin.agent.get('/admin/audit?entityType=service&entityId=7')
    expect(rows(byId.text)).toHaveLength(1)

    const today = new Date().toISOString().slice(0, 10)
    const inRange = await admin.agent.get(`/admin/audit?from=${today}&to=${today}&action=action.opened`)
    expect(rows(inRange.text)).toHaveLength(5)
    const before = await admin.agent.get('/admin/audit?to=2000-01-01')
    expect(rows(before.text)).toHaveLength(0)
    expect(before.text).toContain('No entries matching the filters')
  })

  it.each([
    ['a date that is not a date', '?from=2026-02-30', 'From must be a real date'],
    ['a range the wrong way round', '?from=2026-03-02&to=2026-03-01', 'To must be the same as or after From'],
    ['an over-long actor', `?actor=${'a'.repeat(255)}`, 'Who must be 254 characters or fewer'],
    ['a bad page', '?page=0', 'Page must be 1 or more'],
    ['a repeated filter', '?action=a&action=b', 'Action must be a single value'],
  ])('answers %s with 400 and the error summary', async (_n, query, message) => {
    const response = await admin.agent.get(`/admin/audit${query}`)
    expect(response.status).toBe(400)
    expect(response.text).toContain('govuk-error-summary')
    expect(response.text).toContain(message)
    expect(rows(response.text)).toHaveLength(0)
  })
})
