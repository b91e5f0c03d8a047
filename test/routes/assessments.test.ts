import type { Express } from 'express'
import request from 'supertest'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Services } from '../../src/services/container.js'
import { appWithAllRoutes, createTestServices, signIn, TEST_TODAY, type SignedInAgent } from '../helpers/appHarness.js'
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
const clock = () => services.clock as unknown as { set(day: string): void }

function dateFields(iso: string): Record<string, string> {
  const [year, month, day] = iso.split('-') as [string, string, string]
  return {
    'assessment_date-day': String(Number(day)),
    'assessment_date-month': String(Number(month)),
    'assessment_date-year': year,
  }
}

async function post(agent: SignedInAgent, path: string, fields: Record<string, unknown>) {
  const csrf = await agent.csrf('/assessments/due')
  return agent.agent
    .post(path)
    .type('form')
    .send({ ...fields, _csrf: csrf })
}

const idFrom = (location: string) => Number(/assessments\/(\d+)/.exec(location)?.[1])

const qualityLevel = async (serviceId: number) =>
  (await services.runs.current(serviceId))?.result.indicators.find((i) => i.key === 'quality_assessment')?.level

describe('who may use the assessment pages', () => {
  const pages = ['/assessments/due', '/services/SVC-RED/assessments', '/services/SVC-RED/assessments/new']

  it('sends anonymous visitors to sign in', async () => {
    for (const path of pages) expect((await request(app).get(path)).status, path).toBe(302)
  })

  it('refuses assessors every page and post, writing nothing', async () => {
    for (const path of pages) expect((await assessor.agent.get(path)).status, path).toBe(403)
    const before = await count()
    const response = await post(assessor, '/services/SVC-RED/assessments', {
      ...dateFields('2026-11-01'),
      outcome: 'poor',
      stage: 'published',
    })
    expect(response.status).toBe(403)
    expect(await count()).toBe(before)
    expect((await assessor.agent.get('/services/SVC-RED')).text).not.toContain('/assessments')
  })

  it('lets compliance and admin in', async () => {
    for (const agent of [compliance, admin]) {
      for (const path of pages) expect((await agent.agent.get(path)).status, path).toBe(200)
    }
  })

  it('refuses a post without the CSRF token', async () => {
    const before = await count()
    const response = await compliance.agent
      .post('/services/SVC-RED/assessments')
      .type('form')
      .send({ ...dateFields('2026-11-01'), outcome: 'poor', stage: 'draft' })
    expect(response.status).toBe(403)
    expect(await count()).toBe(before)
  })
})

describe('bad input gets the form again with the error summary, and nothing is written', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a missing date', { outcome: 'good', stage: 'draft' }, /Date of the assessment is required/],
    [
      'a date without a year',
      { 'assessment_date-day': '1', 'assessment_date-month': '2', outcome: 'good', stage: 'draft' },
      /must include a year/,
    ],
    ['a date in the future', { ...dateFields('2027-01-01'), outcome: 'good', stage: 'draft' }, /in the future/],
    ['a missing outcome', { ...dateFields('2026-11-01'), stage: 'draft' }, /Outcome is required/],
    [
      'an unknown outcome',
      { ...dateFields('2026-11-01'), outcome: 'superb', stage: 'draft' },
      /is not one of: excellent, good/,
    ],
    [
      'an unknown domain rating',
      { ...dateFields('2026-11-01'), outcome: 'good', domain_3: 'okay', stage: 'draft' },
      /Rating for Safeguarding and safety/,
    ],
    [
      'an over-long assessor',
      { ...dateFields('2026-11-01'), outcome: 'good', assessor: 'a'.repeat(201), stage: 'draft' },
      /Assessor is 201 characters long/,
    ],
    [
      'an unknown stage',
      { ...dateFields('2026-11-01'), outcome: 'good', stage: 'final' },
      /draft or already published/,
    ],
    [
      'a repeated field',
      { ...dateFields('2026-11-01'), outcome: ['good', 'poor'], stage: 'draft' },
      /Outcome must be a single value/,
    ],
  ]
  for (const [name, fields, message] of cases) {
    it(name, async () => {
      const before = await count()
      const audits = await services.audit.count()
      const response = await post(compliance, '/services/SVC-GREEN/assessments', fields)
      expect(response.status).toBe(400)
      expect(response.text).toContain('govuk-error-summary')
      expect(response.text).toMatch(message)
      expect(await count()).toBe(before)
      expect(await services.audit.count()).toBe(audits)
    })
  }
})

