import { beforeAll, describe, expect, it } from 'vitest'
import type { Express } from 'express'
import { migrate, openDatabase, readMigrations } from '../../src/data/database.js'
import type { Services } from '../../src/services/container.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

let services: Services
let app: Express
let compliance: SignedInAgent
let assessor: SignedInAgent

type ApiIndicator = { key: string; level: string; reason: string }
type ApiAction = { id: number; kind: string; notes?: string | null; reference: string | null; indicator: string | null }

async function indicator(agent: SignedInAgent, ref: string, key: string): Promise<ApiIndicator> {
  const response = await agent.agent.get(`/api/v1/services/${ref}`)
  return (response.body.indicators as ApiIndicator[]).find((i) => i.key === key) as ApiIndicator
}

async function postAs(who: SignedInAgent, path: string, body: unknown) {
  const csrf = await who.csrf('/')
  return who.agent
    .post(path)
    .set('x-csrf-token', csrf)
    .send(body as object)
}

beforeAll(async () => {
  services = createTestServices()
  await seedSmallBorough(services)
  app = appWithAllRoutes(services)
  compliance = await signIn(app, services, 'compliance')
  assessor = await signIn(app, services, 'assessor')
})

describe('a compliance action that is an indicator’s fact, entered once', () => {
  it('an open default notice is indicator 6, and closing it resolves the notice', async () => {
    expect((await indicator(assessor, 'SVC-GREEN', 'default_notice')).level).toBe('green')
    const opened = await postAs(compliance, '/api/v1/services/SVC-GREEN/actions', {
      kind: 'default_notice',
      openedOn: '2026-11-02',
      dueOn: '2026-12-02',
      reference: 'DN-2026-7',
      notes: 'Missed visits, third month running',
    })
    expect(opened.status).toBe(201)
    expect(opened.body.action).toMatchObject({
      kind: 'default_notice',
      reference: 'DN-2026-7',
      indicator: 'default_notice',
    })
    const notice = await indicator(assessor, 'SVC-GREEN', 'default_notice')
    expect(notice.level).not.toBe('green')

    const forOfficer = await compliance.agent.get('/api/v1/services/SVC-GREEN')
    const officerActions = forOfficer.body.actions as ApiAction[]
    expect(officerActions).toEqual([
      expect.objectContaining({ kind: 'default_notice', notes: 'Missed visits, third month running' }),
    ])
    const forAssessor = await assessor.agent.get('/api/v1/services/SVC-GREEN')
    expect(forAssessor.body.actions).toHaveLength(1)
    expect(JSON.stringify(forAssessor.body.actions)).not.toContain('Missed visits')
    expect(JSON.stringify(forAssessor.body.actions)).not.toContain('DN-2026-7')

    const action = await services.compliance.actions.findById(opened.body.action.id as number)
    const closed = await services.compliance.closeAction(
      action!,
      { closedOn: '2026-11-20', outcome: 'Visits back on schedule' },
      'compliance@test.example',
    )
    expect(closed.ok).toBe(true)
    expect((await indicator(assessor, 'SVC-GREEN', 'default_notice')).level).toBe('green')
    expect((await compliance.agent.get('/api/v1/services/SVC-GREEN')).body.actions).toEqual([])
  })

  it('a suspension of new placements is an embargo', async () => {
    expect((await indicator(assessor, 'SVC-RED', 'embargo')).level).toBe('green')
    const opened = await postAs(compliance, '/api/v1/services/SVC-RED/actions', {
      kind: 'suspension_of_new_placements',
      openedOn: '2026-11-10',
    })
    expect(opened.status).toBe(201)
    expect(opened.body.action.indicator).toBe('embargo')
    expect((await indicator(assessor, 'SVC-RED', 'embargo')).level).toBe('red')
  })

  it('other actions are no indicator’s fact; bad input is a 400 naming the field; assessors may not open one', async () => {
    const plan = await postAs(compliance, '/api/v1/services/SVC-AMBER/actions', {
      kind: 'action_plan',
      openedOn: '2026-11-10',
      dueOn: '2026-12-10',
    })
    expect(plan.status).toBe(201)
    expect(plan.body.action.indicator).toBeNull()
    const bad = await postAs(compliance, '/api/v1/services/SVC-AMBER/actions', {
      kind: 'telling_off',
      openedOn: '2026-13-40',
      colour: 'red',
    })
    expect(bad.status).toBe(400)
    expect(bad.body.details).toEqual([expect.objectContaining({ field: 'colour' })])
    const badKind = await postAs(compliance, '/api/v1/services/SVC-AMBER/actions', {
      kind: 'telling_off',
      openedOn: '2026-13-40',
    })
    expect(badKind.status).toBe(400)
    expect((badKind.body.details as Array<{ field: string }>).map((d) => d.field)).toEqual(
      expect.arrayContaining(['kind', 'openedOn']),
    )
    expect((await postAs(compliance, '/api/v1/services/NOPE/actions', { kind: 'action_plan' })).status).toBe(404)
    const refused = await postAs(assessor, '/api/v1/services/SVC-AMBER/actions', {
      kind: 'action_plan',
      openedOn: '2026-11-10',
    })
    expect(refused.status).toBe(403)
  })
})

describe('migration 020', () => {
  it('records the fact of each existing default notice and suspension, linking one already entered', () => {
    const db = openDatabase(':memory:')
    migrate(
      db,
      readMigrations().filter((m) => m.version < 20),
    )
    const now = '2026-11-01T09:00:00.000Z'
    db.prepare(`INSERT INTO providers (id, name, created_at, updated_at) VALUES (1, 'P', ?, ?)`).run(now, now)
    db.prepare(
      `INSERT INTO services (id, ref, name, provider_id, service_type, area, contract_status, created_at, updated_at)
       VALUES (1, 'S1', 'S one', 1, 'home_care', 'North', 'contracted', ?, ?)`,
    ).run(now, now)
    const action = db.prepare(
      `INSERT INTO compliance_actions (id, service_id, kind, owner, opened_on, closed_on, created_by, created_at, updated_at)
       VALUES (?, 1, ?, 'o', ?, ?, 'c', ?, ?)`,
    )
    action.run(1, 'default_notice', '2026-10-01', null, now, now)
    action.run(2, 'suspension_of_new_placements', '2026-09-01', '2026-09-20', now, now)
    action.run(3, 'default_notice', '2026-08-01', null, now, now)
    action.run(4, 'notice_of_concern', '2026-08-01', null, now, now)
    db.prepare(
      `INSERT INTO observations (id, service_id, indicator, source, natural_key, observed_on, value, recorded_at)
       VALUES (50, 1, 'default_notice', 'council_form', 'council:default_notice:DN-1', '2026-08-01', 'default_notice', ?)`,
    ).run(now)
    migrate(db)
    const facts = db
      .prepare(
        `SELECT a.id, o.indicator, o.observed_on, o.end_date, o.source FROM compliance_actions a
         LEFT JOIN observations o ON o.id = a.observation_id ORDER BY a.id`,
      )
      .all()
    expect(facts).toEqual([
      { id: 1, indicator: 'default_notice', observed_on: '2026-10-01', end_date: null, source: 'compliance_action' },
      { id: 2, indicator: 'embargo', observed_on: '2026-09-01', end_date: '2026-09-20', source: 'compliance_action' },
      { id: 3, indicator: 'default_notice', observed_on: '2026-08-01', end_date: null, source: 'council_form' },
      { id: 4, indicator: null, observed_on: null, end_date: null, source: null },
    ])
    db.close()
  })
})
