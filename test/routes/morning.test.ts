import request from 'supertest'
import type { Express } from 'express'
import { beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_GATES } from '../../src/domain/eligibility.js'
import type { Services } from '../../src/services/container.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

let services: Services
let app: Express
let officer: SignedInAgent
let ids: Record<'red' | 'amber' | 'green', number>

function section(html: string, testId: string): string {
  const start = html.indexOf(`data-testid="${testId}"`)
  if (start === -1) return ''
  const end = html.indexOf('<h2', start)
  return html.slice(start, end === -1 ? undefined : end)
}

async function fullRun(): Promise<number> {
  const runId = await services.runs.startRun('full', { trigger: 'test' })
  const rules = await services.risk.activeRuleSet()
  const computed = await services.risk.stageAll(runId, rules, services.clock.today())
  await services.risk.publishFull(runId, computed)
  return runId
}

beforeAll(async () => {
  services = createTestServices()
  ids = await seedSmallBorough(services)

  // A DPS with the default gates (not Red, CQC Good or better): the Red service loses eligibility at the next run.
  const dps = await services.dpsRepository.createDps({
    name: 'Care Homes DPS',
    gates: DEFAULT_GATES,
    lots: [{ name: 'Residential', tier: 'tier2', serviceType: 'care_home_residential' }],
  })
  const lotId = dps.lots[0]!.id
  await services.dpsRepository.admitMember({ lotId, serviceId: ids.red, on: '2026-01-01' })
  await services.dpsRepository.admitMember({ lotId, serviceId: ids.green, on: '2026-01-01' })

  // Quality assessments: Oak Homecare rated Requires Improvement (action plan due), Elm House assessed long ago.
  await services.observations.append([
    {
      serviceId: ids.amber,
      indicator: 'quality_assessment',
      source: 'council_form',
      observedOn: '2026-11-10',
      value: 'requires_improvement',
      naturalKey: 'qa:amber:1',
    },
    {
      serviceId: ids.red,
      indicator: 'quality_assessment',
      source: 'council_form',
      observedOn: '2025-02-01',
      value: 'good',
      naturalKey: 'qa:red:1',
    },
  ])
  const runId = await fullRun()
  await services.runs.recordSourceRun({
    runId,
    source: 'cqc',
    status: 'failed',
    startedAt: new Date().toISOString(),
    finishedAt: new Date().toISOString(),
    read: 0,
    matched: 0,
    changed: 0,
    unchanged: 0,
    rejected: 0,
    error: 'CQC API answered 503',
    rejects: [],
  })

  // During the day: a safeguarding decision turns Ash Lodge Amber (an entry run after the full run).
  await services.observations.append([
    {
      serviceId: ids.green,
      indicator: 'safeguarding',
      source: 'council_form',
      observedOn: '2026-11-22',
      value: 'decision',
      naturalKey: 'council:safeguarding_decision:SG-9',
    },
  ])
  await services.risk.recomputeServices([ids.green], 'test entry')

  await services.compliance.actions.open(
    {
      serviceId: ids.red,
      kind: 'remedial_notice',
      owner: 'Pat Lead',
      openedOn: '2026-10-01',
      dueOn: '2026-11-01',
      notes: null,
    },
    'test',
  )
  await services.compliance.actions.open(
    {
      serviceId: ids.red,
      kind: 'notice_of_concern',
      owner: 'Pat Lead',
      openedOn: '2026-11-01',
      dueOn: '2026-12-30',
      notes: null,
    },
    'test',
  )
  await services.compliance.overrides.set(
    { serviceId: ids.red, rag: 'red', reason: 'Expiring soon', expiresOn: '2026-11-26' },
    'test',
    services.clock.today(),
  )
  await services.compliance.overrides.set(
    { serviceId: ids.amber, rag: 'amber', reason: 'Not expiring soon', expiresOn: '2027-01-20' },
    'test',
    services.clock.today(),
  )

  app = appWithAllRoutes(services)
  officer = await signIn(app, services, 'compliance')
})