describe('the assessment cycle', () => {
  it('a draft does not count; the challenge runs 14 days; publishing makes it count', async () => {
    clock().set(TEST_TODAY)
    expect(await qualityLevel(ids.red)).toBe('none')
    const created = await post(compliance, '/services/SVC-RED/assessments', {
      ...dateFields('2026-11-10'),
      outcome: 'requires_improvement',
      assessor: 'Pat Assessor',
      domain_1: 'good',
      domain_3: 'poor',
      stage: 'draft',
    })
    expect(created.status).toBe(303)
    const draftId = idFrom(created.headers.location as string)
    expect(await qualityLevel(ids.red)).toBe('none')

    const draftPage = await compliance.agent.get(created.headers.location as string)
    expect(draftPage.text).toContain('Assessment saved.')
    expect(draftPage.text).toMatch(/data-testid="status">Draft</)
    expect(draftPage.text).toMatch(/data-testid="action-plan-due">24 November 2026/)
    expect(draftPage.text).toMatch(/data-testid="reassessment-due">10 May 2027/)
    expect(draftPage.text).toContain('Start the 14-day challenge')

    // Publishing a draft directly is the wrong step.
    const before = await count()
    const early = await post(compliance, `/services/SVC-RED/assessments/${draftId}/status`, { action: 'publish' })
    expect(early.status).toBe(409)
    expect(await count()).toBe(before)

    const challenged = await post(compliance, `/services/SVC-RED/assessments/${draftId}/status`, {
      action: 'challenge',
    })
    expect(challenged.status).toBe(303)
    const challengeId = idFrom(challenged.headers.location as string)
    const challengePage = await compliance.agent.get(challenged.headers.location as string)
    expect(challengePage.text).toMatch(/data-testid="status">Factual-accuracy challenge</)
    expect(challengePage.text).toContain('23 November 2026 to 7 December 2026')
    expect(await qualityLevel(ids.red)).toBe('none')

    // Within the window: only with the provider's acceptance.
    const refused = await post(compliance, `/services/SVC-RED/assessments/${challengeId}/status`, { action: 'publish' })
    expect(refused.status).toBe(400)
    expect(refused.text).toContain('The challenge window is open until 2026-12-07')
    expect(await count()).toBe(before + 1)

    clock().set('2026-12-07')
    const published = await post(compliance, `/services/SVC-RED/assessments/${challengeId}/status`, {
      action: 'publish',
    })
    expect(published.status).toBe(303)
    expect(await qualityLevel(ids.red)).toBe('amber')
    const publishedPage = await compliance.agent.get(published.headers.location as string)
    expect(publishedPage.text).toContain('Assessment published.')
    expect(publishedPage.text).toMatch(/data-testid="versions"/)

    const actions = (await services.audit.list({ limit: 10, entityId: 'SVC-RED' })).map((a) => a.action)
    expect(actions.slice(0, 3)).toEqual(['assessment.published', 'assessment.challenge_started', 'assessment.recorded'])
    const [publishedAudit] = await services.audit.list({ limit: 1, action: 'assessment.published' })
    expect(publishedAudit?.before).toMatchObject({ status: 'challenge' })
    expect(publishedAudit?.after).toMatchObject({ status: 'published', publishedOn: '2026-12-07' })
    clock().set(TEST_TODAY)
  })

  it('publishes early when the provider has accepted the report', async () => {
    const created = await post(admin, '/services/SVC-AMBER/assessments', {
      ...dateFields('2026-11-01'),
      outcome: 'good',
      stage: 'draft',
    })
    const challenged = await post(
      admin,
      `/services/SVC-AMBER/assessments/${idFrom(created.headers.location as string)}/status`,
      {
        action: 'challenge',
      },
    )
    const id = idFrom(challenged.headers.location as string)
    const bad = await post(admin, `/services/SVC-AMBER/assessments/${id}/status`, {
      action: 'publish',
      providerAccepted: 'maybe',
    })
    expect(bad.status).toBe(400)
    const published = await post(admin, `/services/SVC-AMBER/assessments/${id}/status`, {
      action: 'publish',
      providerAccepted: 'yes',
    })
    expect(published.status).toBe(303)
    expect(await qualityLevel(ids.amber)).toBe('green')
  })

  it('records an assessment already published, and changes it with a new version', async () => {
    const created = await post(compliance, '/services/SVC-GREEN/assessments', {
      ...dateFields('2026-10-01'),
      outcome: 'poor',
      stage: 'published',
    })
    expect(created.status).toBe(303)
    expect(await qualityLevel(ids.green)).toBe('red')
    const id = idFrom(created.headers.location as string)

    const duplicate = await post(compliance, '/services/SVC-GREEN/assessments', {
      ...dateFields('2026-10-01'),
      outcome: 'good',
      stage: 'published',
    })
    expect(duplicate.status).toBe(400)
    expect(duplicate.text).toContain('An assessment dated 2026-10-01 is already recorded')

    const form = await compliance.agent.get(`/services/SVC-GREEN/assessments/${id}/edit`)
    expect(form.status).toBe(200)
    expect(form.text).toMatch(/value="poor" checked/)
    const changed = await post(compliance, `/services/SVC-GREEN/assessments/${id}/edit`, {
      ...dateFields('2026-10-01'),
      outcome: 'requires_improvement',
    })
    expect(changed.status).toBe(303)
    expect(await qualityLevel(ids.green)).toBe('amber')
    const stale = await post(compliance, `/services/SVC-GREEN/assessments/${id}/edit`, {
      ...dateFields('2026-10-01'),
      outcome: 'good',
    })
    expect(stale.status).toBe(409)
    const list = await compliance.agent.get('/services/SVC-GREEN/assessments')
    expect(list.text).toContain('Earlier versions (1)')
  })
})

