import type { Express } from 'express'
import request from 'supertest'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Services } from '../../src/services/container.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

let services: Services
let app: Express
let compliance: SignedInAgent
let admin: SignedInAgent
let assessor: SignedInAgent
let ids: Record<'red' | 'amber' | 'green', number>

beforeAll(async () => {
  services = createTestServices()
  ids = await seedSmallBorough(services)
  app = appWithAllRoutes(services)
  compliance = await signIn(app, services, 'compliance')
  admin = await signIn(app, services, 'admin')
  assessor = await signIn(app, services, 'assessor')
})

const count = () => services.observations.count()
const auditCount = () => services.audit.count()

/** The fields of a GOV.UK date input named `name`. */
function dateFields(name: string, iso: string): Record<string, string> {
  const [year, month, day] = iso.split('-') as [string, string, string]
  return { [`${name}-day`]: String(Number(day)), [`${name}-month`]: String(Number(month)), [`${name}-year`]: year }
}

async function post(agent: SignedInAgent, path: string, fields: Record<string, unknown>) {
  const csrf = await agent.csrf('/intelligence')
  return agent.agent
    .post(path)
    .type('form')
    .send({ ...fields, _csrf: csrf })
}

const FORM_PAGES = [
  '/intelligence',
  '/services/SVC-GREEN/intelligence',
  '/services/SVC-GREEN/intelligence/new',
  '/services/SVC-GREEN/intelligence/new?kind=embargo',
]

describe('who may use the intelligence forms', () => {
  it('sends anonymous visitors to sign in', async () => {
    for (const path of FORM_PAGES) {
      const response = await request(app).get(path)
      expect(response.status, path).toBe(302)
      expect(response.headers.location).toMatch(/^\/sign-in/)
    }
  })

  it('refuses assessors every form page and every post, writing nothing', async () => {
    for (const path of FORM_PAGES) {
      expect((await assessor.agent.get(path)).status, path).toBe(403)
    }
    const before = await count()
    const response = await post(assessor, '/services/SVC-GREEN/intelligence', {
      kind: 'embargo',
      ...dateFields('date', '2026-11-01'),
    })
    expect(response.status).toBe(403)
    expect(await count()).toBe(before)
  })

  it('hides the links from assessors and shows them to compliance', async () => {
    const asAssessor = await assessor.agent.get('/services/SVC-GREEN')
    expect(asAssessor.text).not.toContain('Record intelligence')
    expect(asAssessor.text).not.toContain('/intelligence')
    const asCompliance = await compliance.agent.get('/services/SVC-GREEN')
    expect(asCompliance.text).toContain('href="/services/SVC-GREEN/intelligence/new"')
  })

  it('lets compliance officers and admins in', async () => {
    for (const agent of [compliance, admin]) {
      for (const path of FORM_PAGES) {
        const response = await agent.agent.get(path)
        expect(response.status, path).toBe(200)
        expect(response.headers['cache-control']).toContain('no-store')
      }
    }
  })

  it('shows one form per kind with the GOV.UK date input', async () => {
    const response = await compliance.agent.get('/services/SVC-GREEN/intelligence/new?kind=embargo')
    expect(response.text).toContain('name="date-day"')
    expect(response.text).toContain('name="end_date-year"')
    expect(response.text).toContain('name="_csrf"')
    const concern = await compliance.agent.get('/services/SVC-GREEN/intelligence/new?kind=contract_concern')
    expect(concern.text).toContain('value="not_substantiated"')
    expect(concern.text).not.toContain('name="end_date-day"')
  })

  it('gives 404 for an unknown service', async () => {
    expect((await compliance.agent.get('/services/NOPE/intelligence/new?kind=embargo')).status).toBe(404)
  })
})

describe('CSRF', () => {
  it('refuses a form post without the token and writes nothing', async () => {
    const before = await count()
    const response = await compliance.agent
      .post('/services/SVC-GREEN/intelligence')
      .type('form')
      .send({ kind: 'embargo', ...dateFields('date', '2026-11-01') })
    expect(response.status).toBe(403)
    expect(await count()).toBe(before)
  })
})

