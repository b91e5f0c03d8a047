import { beforeAll, describe, expect, it } from 'vitest'
import request from 'supertest'
import type { Express } from 'express'
import type { Services } from '../../src/services/container.js'
import { RefreshService } from '../../src/services/refreshService.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

let services: Services
let app: Express
let compliance: SignedInAgent
let assessor: SignedInAgent

const changesSection = (html: string) => html.slice(html.indexOf('id="changes"'), html.indexOf('id="services"'))
const morningChanges = (html: string) => html.slice(html.indexOf('id="rag-changes"'), html.indexOf('id="eligibility"'))

/**
 * The night: the scheduled run picks up an embargo recorded after the last refresh (Ash Lodge turns Red). The day:
 * a refresh by hand, an admin saving a trial rule set and reverting it, and an entry (Oak Homecare turns Red).
 */
beforeAll(async () => {
  services = createTestServices()
  const ids = await seedSmallBorough(services)
  await services.observations.append([
    {
      serviceId: ids.green,
      indicator: 'embargo',
      source: 'council_inbox',
      observedOn: '2026-11-20',
      value: 'embargo',
      naturalKey: 'council:embargo:night',
    },
  ])
  await new RefreshService(services, []).run({ trigger: 'schedule' })

  await new RefreshService(services, []).run({ trigger: 'manual' })
  const rules = await services.ruleSetAdmin.inForce()
  const trial = structuredClone(rules.ruleSet) as typeof rules.ruleSet
  trial.score.indicatorWeights.cqc_rating = 7
  const saved = await services.ruleSetAdmin.save({
    document: trial,
    baseVersion: rules.version,
    note: 'trial',
    actor: 'admin@test.example',
  })
  expect(saved.ok).toBe(true)
  const reverted = await services.ruleSetAdmin.save({
    document: rules.ruleSet,
    baseVersion: rules.version + 1,
    note: 'revert',
    actor: 'admin@test.example',
  })
  expect(reverted.ok).toBe(true)
  await services.observations.append([
    {
      serviceId: ids.amber,
      indicator: 'embargo',
      source: 'council_form',
      observedOn: '2026-11-22',
      value: 'embargo',
      naturalKey: 'council:embargo:day',
    },
  ])
  await services.risk.recomputeServices(
    [ids.amber],
    'intelligence.recorded embargo SVC-AMBER by compliance@test.example',
  )

  app = appWithAllRoutes(services)
  compliance = await signIn(app, services, 'compliance')
  assessor = await signIn(app, services, 'assessor')
}, 60_000)

describe('changes by period, not by run', () => {
  it('keeps the night’s changes on the dashboard through everything done by day, each with its cause', async () => {
    const page = await assessor.agent.get('/')
    const section = changesSection(page.text)
    expect(section).toContain('Changed since the overnight run began')
    expect(section).toContain('Ash Lodge')
    expect(section).toContain('Overnight (scheduled)')
    expect(section).toContain('Oak Homecare')
    expect(section).toMatch(/Oak Homecare[\s\S]*Entry/)
  })

  it('keeps them on the morning page too', async () => {
    const page = await compliance.agent.get('/morning')
    expect(page.status).toBe(200)
    const section = morningChanges(page.text)
    expect(section).toContain('Ash Lodge')
    expect(section).toContain('Overnight (scheduled)')
    expect(page.text).toMatch(/Changed since the overnight run began/)
  })

  it('offers other periods, and refuses an unknown one', async () => {
    const week = await compliance.agent.get('/morning?period=week')
    expect(morningChanges(week.text)).toContain('Changed in the last 7 days')
    expect(morningChanges(week.text)).toContain('Ash Lodge')
    expect(morningChanges(week.text)).toContain('value="week" selected')
    const dashboardWeek = await assessor.agent.get('/?period=week')
    expect(changesSection(dashboardWeek.text)).toContain('Changed in the last 7 days')
    expect((await assessor.agent.get('/?period=year')).status).toBe(400)
    expect((await compliance.agent.get('/morning?period=year')).status).toBe(400)
  })

  it('GET /api/v1/changes lists the period’s changes with service, from, to, when and cause', async () => {
    const response = await assessor.agent.get('/api/v1/changes')
    expect(response.status).toBe(200)
    const changes = response.body.changes as Array<Record<string, unknown>>
    expect(changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          service: { ref: 'SVC-GREEN', name: 'Ash Lodge', provider: 'Ash Care Ltd' },
          from: 'green',
          to: 'red',
          when: expect.any(String),
          cause: 'scheduled',
        }),
        expect.objectContaining({ service: expect.objectContaining({ ref: 'SVC-AMBER' }), cause: 'entry' }),
      ]),
    )
    const none = await assessor.agent.get('/api/v1/changes?since=2020-01-01&until=2020-02-01')
    expect(none.body.changes).toEqual([])
    const backwards = await assessor.agent.get('/api/v1/changes?since=2026-02-01&until=2026-01-01')
    expect(backwards.status).toBe(400)
    expect(backwards.body.details).toEqual([{ field: 'until', message: 'until must be after since' }])
    expect((await request(app).get('/api/v1/changes')).status).toBe(401)
  })

  it('GET /api/v1/refresh-runs names what started each run', async () => {
    const response = await assessor.agent.get('/api/v1/refresh-runs')
    const causes = (response.body.runs as Array<{ cause: string }>).map((run) => run.cause)
    expect(causes).toEqual(expect.arrayContaining(['scheduled', 'manual', 'rule_set', 'entry']))
  })
})