describe('GET /morning', () => {
  it('is for compliance officers and admins', async () => {
    const anonymous = await request(app).get('/morning')
    expect(anonymous.status).toBe(302)
    expect(anonymous.headers.location).toBe('/sign-in?returnTo=%2Fmorning')
    const assessor = await signIn(app, services, 'assessor')
    expect((await assessor.agent.get('/morning')).status).toBe(403)
    const admin = await signIn(app, services, 'admin')
    expect((await admin.agent.get('/morning')).status).toBe(200)
  })

  it('lists services that changed RAG since the last run', async () => {
    const page = await officer.agent.get('/morning')
    expect(page.status).toBe(200)
    const changes = section(page.text, 'morning-rag-changes')
    expect(changes).toContain('Ash Lodge')
    expect(changes).toMatch(/Green[\s\S]*Amber/)
    expect(changes).not.toContain('Elm House')
  })

  it('lists services that lost DPS eligibility, and the review task opened for them', async () => {
    const page = await officer.agent.get('/morning')
    const events = section(page.text, 'morning-eligibility')
    expect(events).toContain('Elm House')
    expect(events).toContain('Lost eligibility')
    expect(events).toContain('Care Homes DPS, Residential')
    expect(events).not.toContain('Ash Lodge')
    const tasks = section(page.text, 'morning-review-tasks')
    expect(tasks).toContain('Elm House')
    expect(tasks).toContain('Review membership of Care Homes DPS')
  })

  it('lists overdue actions, not those still in time', async () => {
    const page = await officer.agent.get('/morning')
    const overdue = section(page.text, 'morning-overdue-actions')
    expect(overdue).toContain('Remedial notice')
    expect(overdue).toContain('Overdue by 22 days')
    expect(overdue).not.toContain('Notice of concern')
  })

  it('shows an action plan due 14 days after a Requires Improvement assessment, until one is opened', async () => {
    let page = await officer.agent.get('/morning')
    let due = section(page.text, 'morning-action-plans-due')
    expect(due).toContain('Oak Homecare')
    expect(due).toContain('action plan due by 24 November 2026')
    expect(due).toContain('/services/SVC-AMBER/actions/new?kind&#x3D;action_plan&amp;due&#x3D;2026-11-24')

    await services.compliance.actions.open(
      { serviceId: ids.amber, kind: 'action_plan', owner: 'x', openedOn: '2026-11-20', dueOn: null, notes: null },
      'test',
    )
    page = await officer.agent.get('/morning')
    due = section(page.text, 'morning-action-plans-due')
    expect(due).toBe('')
    expect(page.text).toContain('No action plans due.')
  })

  it('lists overrides expiring within 7 days', async () => {
    const page = await officer.agent.get('/morning')
    const expiring = section(page.text, 'morning-expiring-overrides')
    expect(expiring).toContain('Elm House')
    expect(expiring).toContain('26 November 2026')
    expect(expiring).not.toContain('Oak Homecare')
  })

  it('lists quality assessments overdue by the schedule', async () => {
    const page = await officer.agent.get('/morning')
    const overdue = section(page.text, 'morning-assessments-overdue')
    expect(overdue).toContain('Elm House')
    expect(overdue).toContain('1 February 2025')
    expect(overdue).not.toContain('Oak Homecare')
  })

  it('lists sources whose last refresh failed', async () => {
    const page = await officer.agent.get('/morning')
    const failed = section(page.text, 'morning-failed-sources')
    expect(failed).toContain('CQC: failed')
    // The error text is technical detail: on the admin run page, not on the officer's morning page.
    expect(failed).not.toContain('503')
    const { run_id: runId } = services.db
      .prepare("SELECT run_id FROM source_runs WHERE source = 'cqc' AND status = 'failed'")
      .get() as { run_id: number }
    const admin = await signIn(app, services, 'admin')
    expect((await admin.agent.get(`/admin/runs/${runId}`)).text).toContain('CQC API answered 503')
  })
})
