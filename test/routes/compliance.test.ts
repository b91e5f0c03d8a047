import request from 'supertest'
import type { Express } from 'express'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { addDays } from '../../src/domain/dates.js'
import type { Services } from '../../src/services/container.js'
import {
  appWithAllRoutes,
  createTestServices,
  fixedClock,
  signIn,
  TEST_TODAY,
  type SignedInAgent,
} from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

type Ids = Record<'red' | 'amber' | 'green', number>

function countRows(services: Services, table: 'rag_overrides' | 'compliance_actions'): number {
  return (services.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n
}

async function currentRag(services: Services, serviceId: number) {
  return (await services.runs.current(serviceId))?.result
}

/** The parts of a GOV.UK date input named `prefix-day` etc. */
function dateParts(prefix: string, iso: string): Record<string, string> {
  const [year, month, day] = iso.split('-')
  return {
    [`${prefix}-day`]: String(Number(day)),
    [`${prefix}-month`]: String(Number(month)),
    [`${prefix}-year`]: year!,
  }
}

async function runFullRefresh(services: Services): Promise<void> {
  const runId = await services.runs.startRun('full', { trigger: 'test' })
  const rules = await services.risk.activeRuleSet()
  const computed = await services.risk.stageAll(runId, rules, services.clock.today())
  await services.risk.publishFull(runId, computed)
}

describe('overrides', () => {
  let services: Services
  let app: Express
  let ids: Ids
  let officer: SignedInAgent
  let admin: SignedInAgent
  let assessor: SignedInAgent

  beforeEach(async () => {
    services = createTestServices()
    ids = await seedSmallBorough(services)
    app = appWithAllRoutes(services)
    officer = await signIn(app, services, 'compliance')
  })

  async function postOverride(agent: SignedInAgent, fields: Record<string, string>, ref = 'SVC-GREEN') {
    const csrf = await agent.csrf(`/services/${ref}/override`)
    return agent.agent
      .post(`/services/${ref}/override`)
      .type('form')
      .send({ _csrf: csrf, ...fields })
  }

  const valid = () => ({
    level: 'amber',
    reason: 'Whistleblowing concern under review',
    ...dateParts('expiresOn', '2026-12-20'),
  })

  describe('who may', () => {
    it('sends anonymous visitors to sign in and writes nothing for them', async () => {
      const form = await request(app).get('/services/SVC-GREEN/override')
      expect(form.status).toBe(302)
      expect(form.headers.location).toBe('/sign-in?returnTo=%2Fservices%2FSVC-GREEN%2Foverride')
      const post = await request(app).post('/services/SVC-GREEN/override').type('form').send(valid())
      expect([302, 403]).toContain(post.status)
      expect(countRows(services, 'rag_overrides')).toBe(0)
    })

    it('refuses assessors with 403, form and post', async () => {
      assessor = await signIn(app, services, 'assessor')
      expect((await assessor.agent.get('/services/SVC-GREEN/override')).status).toBe(403)
      const post = await postOverride(assessor, valid())
      expect(post.status).toBe(403)
      const revoke = await assessor.agent
        .post('/services/SVC-GREEN/override/1/revoke')
        .type('form')
        .send({ _csrf: await assessor.csrf('/') })
      expect(revoke.status).toBe(403)
      expect(countRows(services, 'rag_overrides')).toBe(0)
    })

    it('lets compliance officers and admins in', async () => {
      admin = await signIn(app, services, 'admin')
      for (const agent of [officer, admin]) {
        const form = await agent.agent.get('/services/SVC-GREEN/override')
        expect(form.status).toBe(200)
        expect(form.text).toContain('Override the RAG')
        expect(form.text).toContain('name="_csrf"')
      }
    })

    it('refuses a post without the CSRF token and writes nothing', async () => {
      const response = await officer.agent.post('/services/SVC-GREEN/override').type('form').send(valid())
      expect(response.status).toBe(403)
      expect(countRows(services, 'rag_overrides')).toBe(0)
    })

    it('gives 404 for an unknown service', async () => {
      expect((await officer.agent.get('/services/NOPE/override')).status).toBe(404)
      expect((await postOverride(officer, valid(), 'NOPE')).status).toBe(404)
    })
  })

  describe('bad input: the form again with the error summary, and nothing written', () => {
    const cases: Array<[string, Record<string, string>, string]> = [
      ['missing reason', { ...valid(), reason: '   ' }, 'Enter the reason for the override'],
      ['over-long reason', { ...valid(), reason: 'x'.repeat(1001) }, 'The reason must be 1000 characters or fewer'],
      ['unknown level', { ...valid(), level: 'purple' }, 'Select the RAG to override to'],
      ['missing level', { reason: 'r', ...dateParts('expiresOn', '2026-12-20') }, 'Select the RAG to override to'],
      ['missing expiry', { level: 'red', reason: 'r' }, 'Enter the expiry date'],
      [
        'expiry not a real date',
        { level: 'red', reason: 'r', ...dateParts('expiresOn', '2026-02-30') },
        'must be a real date',
      ],
      [
        'expiry in the past',
        { level: 'red', reason: 'r', ...dateParts('expiresOn', addDays(TEST_TODAY, -1)) },
        'must be today or in the future',
      ],
      [
        'expiry over 90 days ahead',
        { level: 'red', reason: 'r', ...dateParts('expiresOn', addDays(TEST_TODAY, 91)) },
        'within 90 days',
      ],
    ]

    it.each(cases)('%s', async (_name, fields, message) => {
      const auditBefore = await services.audit.count()
      const response = await postOverride(officer, fields)
      expect(response.status).toBe(400)
      expect(response.text).toContain('govuk-error-summary')
      expect(response.text).toContain('There is a problem')
      expect(response.text).toContain(message)
      expect(response.text).toMatch(/<title>Error: /)
      expect(countRows(services, 'rag_overrides')).toBe(0)
      expect(await services.audit.count()).toBe(auditBefore)
      expect((await currentRag(services, ids.green))?.rag).toBe('green')
    })

    it('keeps what was typed', async () => {
      const response = await postOverride(officer, {
        level: 'red',
        reason: 'Kept <b>text</b>',
        ...dateParts('expiresOn', '2027-06-01'),
      })
      expect(response.status).toBe(400)
      expect(response.text).toContain('Kept &lt;b&gt;text&lt;/b&gt;')
      expect(response.text).toMatch(/value="red" checked/)
      expect(response.text).toContain('value="2027"')
      expect(response.text).toContain('href="#expiresOn-day"')
    })

    it('accepts the 90th day and today', async () => {
      expect(
        (await postOverride(officer, { ...valid(), ...dateParts('expiresOn', addDays(TEST_TODAY, 90)) })).status,
      ).toBe(303)
      expect((await postOverride(officer, { ...valid(), ...dateParts('expiresOn', TEST_TODAY) })).status).toBe(303)
    })
  })

  it('changes the RAG at once and shows the override on the service page, the dashboard and the API', async () => {
    const response = await postOverride(officer, valid())
    expect(response.status).toBe(303)
    expect(response.headers.location).toBe('/services/SVC-GREEN#compliance')

    const risk = await currentRag(services, ids.green)
    expect(risk).toMatchObject({ rag: 'amber', computedRag: 'green' })

    const page = await officer.agent.get('/services/SVC-GREEN')
    expect(page.text).toContain('manual override')
    expect(page.text).toContain('Whistleblowing concern under review')
    expect(page.text).toMatch(/data-testid="compliance-override"[\s\S]*Amber[\s\S]*20 December 2026/)

    const api = await officer.agent.get('/api/v1/services/SVC-GREEN')
    expect(api.status).toBe(200)
    expect(api.body).toMatchObject({
      rag: 'amber',
      computedRag: 'green',
      override: { level: 'amber', reason: 'Whistleblowing concern under review', expiresOn: '2026-12-20' },
    })

    const [entry] = await services.audit.list({ entityType: 'service', entityId: ids.green, limit: 1 })
    expect(entry).toMatchObject({ action: 'override.set', actor: 'compliance@test.example' })
  })

  it('revokes early: the computed RAG is back at once, and the revocation is audited', async () => {
    await postOverride(officer, { ...valid(), level: 'red' })
    const [override] = await services.compliance.overrides.listForService(ids.green)
    const confirm = await officer.agent.get(`/services/SVC-GREEN/override/${override!.id}/revoke`)
    expect(confirm.status).toBe(200)
    const revoke = await officer.agent
      .post(`/services/SVC-GREEN/override/${override!.id}/revoke`)
      .type('form')
      .send({ _csrf: await officer.csrf('/services/SVC-GREEN'), reason: 'Concern resolved at the visit' })
    expect(revoke.status).toBe(303)
    expect((await currentRag(services, ids.green))?.rag).toBe('green')
    expect(await services.audit.count({ action: 'override.revoked', entityId: ids.green })).toBe(1)
    const other = await officer.agent
      .post(`/services/SVC-RED/override/${override!.id}/revoke`)
      .type('form')
      .send({ _csrf: await officer.csrf('/'), reason: 'Wrong service' })
    expect(other.status).toBe(404)
  })

  it('stops applying once expired, at the next run', async () => {
    // createTestServices runs on a fixedClock, which the test moves on.
    const clock = services.clock as ReturnType<typeof fixedClock>
    await postOverride(officer, { ...valid(), level: 'red', ...dateParts('expiresOn', addDays(TEST_TODAY, 2)) })
    expect((await currentRag(services, ids.green))?.rag).toBe('red')

    clock.set(addDays(TEST_TODAY, 2))
    await runFullRefresh(services)
    expect((await currentRag(services, ids.green))?.rag).toBe('red')

    clock.set(addDays(TEST_TODAY, 3))
    await runFullRefresh(services)
    const after = await currentRag(services, ids.green)
    expect(after).toMatchObject({ rag: 'green', override: null })
    const api = await officer.agent.get('/api/v1/services/SVC-GREEN')
    expect(api.body.override).toBeNull()
  })
})

describe('compliance actions', () => {
  let services: Services
  let app: Express
  let ids: Ids
  let officer: SignedInAgent

  beforeAll(async () => {
    services = createTestServices()
    ids = await seedSmallBorough(services)
    app = appWithAllRoutes(services)
    officer = await signIn(app, services, 'compliance')
  })

  async function openAction(fields: Record<string, string>, agent = officer) {
    return agent.agent
      .post('/services/SVC-AMBER/actions')
      .type('form')
      .send({ _csrf: await agent.csrf('/services/SVC-AMBER/actions/new'), ...fields })
  }

  const valid = () => ({
    kind: 'notice_of_concern',
    owner: 'Sam Officer',
    ...dateParts('openedOn', '2026-11-01'),
    ...dateParts('dueOn', '2026-11-15'),
    notes: 'Raised at the quarterly meeting',
  })

  it('is for compliance officers and admins only', async () => {
    const assessor = await signIn(app, services, 'assessor')
    expect((await assessor.agent.get('/services/SVC-AMBER/actions/new')).status).toBe(403)
    const post = await assessor.agent
      .post('/services/SVC-AMBER/actions')
      .type('form')
      .send({ _csrf: await assessor.csrf('/'), ...valid() })
    expect(post.status).toBe(403)
    expect((await request(app).get('/services/SVC-AMBER/actions/new')).status).toBe(302)
    const admin = await signIn(app, services, 'admin')
    expect((await admin.agent.get('/services/SVC-AMBER/actions/new')).status).toBe(200)
    expect(countRows(services, 'compliance_actions')).toBe(0)
  })

  it('refuses a post without the CSRF token', async () => {
    const response = await officer.agent.post('/services/SVC-AMBER/actions').type('form').send(valid())
    expect(response.status).toBe(403)
    expect(countRows(services, 'compliance_actions')).toBe(0)
  })

  it('pre-fills the form, and the action plan kind and due date from a link', async () => {
    const form = await officer.agent.get('/services/SVC-AMBER/actions/new?kind=action_plan&due=2026-12-01')
    expect(form.status).toBe(200)
    expect(form.text).toMatch(/<option value="action_plan" selected>/)
    expect(form.text).toContain('value="compliance@test.example"')
    expect(form.text).toMatch(/id="dueOn-day"[^>]*value="1"/)
    const ignored = await officer.agent.get('/services/SVC-AMBER/actions/new?kind=bogus&due=nope')
    expect(ignored.status).toBe(200)
  })

  const bad: Array<[string, Record<string, string>, string]> = [
    ['missing kind', { ...valid(), kind: '' }, 'Select the type of action'],
    ['unknown kind', { ...valid(), kind: 'warning_letter' }, 'Select the type of action'],
    ['missing owner', { ...valid(), owner: '' }, 'Enter who owns the action'],
    ['over-long owner', { ...valid(), owner: 'o'.repeat(201) }, 'The owner must be 200 characters or fewer'],
    ['over-long notes', { ...valid(), notes: 'n'.repeat(5001) }, 'Notes must be 5000 characters or fewer'],
    [
      'opened in the future',
      { ...valid(), ...dateParts('openedOn', addDays(TEST_TODAY, 1)) },
      'The date opened must be today or in the past',
    ],
    [
      'missing opened date',
      { ...valid(), 'openedOn-day': '', 'openedOn-month': '', 'openedOn-year': '' },
      'Enter the date opened',
    ],
    [
      'due before opened',
      { ...valid(), ...dateParts('dueOn', '2026-10-01') },
      'The due date must be on or after the date opened',
    ],
    ['due not a date', { ...valid(), 'dueOn-day': 'x' }, 'The due date must be a real date'],
  ]

  it.each(bad)(
    'bad input (%s): the form again with the error summary, nothing written',
    async (_n, fields, message) => {
      const auditBefore = await services.audit.count()
      const response = await openAction(fields)
      expect(response.status).toBe(400)
      expect(response.text).toContain('govuk-error-summary')
      expect(response.text).toContain(message)
      expect(countRows(services, 'compliance_actions')).toBe(0)
      expect(await services.audit.count()).toBe(auditBefore)
    },
  )

  it('opens, lists with open or overdue state, and closes an action, audited', async () => {
    const opened = await openAction(valid())
    expect(opened.status).toBe(303)
    expect(opened.headers.location).toBe('/services/SVC-AMBER#compliance')
    await openAction({ ...valid(), kind: 'improvement_plan', ...dateParts('dueOn', '2026-12-31') })

    const page = await officer.agent.get('/services/SVC-AMBER')
    const table = /data-testid="compliance-actions-table"[\s\S]*?<\/table>/.exec(page.text)?.[0] ?? ''
    expect(table).toMatch(/Notice of concern[\s\S]*?Overdue/)
    expect(table).toMatch(/Improvement plan[\s\S]*?Open/)

    const [action] = (await services.compliance.actions.listForService(ids.amber)).filter(
      (a) => a.kind === 'notice_of_concern',
    )
    const detail = await officer.agent.get(`/services/SVC-AMBER/actions/${action!.id}`)
    expect(detail.status).toBe(200)
    expect(detail.text).toContain('Raised at the quarterly meeting')
    expect(detail.text).toContain('Close the action')

    const closeUrl = `/services/SVC-AMBER/actions/${action!.id}/close`
    const csrf = await officer.csrf(`/services/SVC-AMBER/actions/${action!.id}`)
    const missing = await officer.agent
      .post(closeUrl)
      .type('form')
      .send({ _csrf: csrf, ...dateParts('closedOn', '2026-11-20') })
    expect(missing.status).toBe(400)
    expect(missing.text).toContain('Enter the outcome')
    const early = await officer.agent
      .post(closeUrl)
      .type('form')
      .send({ _csrf: csrf, outcome: 'x', ...dateParts('closedOn', '2026-10-01') })
    expect(early.status).toBe(400)
    expect(early.text).toContain('on or after the date opened')
    expect((await services.compliance.actions.findById(action!.id))?.closedOn).toBeNull()

    const closed = await officer.agent
      .post(closeUrl)
      .type('form')
      .send({ _csrf: csrf, outcome: 'Provider responded in full', ...dateParts('closedOn', '2026-11-20') })
    expect(closed.status).toBe(303)
    expect(await services.compliance.actions.findById(action!.id)).toMatchObject({
      closedOn: '2026-11-20',
      outcome: 'Provider responded in full',
      closedBy: 'compliance@test.example',
    })
    const again = await officer.agent
      .post(closeUrl)
      .type('form')
      .send({ _csrf: csrf, outcome: 'Twice', ...dateParts('closedOn', '2026-11-21') })
    expect(again.status).toBe(400)
    expect(again.text).toContain('already been closed')

    const actions = (await services.audit.list({ entityType: 'service', entityId: ids.amber, limit: 10 })).map(
      (e) => e.action,
    )
    expect(actions).toEqual(['action.closed', 'action.opened', 'action.opened'])
    expect((await officer.agent.get(`/services/SVC-RED/actions/${action!.id}`)).status).toBe(404)
  })
})

describe('an action plan is due 14 days after a Requires Improvement or Poor assessment (SPEC §7, §8)', () => {
  let services: Services
  let app: Express
  let ids: Ids
  let officer: SignedInAgent

  beforeAll(async () => {
    services = createTestServices()
    ids = await seedSmallBorough(services)
    // Oak Homecare (SVC-AMBER) was assessed Requires Improvement on 10 November 2026: its action plan is due on the 24th.
    await services.observations.append([
      {
        serviceId: ids.amber,
        indicator: 'quality_assessment',
        source: 'council_form',
        observedOn: '2026-11-10',
        value: 'requires_improvement',
        naturalKey: 'qa:amber:ri',
      },
    ])
    await services.risk.recomputeServices([ids.amber], 'test')
    app = appWithAllRoutes(services)
    officer = await signIn(app, services, 'compliance')
  })

  async function openPlan(ref: string, fields: Record<string, string>) {
    return officer.agent
      .post(`/services/${ref}/actions`)
      .type('form')
      .send({
        _csrf: await officer.csrf(`/services/${ref}/actions/new`),
        kind: 'action_plan',
        owner: 'Sam Officer',
        ...dateParts('openedOn', TEST_TODAY),
        ...fields,
      })
  }

  it('says so on the form and fills in the due date for an action plan', async () => {
    const form = await officer.agent.get('/services/SVC-AMBER/actions/new?kind=action_plan')
    expect(form.status).toBe(200)
    expect(form.text).toContain(
      'The Requires Improvement assessment of 10 November 2026 needs an action plan by 24 November 2026',
    )
    expect(form.text).toMatch(/id="dueOn-day"[^>]*value="24"/)
    expect(form.text).toMatch(/id="dueOn-month"[^>]*value="11"/)
    // Another kind of action is not given the action plan's date; a service that owes nothing gets no message.
    expect((await officer.agent.get('/services/SVC-AMBER/actions/new?kind=notice_of_concern')).text).not.toMatch(
      /id="dueOn-day"[^>]*value="24"/,
    )
    const green = await officer.agent.get('/services/SVC-GREEN/actions/new?kind=action_plan')
    expect(green.text).not.toContain('data-testid="action-plan-owed"')
  })

  it('dates an action plan opened without a due date 14 days after the assessment; a given date stays', async () => {
    const opened = await openPlan('SVC-AMBER', {})
    expect(opened.status).toBe(303)
    const [plan] = await services.compliance.actions.listForService(ids.amber)
    expect(plan).toMatchObject({ kind: 'action_plan', dueOn: '2026-11-24' })
    // Once a plan is open the service owes none, and the form stops saying so.
    expect(await services.compliance.actionPlanDueFor(ids.amber)).toBeNull()
    const form = await officer.agent.get('/services/SVC-AMBER/actions/new?kind=action_plan')
    expect(form.text).not.toContain('data-testid="action-plan-owed"')

    // A service with no such assessment: no due date is invented.
    expect((await openPlan('SVC-GREEN', {})).status).toBe(303)
    expect((await services.compliance.actions.listForService(ids.green))[0]?.dueOn).toBeNull()
    // A due date typed in is kept.
    expect((await openPlan('SVC-GREEN', dateParts('dueOn', '2026-12-10'))).status).toBe(303)
    expect((await services.compliance.actions.listForService(ids.green)).map((a) => a.dueOn)).toContain('2026-12-10')
  })

  it('links the assessment page to the action plan it needs', async () => {
    const [assessment] = await services.assessments.assessmentsFor(ids.amber)
    const page = await officer.agent.get(`/services/SVC-AMBER/assessments/${assessment!.id}`)
    expect(page.text).toContain('href="/services/SVC-AMBER/actions/new?kind&#x3D;action_plan&amp;due&#x3D;2026-11-24"')
  })
})

describe('the service page for each role', () => {
  let services: Services
  let app: Express

  beforeAll(async () => {
    services = createTestServices()
    await seedSmallBorough(services)
    app = appWithAllRoutes(services)
  })

  it('shows the compliance section with its forms and audit to compliance officers and admins', async () => {
    for (const role of ['compliance', 'admin'] as const) {
      const agent = await signIn(app, services, role)
      const page = await agent.agent.get('/services/SVC-GREEN')
      expect(page.text).toContain('data-testid="compliance-section"')
      expect(page.text).toContain('href="/services/SVC-GREEN/override"')
      expect(page.text).toContain('href="/services/SVC-GREEN/actions/new"')
      expect(page.text).toContain('Audit log')
    }
  })

  it('shows assessors no compliance section, no forms and no audit', async () => {
    const assessor = await signIn(app, services, 'assessor')
    const page = await assessor.agent.get('/services/SVC-GREEN')
    expect(page.status).toBe(200)
    expect(page.text).not.toContain('compliance-section')
    expect(page.text).not.toContain('/override')
    expect(page.text).not.toContain('/actions/new')
  })
})
