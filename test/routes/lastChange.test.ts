import { beforeAll, describe, expect, it } from 'vitest'
import type { Express } from 'express'
import type { Services } from '../../src/services/container.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

let services: Services
let app: Express
let assessor: SignedInAgent
let ids: Record<'red' | 'amber' | 'green', number>

const LONG_AGO = '2026-06-01T09:00:00.000Z'

async function apiService(ref: string) {
  const response = await assessor.agent.get(`/api/v1/services/${ref}`)
  expect(response.status).toBe(200)
  return response.body as { rag: string; lastChange: string | null }
}

/** Pretends every current RAG began long ago, so a recompute today shows whether it moved the date. */
function ageEveryRagSince(): void {
  services.db.prepare('UPDATE current_snapshots SET rag_since = ?').run(LONG_AGO)
  services.db.prepare('UPDATE current_snapshots SET changed_at = ?').run(LONG_AGO)
}

beforeAll(async () => {
  services = createTestServices()
  ids = await seedSmallBorough(services)
  app = appWithAllRoutes(services)
  assessor = await signIn(app, services, 'assessor')
})

describe('lastChange: when the RAG last changed, never when it was recomputed', () => {
  it('keeps the date through a new judgement of the same colour', async () => {
    ageEveryRagSince()
    // A food hygiene rating of 5 changes the judgement (a new indicator value) but not its colour.
    await services.observations.append([
      {
        serviceId: ids.green,
        indicator: 'food_hygiene',
        source: 'fhrs_api',
        observedOn: '2026-10-01',
        value: '5',
        naturalKey: 'fhrs:last-change-test:2026-10-01',
      },
    ])
    const outcome = await services.risk.recomputeServices([ids.green], 'test entry')
    expect(outcome.changed).toBe(1)
    const service = await apiService('SVC-GREEN')
    expect(service.rag).toBe('green')
    expect(service.lastChange).toBe(LONG_AGO)

    const page = await assessor.agent.get('/services/SVC-GREEN')
    expect(page.text).toContain('Green since 1 June 2026')
    const dashboard = await assessor.agent.get('/?q=Ash')
    expect(dashboard.text).toContain('Green since 1 June 2026')
    const csv = await assessor.agent.get('/services.csv?q=Ash')
    expect(csv.text).toContain(LONG_AGO)
  })

  it('moves it when the colour changes, and the dashboard sorts by it', async () => {
    ageEveryRagSince()
    await services.observations.append([
      {
        serviceId: ids.amber,
        indicator: 'embargo',
        source: 'council_form',
        observedOn: '2026-11-20',
        value: 'embargo',
        naturalKey: 'council:embargo:last-change-test',
      },
    ])
    const before = Date.now()
    await services.risk.recomputeServices([ids.amber], 'test entry')
    const service = await apiService('SVC-AMBER')
    expect(service.rag).toBe('red')
    expect(Date.parse(service.lastChange ?? '')).toBeGreaterThanOrEqual(before - 1000)

    const table = (html: string) => html.slice(html.indexOf('data-testid="services-table"'))
    const newestFirst = table((await assessor.agent.get('/?sort=changed&dir=desc')).text)
    expect(newestFirst.indexOf('Oak Homecare')).toBeLessThan(newestFirst.indexOf('Ash Lodge'))
    const oldestFirst = table((await assessor.agent.get('/?sort=changed&dir=asc')).text)
    expect(oldestFirst.indexOf('Ash Lodge')).toBeLessThan(oldestFirst.indexOf('Oak Homecare'))
  })

  it('dates a seeded judgement of a past date on that date, not on the day it was seeded', async () => {
    const own = createTestServices()
    await seedSmallBorough(own)
    own.db.exec('DELETE FROM rag_changes; DELETE FROM current_snapshots; DELETE FROM snapshots')
    const rules = await own.risk.activeRuleSet()
    const runId = await own.runs.startRun('seed', { trigger: 'demo history', ruleSetVersion: rules.version })
    const computed = await own.risk.stageAll(runId, rules, '2026-04-01')
    await own.runs.publish(runId, computed)
    const ownApp = appWithAllRoutes(own)
    const reader = await signIn(ownApp, own, 'assessor')
    const response = await reader.agent.get('/api/v1/services/SVC-RED')
    expect(response.body.lastChange).toBe('2026-04-01T00:00:00.000Z')
  })
})