describe('bad input gets the form again with the error summary, and nothing is written', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['missing date', { kind: 'embargo' }, /Start date of the embargo is required/],
    ['date without a month', { kind: 'embargo', 'date-day': '1', 'date-year': '2026' }, /must include a month/],
    [
      'a date that does not exist',
      { kind: 'embargo', ...dateFields('date', '2026-02-01'), 'date-day': '31' },
      /must be a real date/,
    ],
    [
      'letters in a date',
      { kind: 'embargo', 'date-day': 'x', 'date-month': '1', 'date-year': '2026' },
      /must be a real date/,
    ],
    ['a date in the future', { kind: 'safeguarding_decision', ...dateFields('date', '2026-12-25') }, /in the future/],
    [
      'an end date before the start',
      { kind: 'embargo', ...dateFields('date', '2026-10-01'), ...dateFields('end_date', '2026-09-01') },
      /before date/,
    ],
    [
      'a resolved date in the future',
      { kind: 'default_notice', ...dateFields('date', '2026-10-01'), ...dateFields('end_date', '2027-01-01') },
      /in the future/,
    ],
    [
      'an unknown outcome',
      { kind: 'contract_concern', ...dateFields('date', '2026-10-01'), outcome: 'upheld' },
      /is not an outcome for contract_concern/,
    ],
    [
      'a missing required outcome',
      { kind: 'contract_concern', ...dateFields('date', '2026-10-01') },
      /Outcome is required/,
    ],
    [
      'an over-long reference',
      { kind: 'embargo', ...dateFields('date', '2026-10-01'), reference: 'R'.repeat(201) },
      /Reference is 201 characters long; the limit is 200/,
    ],
    [
      'over-long notes',
      { kind: 'embargo', ...dateFields('date', '2026-10-01'), notes: 'n'.repeat(4001) },
      /Notes is 4,001 characters long/,
    ],
    [
      'a field sent twice',
      { kind: 'embargo', ...dateFields('date', '2026-10-01'), reference: ['A', 'B'] },
      /Reference must be a single value/,
    ],
  ]

  for (const [name, fields, message] of cases) {
    it(name, async () => {
      const before = await count()
      const audits = await auditCount()
      const response = await post(compliance, '/services/SVC-GREEN/intelligence', fields)
      expect(response.status).toBe(400)
      expect(response.text).toContain('govuk-error-summary')
      expect(response.text).toMatch(message)
      expect(response.text).toMatch(/<title>Error: /)
      expect(await count()).toBe(before)
      expect(await auditCount()).toBe(audits)
    })
  }

  it('keeps the values entered', async () => {
    const response = await post(compliance, '/services/SVC-GREEN/intelligence', {
      kind: 'embargo',
      'date-day': '3',
      'date-year': '2026',
      reference: 'EMB-<b>77</b>',
      notes: 'Kept note',
    })
    expect(response.status).toBe(400)
    expect(response.text).toContain('value="3"')
    expect(response.text).toContain('value="EMB-&lt;b&gt;77&lt;/b&gt;"')
    expect(response.text).toContain('Kept note')
  })

  it('refuses an unknown kind', async () => {
    const before = await count()
    const response = await post(compliance, '/services/SVC-GREEN/intelligence', {
      kind: 'parking_fine',
      ...dateFields('date', '2026-10-01'),
    })
    expect(response.status).toBe(400)
    expect(response.text).toContain('Select the kind of intelligence')
    expect(await count()).toBe(before)
    const page = await compliance.agent.get('/services/SVC-GREEN/intelligence/new?kind=parking_fine')
    expect(page.status).toBe(400)
  })

  it('refuses a reference already recorded for the service', async () => {
    const fields = {
      kind: 'contract_concern',
      ...dateFields('date', '2026-09-01'),
      outcome: 'open',
      reference: 'CC-DUP',
    }
    expect((await post(compliance, '/services/SVC-RED/intelligence', fields)).status).toBe(303)
    const before = await count()
    const again = await post(compliance, '/services/SVC-RED/intelligence', fields)
    expect(again.status).toBe(400)
    expect(again.text).toContain('CC-DUP is already recorded for this service')
    expect(await count()).toBe(before)
  })
})