describe('the due-next queue', () => {
  it('ranks never-assessed services first and shows follow-up due dates', async () => {
    const fresh = createTestServices()
    const seeded = await seedSmallBorough(fresh)
    const freshApp = appWithAllRoutes(fresh)
    const officer = await signIn(freshApp, fresh, 'compliance')
    await fresh.observations.append([
      {
        serviceId: seeded.red,
        indicator: 'quality_assessment',
        source: 'council_csv',
        observedOn: '2026-06-01',
        value: 'poor',
        naturalKey: 'qa:2026-06-01',
      },
      {
        serviceId: seeded.amber,
        indicator: 'quality_assessment',
        source: 'council_form',
        observedOn: '2026-11-01',
        value: 'good',
        detail: { status: 'draft' },
        naturalKey: 'qa:2026-11-01',
      },
    ])
    await fresh.risk.recomputeServices(Object.values(seeded), 'test')
    const page = await officer.agent.get('/assessments/due')
    expect(page.status).toBe(200)
    const order = [...page.text.matchAll(/<tr class="govuk-table__row" data-ref="([^"]+)"/g)].map((m) => m[1])
    // Amber (never counted: its only assessment is a draft) first, then Green (spot, never assessed), then Red.
    expect(order).toEqual(['SVC-AMBER', 'SVC-GREEN', 'SVC-RED'])
    expect(page.text).toContain('Action plan due 15 June 2026')
    expect(page.text).toContain('Re-assessment due 1 December 2026')
    expect(page.text).toMatch(/data-testid="in-cycle"[\s\S]*Oak Homecare[\s\S]*Send to the provider for challenge/)
    expect((await officer.agent.get('/assessments/due?page=0')).status).toBe(400)
  })
})
