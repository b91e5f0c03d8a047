import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { createDemoUsers } from '../../src/auth/demoUsers.js'
import { UsersRepository } from '../../src/data/users.js'
import { appWithAllRoutes, createTestServices, csrfTokenFrom } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

/**
 * Issue 4's acceptance, tried as a new user would: sign in as the demo compliance officer, record a safeguarding
 * decision for a Green service, see it turn Amber at once with the reason, open an action plan, override it with a
 * reason and an expiry, and see every step in the audit log; sign in as the assessor and find no entry forms and no
 * notes.
 */

function dateFields(name: string, iso: string): Record<string, string> {
  const [year, month, day] = iso.split('-') as [string, string, string]
  return { [`${name}-day`]: String(Number(day)), [`${name}-month`]: String(Number(month)), [`${name}-year`]: year }
}

function overallTag(html: string): string | undefined {
  return /app-tag--large">([A-Za-z]+)</.exec(html)?.[1]
}

describe('acceptance: the compliance officer’s walk through a Green service', () => {
  it('records, sees Amber, opens an action plan, overrides, and finds every step audited; the assessor sees none of it', async () => {
    const services = createTestServices()
    await seedSmallBorough(services)
    await createDemoUsers(new UsersRepository(services.db), 'test')
    const app = appWithAllRoutes(services)

    async function signInAs(email: string, password: string) {
      const agent = request.agent(app)
      const form = await agent.get('/sign-in')
      const response = await agent
        .post('/sign-in')
        .type('form')
        .send({ email, password, _csrf: csrfTokenFrom(form.text) })
      expect(response.status).toBe(303)
      return agent
    }
    const officer = await signInAs('compliance@example.org', 'demo-compliance-password')
    const csrf = async (path: string) => csrfTokenFrom((await officer.get(path)).text)

    // A Green service.
    const before = await officer.get('/services/SVC-GREEN')
    expect(overallTag(before.text)).toBe('Green')

    // Record a safeguarding decision with the intelligence form: Amber at once, with the reason.
    const recorded = await officer
      .post('/services/SVC-GREEN/intelligence')
      .type('form')
      .send({
        _csrf: await csrf('/services/SVC-GREEN/intelligence/new?kind=safeguarding_decision'),
        kind: 'safeguarding_decision',
        ...dateFields('date', '2026-11-20'),
        outcome: 'open',
        reference: 'SG-7001',
        notes: 'Neglect allegation, section 42 enquiry opened',
      })
    expect(recorded.status).toBe(303)
    const amber = await officer.get('/services/SVC-GREEN')
    expect(overallTag(amber.text)).toBe('Amber')
    expect(amber.text).toMatch(/<li>[^<]*[Ss]afeguarding[^<]*<\/li>/)

    // Open an action plan.
    const opened = await officer
      .post('/services/SVC-GREEN/actions')
      .type('form')
      .send({
        _csrf: await csrf('/services/SVC-GREEN/actions/new?kind=action_plan'),
        kind: 'action_plan',
        owner: 'compliance@example.org',
        ...dateFields('openedOn', '2026-11-23'),
        ...dateFields('dueOn', '2026-12-07'),
        notes: 'Provider to send a safeguarding action plan',
      })
    expect(opened.status).toBe(303)

    // Override it with a reason and an expiry.
    const overridden = await officer
      .post('/services/SVC-GREEN/override')
      .type('form')
      .send({
        _csrf: await csrf('/services/SVC-GREEN/override'),
        level: 'red',
        reason: 'Police involved; treat as Red until the enquiry concludes',
        ...dateFields('expiresOn', '2027-01-15'),
      })
    expect(overridden.status).toBe(303)

    const after = await officer.get('/services/SVC-GREEN')
    expect(overallTag(after.text)).toBe('Red')
    expect(after.text).toContain('Police involved; treat as Red until the enquiry concludes')
    const actionsTable = /data-testid="compliance-actions-table"[\s\S]*?<\/table>/.exec(after.text)?.[0] ?? ''
    expect(actionsTable).toContain('Action plan')
    expect(actionsTable).toContain('Open')

    // Every step in the service's audit log, newest first, by the officer.
    const audit = /data-testid="service-audit-table"[\s\S]*?<\/table>/.exec(after.text)?.[0] ?? ''
    const override = audit.indexOf('Override set')
    const action = audit.indexOf('Action opened')
    const intelligence = audit.search(/intelligence/i)
    expect(override).toBeGreaterThan(-1)
    expect(action).toBeGreaterThan(override)
    expect(intelligence).toBeGreaterThan(action)
    expect(audit.match(/compliance@example\.org/g)?.length).toBeGreaterThanOrEqual(3)
    expect(audit).toContain('Override to Red until 15 January 2027')
    expect(audit).toContain('Action plan opened, owner compliance@example.org, due 7 December 2026')
    expect(audit).toContain('Intelligence recorded')
    expect(audit).toContain(
      'Safeguarding decision on 20 November 2026, outcome open, reference SG-7001: Neglect allegation, section 42 enquiry opened',
    )

    // And in the admin's audit log.
    const admin = await signInAs('admin@example.org', 'demo-admin-password')
    const log = await admin.get('/admin/audit?actor=compliance%40example.org')
    expect(log.status).toBe(200)
    for (const step of ['override.set', 'action.opened', 'intelligence.recorded', 'user.signed_in']) {
      expect(log.text).toContain(step)
    }
    // Filtered to the service (by its reference, as the service page links it): all three steps, whichever key
    // each write used (overrides and actions are kept under the service's id, entries under its reference).
    const byService = await admin.get('/admin/audit?entityType=service&entityId=SVC-GREEN')
    expect(byService.status).toBe(200)
    expect(byService.text).toContain('of 3 entries matching the filters')
    for (const step of ['Override set', 'Action opened', 'Intelligence recorded'])
      expect(byService.text).toContain(step)

    // The assessor: the RAG and its reasons, but no entry forms and no notes.
    const assessor = await signInAs('assessor@example.org', 'demo-assessor-password')
    const seen = await assessor.get('/services/SVC-GREEN')
    expect(overallTag(seen.text)).toBe('Red')
    for (const hidden of [
      'Neglect allegation',
      'SG-7001',
      'Provider to send a safeguarding action plan',
      '/intelligence/new',
      '/override',
      '/actions/new',
      '<form method="post"',
    ]) {
      expect(seen.text, hidden).not.toContain(hidden)
    }
    // Nor through the API, the CSV export or the printable report.
    const api = await assessor.get('/api/v1/services/SVC-GREEN')
    expect(api.status).toBe(200)
    expect(api.body.rag).toBe('red')
    expect(api.body.override).toMatchObject({ level: 'red', expiresOn: '2027-01-15' })
    for (const path of ['/api/v1/services/SVC-GREEN', '/services.csv', '/services/SVC-GREEN/report']) {
      const text = (await assessor.get(path)).text
      for (const hidden of ['Neglect allegation', 'SG-7001', 'Provider to send a safeguarding action plan']) {
        expect(text, `${hidden} in ${path}`).not.toContain(hidden)
      }
    }
    expect((await assessor.get('/services/SVC-GREEN/intelligence/new?kind=safeguarding_decision')).status).toBe(403)
    expect((await assessor.get('/services/SVC-GREEN/override')).status).toBe(403)
    expect((await assessor.get('/morning')).status).toBe(403)
  }, 30_000)
})