describe('acceptance: a safeguarding decision turns a Green service Amber at once', () => {
  it('records it, recomputes before answering, and shows the reason on the service page and in the API', async () => {
    const before = await services.runs.current(ids.green)
    expect(before?.result.rag).toBe('green')
    const apiBefore = await compliance.agent.get('/api/v1/services/SVC-GREEN')
    expect(apiBefore.body.rag).toBe('green')

    const form = await compliance.agent.get('/services/SVC-GREEN/intelligence/new?kind=safeguarding_decision')
    expect(form.status).toBe(200)
    const response = await post(compliance, '/services/SVC-GREEN/intelligence', {
      kind: 'safeguarding_decision',
      ...dateFields('date', '2026-11-20'),
      outcome: 'open',
      reference: 'SG-4001',
      notes: 'Allegation of neglect, enquiry opened',
    })
    expect(response.status).toBe(303)
    const location = response.headers.location as string
    expect(location).toMatch(/^\/services\/SVC-GREEN\/intelligence\/\d+\?saved=recorded$/)

    const confirmation = await compliance.agent.get(location)
    expect(confirmation.status).toBe(200)
    expect(confirmation.text).toMatch(/Ash Lodge is now <strong class="govuk-tag govuk-tag--orange">Amber<\/strong>/)
    expect(confirmation.text).toContain('SG-4001')

    const page = await compliance.agent.get('/services/SVC-GREEN')
    expect(page.text).toMatch(/app-tag--large">Amber</)
    expect(page.text).toMatch(/safeguarding/i)
    expect(page.text).toContain('Allegation of neglect, enquiry opened')

    const api = await compliance.agent.get('/api/v1/services/SVC-GREEN')
    expect(api.body.rag).toBe('amber')
    const safeguarding = api.body.indicators.find((i: { key: string }) => i.key === 'safeguarding')
    expect(safeguarding.level).toBe('amber')
    expect(api.body.reasons.join(' ')).toMatch(/safeguarding/i)

    // The entry made its own run and is audited with who, what and after.
    const runs = await services.runs.listRuns({ kind: 'entry', limit: 1 })
    expect(runs[0]?.trigger).toContain('safeguarding_decision SVC-GREEN')
    const [audit] = await services.audit.list({ limit: 1, action: 'intelligence.recorded' })
    expect(audit?.actor).toBe('compliance@test.example')
    expect(audit?.entityId).toBe('SVC-GREEN')
    expect(audit?.after).toMatchObject({ kind: 'safeguarding_decision', reference: 'SG-4001', date: '2026-11-20' })

    // The assessor sees the colour and the reason but neither the note nor the reference.
    const asAssessor = await assessor.agent.get('/services/SVC-GREEN')
    expect(asAssessor.text).toMatch(/app-tag--large">Amber</)
    expect(asAssessor.text).not.toContain('Allegation of neglect')
    expect(asAssessor.text).not.toContain('SG-4001')
  })
})

describe('changing an entry keeps the earlier version', () => {
  it('lifts an embargo with a new version, audited with before and after', async () => {
    const created = await post(admin, '/services/SVC-AMBER/intelligence', {
      kind: 'embargo',
      ...dateFields('date', '2026-11-02'),
      reference: 'EMB-9',
    })
    expect(created.status).toBe(303)
    const id = Number(/intelligence\/(\d+)/.exec(created.headers.location as string)?.[1])
    const embargoed = await services.runs.current(ids.amber)
    expect(embargoed?.result.rag).toBe('red')

    const editForm = await admin.agent.get(`/services/SVC-AMBER/intelligence/${id}/edit`)
    expect(editForm.status).toBe(200)
    expect(editForm.text).toContain('value="EMB-9"')
    expect((await assessor.agent.get(`/services/SVC-AMBER/intelligence/${id}/edit`)).status).toBe(403)

    const before = await count()
    const lifted = await post(admin, `/services/SVC-AMBER/intelligence/${id}/edit`, {
      ...dateFields('date', '2026-11-02'),
      ...dateFields('end_date', '2026-11-22'),
      reference: 'EMB-9',
    })
    expect(lifted.status).toBe(303)
    expect(await count()).toBe(before + 1)
    const newId = Number(/intelligence\/(\d+)/.exec(lifted.headers.location as string)?.[1])
    expect(newId).not.toBe(id)

    const after = await services.runs.current(ids.amber)
    expect(after?.result.rag).toBe('amber')
    const confirmation = await admin.agent.get(lifted.headers.location as string)
    expect(confirmation.text).toContain('New version saved.')
    expect(confirmation.text).toContain('Lifted 22 November 2026')
    expect(confirmation.text).toContain('Earlier version')

    const old = await services.observations.findById(id)
    expect(old?.supersededById).toBe(newId)
    const list = await admin.agent.get('/services/SVC-AMBER/intelligence')
    expect(list.text).toContain('data-testid="earlier-versions"')
    const servicePage = await admin.agent.get('/services/SVC-AMBER')
    expect(servicePage.text).toContain('(earlier version)')

    const [audit] = await services.audit.list({ limit: 1, action: 'intelligence.changed' })
    expect(audit?.before).toMatchObject({ observationId: id, endDate: null })
    expect(audit?.after).toMatchObject({ observationId: newId, endDate: '2026-11-22' })
  })

  it('refuses to change an earlier version (409) and an unchanged save (400), writing nothing', async () => {
    const created = await post(compliance, '/services/SVC-RED/intelligence', {
      kind: 'default_notice',
      ...dateFields('date', '2026-10-10'),
    })
    const id = Number(/intelligence\/(\d+)/.exec(created.headers.location as string)?.[1])
    const unchanged = await post(
      compliance,
      `/services/SVC-RED/intelligence/${id}/edit`,
      dateFields('date', '2026-10-10'),
    )
    expect(unchanged.status).toBe(400)
    expect(unchanged.text).toContain('Nothing has changed')
    const resolved = await post(compliance, `/services/SVC-RED/intelligence/${id}/edit`, {
      ...dateFields('date', '2026-10-10'),
      ...dateFields('end_date', '2026-11-01'),
    })
    expect(resolved.status).toBe(303)
    const before = await count()
    const stale = await post(compliance, `/services/SVC-RED/intelligence/${id}/edit`, {
      ...dateFields('date', '2026-10-10'),
      ...dateFields('end_date', '2026-11-05'),
    })
    expect(stale.status).toBe(409)
    expect(stale.text).toContain('replaced by a later version')
    expect(await count()).toBe(before)
  })

  it('does not offer to edit what is not an intelligence entry', async () => {
    const history = await services.observations.listHistory(ids.red)
    const cqc = history.find((o) => o.indicator === 'cqc_rating')
    expect((await compliance.agent.get(`/services/SVC-RED/intelligence/${cqc?.id}/edit`)).status).toBe(404)
    // Nor an entry of another service under this one's address.
    const other = (await services.observations.listHistory(ids.amber)).find((o) => o.indicator === 'safeguarding')
    expect((await compliance.agent.get(`/services/SVC-RED/intelligence/${other?.id}`)).status).toBe(404)
  })
})

describe('the start page', () => {
  it('sends a chosen service and kind to the form', async () => {
    const response = await compliance.agent.get('/intelligence?service=SVC-RED&kind=unexpected_death')
    expect(response.status).toBe(303)
    expect(response.headers.location).toBe('/services/SVC-RED/intelligence/new?kind=unexpected_death')
  })

  it('explains an unknown service and a missing kind', async () => {
    const response = await compliance.agent.get('/intelligence?service=NOPE')
    expect(response.status).toBe(400)
    expect(response.text).toContain('There is no service NOPE')
    expect(response.text).toContain('Select the kind of intelligence')
  })
})
