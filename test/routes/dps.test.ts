import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import request from 'supertest'
import type { Express } from 'express'
import { ApiTokensRepository } from '../../src/data/apiTokens.js'
import { AuditLog } from '../../src/data/audit.js'
import type { Services } from '../../src/services/container.js'
import { seedDemoBorough } from '../../src/services/demoSeedService.js'
import { DEMO_DPS_NAME } from '../../src/services/dpsService.js'
import {
  appWithAllRoutes,
  createTestServices,
  csrfTokenFrom,
  signIn,
  type SignedInAgent,
} from '../helpers/appHarness.js'

/** The demo borough with today's judgements published, as after the first overnight refresh. */
async function demoBorough(): Promise<{ services: Services; dpsId: number }> {
  const services = createTestServices()
  await seedDemoBorough(services)
  const runId = await services.runs.startRun('full', { trigger: 'test refresh' })
  const computed = await services.risk.stageAll(runId, await services.risk.activeRuleSet(), services.clock.today())
  await services.risk.publishFull(runId, computed)
  const dps = await services.dpsRepository.findDpsByName(DEMO_DPS_NAME)
  return { services, dpsId: dps!.id }
}

function section(html: string, testId: string): string {
  const start = html.indexOf(`data-testid="${testId}"`)
  if (start < 0) throw new Error(`No ${testId} in the page`)
  return html.slice(start, html.indexOf('</table>', start))
}

function refsIn(html: string): string[] {
  return [...html.matchAll(/data-referral="([^"]+)"/g)].map((m) => m[1] as string)
}

let services: Services
let dpsId: number
let app: Express
let assessor: SignedInAgent
let compliance: SignedInAgent
let admin: SignedInAgent

async function setUp() {
  ;({ services, dpsId } = await demoBorough())
  app = appWithAllRoutes(services)
  assessor = await signIn(app, services, 'assessor')
  compliance = await signIn(app, services, 'compliance')
  admin = await signIn(app, services, 'admin')
}

/** The eligible Tier 1 members of the East and West zone, in allocation order. */
async function eastTier1(): Promise<string[]> {
  const referral = await services.dps.referral(dpsId, { area: 'East', serviceType: 'home_care' })
  return referral!.eligible.filter((entry) => entry.tier === 'tier1').map((entry) => entry.serviceRef)
}

/** Records an embargo as a compliance officer does: the intelligence form, with its CSRF token. Returns the entry id. */
async function recordEmbargoByForm(agent: SignedInAgent, ref: string, from: string): Promise<number> {
  const form = await agent.agent.get(`/services/${ref}/intelligence/new?kind=embargo`)
  expect(form.status).toBe(200)
  const [year, month, day] = from.split('-')
  const response = await agent.agent
    .post(`/services/${ref}/intelligence`)
    .type('form')
    .send({
      _csrf: csrfTokenFrom(form.text),
      kind: 'embargo',
      'date-day': day,
      'date-month': month,
      'date-year': year,
      'end_date-day': '',
      'end_date-month': '',
      'end_date-year': '',
      reference: `EMB-${ref}`,
      notes: 'Safeguarding concerns: no new placements',
    })
  expect(response.status).toBe(303)
  return Number(/\/intelligence\/(\d+)\?saved=recorded$/.exec(response.headers.location!)![1])
}

/** Lifts an embargo through the edit form: the same entry, with an end date. */
async function liftEmbargoByForm(agent: SignedInAgent, ref: string, entryId: number, from: string, to: string) {
  const form = await agent.agent.get(`/services/${ref}/intelligence/${entryId}/edit`)
  expect(form.status).toBe(200)
  const [year, month, day] = from.split('-')
  const [endYear, endMonth, endDay] = to.split('-')
  const response = await agent.agent
    .post(`/services/${ref}/intelligence/${entryId}/edit`)
    .type('form')
    .send({
      _csrf: csrfTokenFrom(form.text),
      kind: 'embargo',
      'date-day': day,
      'date-month': month,
      'date-year': year,
      'end_date-day': endDay,
      'end_date-month': endMonth,
      'end_date-year': endYear,
      reference: `EMB-${ref}`,
      notes: 'Lifted after review',
    })
  expect(response.status).toBe(303)
}

describe('DPS pages: roles', () => {
  beforeAll(setUp)

  it.each(['/dps', '/dps/1', '/dps/1/referral', '/dps/1/awards/new', '/dps/tasks/1', '/admin/dps', '/admin/dps/1'])(
    'sends anonymous visitors from %s to sign in',
    async (path) => {
      const response = await request(app).get(path)
      expect(response.status).toBe(302)
      expect(response.headers.location).toBe(`/sign-in?returnTo=${encodeURIComponent(path)}`)
    },
  )

  it('shows assessors the frameworks, a DPS and the referral, but not tasks, awards or admin', async () => {
    const list = await assessor.agent.get('/dps')
    expect(list.status).toBe(200)
    expect(list.text).toContain(DEMO_DPS_NAME)
    expect(list.text).not.toContain('data-testid="tasks-table"')
    const page = await assessor.agent.get(`/dps/${dpsId}`)
    expect(page.status).toBe(200)
    expect(page.text).not.toContain('data-testid="awards-table"')
    expect(page.text).not.toContain(`/dps/${dpsId}/awards/new`)
    expect((await assessor.agent.get(`/dps/${dpsId}/referral`)).status).toBe(200)
    expect((await assessor.agent.get(`/dps/${dpsId}/awards/new`)).status).toBe(403)
    const token = await assessor.csrf('/dps')
    const post = await assessor.agent.post(`/dps/${dpsId}/awards`).type('form').send({
      _csrf: token,
      serviceRef: 'SVC-0024',
      lotId: '1',
      weeklyHours: '10',
      startDate: '2026-12-01',
      reference: 'A',
    })
    expect(post.status).toBe(403)
    expect((await assessor.agent.get('/dps/tasks/1')).status).toBe(403)
    expect((await assessor.agent.get('/admin/dps')).status).toBe(403)
    expect((await compliance.agent.get('/admin/dps')).status).toBe(403)
    expect((await compliance.agent.get(`/admin/dps/${dpsId}/gates`)).status).toBe(403)
  })

  it('answers 404 for an unknown DPS, task or membership', async () => {
    expect((await assessor.agent.get('/dps/9999')).status).toBe(404)
    expect((await assessor.agent.get('/dps/abc/referral')).status).toBe(404)
    expect((await compliance.agent.get('/dps/tasks/9999')).status).toBe(404)
    expect((await admin.agent.get('/admin/dps/9999')).status).toBe(404)
    expect((await admin.agent.get(`/admin/dps/${dpsId}/members/99999`)).status).toBe(404)
  })
})

describe('DPS pages: overrides', () => {
  beforeAll(setUp)

  it('marks a member whose RAG is a manual override', async () => {
    const framework = await services.dps.getFramework(dpsId)
    const member = framework!.lots.flatMap((lot) => lot.members).find((m) => m.status === 'admitted')!
    const before = await compliance.agent.get(`/dps/${dpsId}`)
    const rowOf = (html: string) => {
      const row = html.slice(html.indexOf(`data-member="${member.ref}"`))
      return row.slice(0, row.indexOf('</tr>'))
    }
    expect(rowOf(before.text)).not.toContain('Override')
    const service = await services.serviceRepository.findByRef(member.ref)
    const set = await services.compliance.setOverride(
      service!.id,
      { level: 'amber', reason: 'Whistleblowing concern under review', expiresOn: services.clock.today() },
      'test',
    )
    expect(set.ok).toBe(true)
    const after = await compliance.agent.get(`/dps/${dpsId}`)
    expect(rowOf(after.text)).toContain('Override')
    expect(rowOf(after.text)).toContain('Amber')
  })
})

describe('DPS pages: reading', () => {
  beforeAll(setUp)

  it('shows the lots, members with RAG, eligibility now and failing gates', async () => {
    const page = await compliance.agent.get(`/dps/${dpsId}`)
    expect(page.status).toBe(200)
    for (const lot of ['Tier 1: North', 'Tier 1: South and Central', 'Tier 1: East and West', 'Tier 2: Borough-wide']) {
      expect(page.text).toContain(lot)
    }
    expect(page.text).toContain('CQC overall rating Good or above')
    expect(page.text).toContain('Overall RAG not Red')
    const framework = await services.dps.getFramework(dpsId)
    const ineligible = framework!.lots.flatMap((lot) => lot.members).find((m) => !m.eligible)!
    const row = page.text.slice(page.text.indexOf(`data-member="${ineligible.ref}"`))
    expect(row.slice(0, row.indexOf('</tr>'))).toContain('Not eligible')
    expect(row.slice(0, row.indexOf('</tr>'))).toContain(ineligible.failingGates[0]!.reason.replaceAll("'", '&#x27;'))
    expect(page.text).toContain('data-testid="awards-table"')
    // The demo's year of awards: per member, and the share that went to off-contract services.
    const share = framework!.offContractShare
    expect(share.awards).toBeGreaterThan(20)
    expect(share.offContract).toBeGreaterThan(0)
    expect(page.text).toContain(
      `${share.offContract} of ${share.awards} new packages (${Math.round(share.share! * 100)}%) awarded in the last 12 months went to off-contract services.`,
    )
    const awarded = framework!.lots.flatMap((lot) => lot.members).find((m) => m.awardsLast12Months > 0)!
    const awardedRow = page.text.slice(page.text.indexOf(`data-member="${awarded.ref}"`))
    expect(awardedRow.slice(0, awardedRow.indexOf('</tr>'))).toContain(
      `${awarded.weeklyHoursLast12Months} hours a week`,
    )
    expect(section(page.text, 'awards-table')).toContain('DEMO-')
    const quarters = section(page.text, 'off-contract-quarters')
    for (const quarter of framework!.offContractByQuarter) {
      expect(quarters).toContain(
        `<td class="govuk-table__cell govuk-table__cell--numeric">${quarter.share.awards}</td>`,
      )
    }
    const shares = framework!.offContractByQuarter.map((q) => q.share.share ?? 0)
    expect(shares[0]).toBeGreaterThan(shares[3]!)
  })

  it('lists open "review membership" tasks for compliance on /dps', async () => {
    const tasks = await services.dps.openTasks()
    expect(tasks.length).toBeGreaterThan(0)
    const list = await compliance.agent.get('/dps')
    expect(list.text).toContain('data-testid="tasks-table"')
    expect(list.text).toContain(`href="/dps/tasks/${tasks[0]!.id}"`)
    expect(list.text).toContain(tasks[0]!.serviceName.replaceAll("'", '&#x27;'))
  })

  it('shows the referral form, and results with RAG, reasons, CQC rating and its age', async () => {
    const form = await assessor.agent.get(`/dps/${dpsId}/referral`)
    expect(form.text).toContain('name="area"')
    expect(form.text).not.toContain('data-testid="referral-eligible"')
    const results = await assessor.agent.get(`/dps/${dpsId}/referral?area=North&type=home_care&weeklyHours=10`)
    expect(results.status).toBe(200)
    const eligible = section(results.text, 'referral-eligible')
    expect(refsIn(eligible).length).toBeGreaterThan(3)
    expect(eligible).toMatch(/govuk-tag--(green|orange)/)
    expect(eligible).toMatch(/rated \d+ (year|month)/)
    expect(eligible).not.toContain('Award a package')
    const withAward = await compliance.agent.get(`/dps/${dpsId}/referral?area=North&type=home_care&weeklyHours=10`)
    expect(section(withAward.text, 'referral-eligible')).toMatch(
      /href="\/dps\/\d+\/awards\/new\?serviceRef[^"]+">Award a package/,
    )
  })

  it('answers a bad pen picture with 400 and the GOV.UK error summary, the values kept', async () => {
    const response = await assessor.agent.get(`/dps/${dpsId}/referral?area=&type=spaceship&weeklyHours=lots`)
    expect(response.status).toBe(400)
    expect(response.text).toContain('govuk-error-summary')
    expect(response.text).toContain('Select the area the person lives in')
    expect(response.text).toContain('href="#weeklyHours"')
    expect(response.text).toContain('value="lots"')
    expect(response.text).toContain('<title>Error: ')
  })
})

describe('DPS pages: awards and tasks', () => {
  beforeEach(setUp)

  async function postAward(agent: SignedInAgent, body: Record<string, string>) {
    const token = csrfTokenFrom((await agent.agent.get(`/dps/${dpsId}/awards/new`)).text)
    return agent.agent
      .post(`/dps/${dpsId}/awards`)
      .type('form')
      .send({ _csrf: token, ...body })
  }

  async function tier1Lot(): Promise<number> {
    const dps = await services.dpsRepository.getDps(dpsId)
    return dps!.lots.find((lot) => lot.name === 'Tier 1: East and West')!.id
  }

  it('records an award from the form and shows it on the DPS page', async () => {
    const [ref] = await eastTier1()
    const form = await compliance.agent.get(`/dps/${dpsId}/awards/new?serviceRef=${ref}&lotId=${await tier1Lot()}`)
    expect(form.text).toContain(`value="${ref}"`)
    const response = await postAward(compliance, {
      serviceRef: ref!,
      lotId: String(await tier1Lot()),
      weeklyHours: '12.5',
      startDate: '01/12/2026',
      reference: 'PKG-FORM-1',
    })
    expect(response.status).toBe(303)
    expect(response.headers.location).toMatch(new RegExp(`^/dps/${dpsId}\\?awarded=\\d+$`))
    const page = await compliance.agent.get(response.headers.location!)
    expect(page.text).toContain('Package PKG-FORM-1 awarded to')
    expect(section(page.text, 'awards-table')).toContain('PKG-FORM-1')
    const audit = await new AuditLog(services.db).list({ action: 'dps.award_recorded', limit: 5 })
    expect(audit[0]).toMatchObject({ actor: 'compliance@test.example' })
  })

  it('shows bad input again with the error summary and writes nothing', async () => {
    const response = await postAward(compliance, {
      serviceRef: '',
      lotId: '',
      weeklyHours: '0',
      startDate: '2026-02-31',
      reference: 'R',
    })
    expect(response.status).toBe(400)
    expect(response.text).toContain('govuk-error-summary')
    for (const message of [
      'Enter the service reference',
      'Select a lot',
      'Weekly hours must be more than 0',
      'Enter a real date',
    ]) {
      expect(response.text).toContain(message)
    }
    expect(response.text).toContain('value="2026-02-31"')
    expect(
      (await services.dps.getFramework(dpsId))!.awardsLast12Months.filter((a) => !/^DEMO-/.test(a.reference)),
    ).toEqual([])
  })

  it('refuses a POST without the CSRF token', async () => {
    const response = await compliance.agent
      .post(`/dps/${dpsId}/awards`)
      .type('form')
      .send({ serviceRef: 'SVC-0024', lotId: '1', weeklyHours: '10', startDate: '2026-12-01', reference: 'NO-CSRF' })
    expect(response.status).toBe(403)
    expect(
      (await services.dps.getFramework(dpsId))!.awardsLast12Months.filter((a) => !/^DEMO-/.test(a.reference)),
    ).toEqual([])
  })

  it('closes a review task with a note (audited), and asks for the note when it is missing', async () => {
    const [task] = await services.dps.openTasks()
    const page = await compliance.agent.get(`/dps/tasks/${task!.id}`)
    expect(page.status).toBe(200)
    const token = csrfTokenFrom(page.text)
    const missing = await compliance.agent
      .post(`/dps/tasks/${task!.id}/close`)
      .type('form')
      .send({ _csrf: token, note: ' ' })
    expect(missing.status).toBe(400)
    expect(missing.text).toContain('Enter a note saying what was decided')
    const closed = await compliance.agent
      .post(`/dps/tasks/${task!.id}/close`)
      .type('form')
      .send({ _csrf: token, note: 'Kept the membership; embargo reviewed weekly' })
    expect(closed.status).toBe(303)
    expect((await services.dps.openTasks()).map((t) => t.id)).not.toContain(task!.id)
    const [entry] = await new AuditLog(services.db).list({ action: 'task.closed', limit: 1 })
    expect(entry).toMatchObject({ actor: 'compliance@test.example', entityId: String(task!.id) })
    expect(entry?.after).toMatchObject({ note: 'Kept the membership; embargo reviewed weekly' })
    const again = await compliance.agent
      .post(`/dps/tasks/${task!.id}/close`)
      .type('form')
      .send({ _csrf: token, note: 'x' })
    expect(again.status).toBe(409)
  })
})

describe('Acceptance: an embargo on a Tier 1 service of the demo DPS', () => {
  beforeAll(setUp)

  it('refuses an award from the page and from the API with the reason; the referral lists it as not eligible', async () => {
    const tier1Before = await eastTier1()
    expect(tier1Before.length).toBeGreaterThanOrEqual(2)
    const embargoed = tier1Before[0]!
    const lot = (await services.dpsRepository.getDps(dpsId))!.lots.find((l) => l.name === 'Tier 1: East and West')!
    // Eligible a moment ago: the referral offers it, with a link to award it a package.
    const offered = await compliance.agent.get(`/dps/${dpsId}/referral?area=East&type=home_care`)
    expect(refsIn(section(offered.text, 'referral-eligible'))[0]).toBe(embargoed)

    // Compliance records the embargo through the intelligence form.
    const entryId = await recordEmbargoByForm(compliance, embargoed, '2026-11-20')

    // From the page, at once: refused, nothing recorded, the reason in the error summary.
    const form = await compliance.agent.get(`/dps/${dpsId}/awards/new?serviceRef=${embargoed}&lotId=${lot.id}`)
    const page = await compliance.agent
      .post(`/dps/${dpsId}/awards`)
      .type('form')
      .send({
        _csrf: csrfTokenFrom(form.text),
        serviceRef: embargoed,
        lotId: String(lot.id),
        weeklyHours: '10',
        startDate: '2026-12-01',
        reference: 'PKG-ACCEPT-1',
      })
    expect(page.status).toBe(409)
    const summaryStart = page.text.indexOf('class="govuk-error-summary')
    expect(summaryStart).toBeGreaterThan(0)
    const summary = page.text.slice(summaryStart, page.text.indexOf('</div>\n</div>', summaryStart))
    expect(summary).toContain(`${embargoed} cannot receive new packages under this lot`)
    expect(summary).toContain('Embargo on new placements since 2026-11-20')

    // From the API (a broker's script with a token): 409 naming the embargo gate.
    const issued = await new ApiTokensRepository(services.db).create(
      { name: 'broker-script', role: 'compliance' },
      'test',
    )
    const awardByApi = (serviceRef: string, reference: string) =>
      request(app)
        .post(`/api/v1/dps/${dpsId}/awards`)
        .set('Authorization', `Bearer ${issued.secret}`)
        .send({ serviceRef, lotId: lot.id, weeklyHours: 10, startDate: '2026-12-01', reference })
    const api = await awardByApi(embargoed, 'PKG-ACCEPT-2')
    expect(api.status).toBe(409)
    expect(api.body.error).toContain('Embargo on new placements since 2026-11-20')
    expect(api.body.details).toContainEqual({ gate: 'embargo', reason: 'Embargo on new placements since 2026-11-20' })
    expect(
      (await services.dps.getFramework(dpsId))!.awardsLast12Months.filter((a) => !/^DEMO-/.test(a.reference)),
    ).toEqual([])

    // The referral for its zone: the other Tier 1 services first, it under "not eligible: embargo since ...".
    const referral = await compliance.agent.get(`/dps/${dpsId}/referral?area=East&type=home_care`)
    const eligible = refsIn(section(referral.text, 'referral-eligible'))
    expect(eligible.slice(0, tier1Before.length - 1)).toEqual(tier1Before.slice(1))
    expect(eligible).not.toContain(embargoed)
    const ineligible = section(referral.text, 'referral-ineligible')
    const row = ineligible.slice(ineligible.indexOf(`data-referral="${embargoed}"`))
    expect(row.slice(0, row.indexOf('</tr>'))).toContain('not eligible: embargo on new placements since 2026-11-20')

    // The loss is on the morning list with its reason, and compliance has a "review membership" task.
    const morning = await compliance.agent.get('/morning')
    const lost = section(morning.text, 'morning-eligibility')
    const name = (await services.serviceRepository.findByRef(embargoed))!.name.replaceAll("'", '&#x27;')
    const lostRow = lost.slice(lost.indexOf(name))
    expect(lostRow.slice(0, lostRow.indexOf('</tr>'))).toContain('Embargo on new placements since 2026-11-20')
    const task = (await services.dps.openTasks()).find((t) => t.serviceRef === embargoed)!
    expect((await compliance.agent.get('/dps')).text).toContain(name)
    const taskNow = async () => {
      const html = (await compliance.agent.get(`/dps/tasks/${task.id}`)).text
      const start = html.indexOf('data-testid="task-now"')
      return html.slice(start, html.indexOf('</dd>', start))
    }
    expect(await taskNow()).toContain('Not eligible')
    expect(await taskNow()).toContain('Embargo on new placements since 2026-11-20')
    expect(await taskNow()).not.toContain('/admin/dps/')
    // An admin, who manages memberships, is offered the change from the task.
    expect((await admin.agent.get(`/dps/tasks/${task.id}`)).text).toContain(
      `href="/admin/dps/${dpsId}/members/${task.membershipId}"`,
    )

    // Lifting the embargo (the same entry, with an end date) restores eligibility: regained, and the award goes through.
    await liftEmbargoByForm(compliance, embargoed, entryId, '2026-11-20', '2026-11-22')
    const events = await services.dps.eventsSince(0)
    expect(events.at(-1)).toMatchObject({
      serviceRef: embargoed,
      change: 'regained',
      summary: expect.stringMatching(
        /^Regained eligibility for Tier 1: East and West .*\(lost on \d{4}-\d\d-\d\d: Embargo/,
      ),
    })
    const regainedOnMorning = section((await compliance.agent.get('/morning')).text, 'morning-eligibility')
    const regainedRow = regainedOnMorning.slice(regainedOnMorning.lastIndexOf(name))
    expect(regainedRow.slice(0, regainedRow.indexOf('</tr>'))).toContain(
      'No longer: Embargo on new placements since 2026-11-20',
    )
    // The review task, still open for compliance to close, says so.
    expect(await taskNow()).toContain('Eligible again')
    const after = await awardByApi(embargoed, 'PKG-ACCEPT-3')
    expect(after.status).toBe(201)
    expect(after.body).toMatchObject({ serviceRef: embargoed, reference: 'PKG-ACCEPT-3' })
  })

  it('bars awards at once when the embargo is recorded through the API', async () => {
    const north = await services.dps.referral(dpsId, { area: 'North', serviceType: 'home_care' })
    const target = north!.eligible.find((entry) => entry.tier === 'tier1')!
    const issued = await new ApiTokensRepository(services.db).create(
      { name: 'council-feed', role: 'compliance' },
      'test',
    )
    const recorded = await request(app)
      .post(`/api/v1/services/${target.serviceRef}/intelligence`)
      .set('Authorization', `Bearer ${issued.secret}`)
      .send({ kind: 'embargo', date: '2026-11-21', reference: 'EMB-API-1' })
    expect(recorded.status).toBe(201)
    const award = await request(app)
      .post(`/api/v1/dps/${dpsId}/awards`)
      .set('Authorization', `Bearer ${issued.secret}`)
      .send({
        serviceRef: target.serviceRef,
        lotId: target.lotId,
        weeklyHours: 7,
        startDate: '2026-12-01',
        reference: 'X1',
      })
    expect(award.status).toBe(409)
    expect(award.body.details).toContainEqual({ gate: 'embargo', reason: 'Embargo on new placements since 2026-11-21' })
    const listed = await request(app).get('/api/v1/dps').set('Authorization', `Bearer ${issued.secret}`)
    const member = listed.body.dps
      .find((d: { id: number }) => d.id === dpsId)
      .lots.find((l: { id: number }) => l.id === target.lotId)
      .members.find((m: { ref: string }) => m.ref === target.serviceRef)
    expect(member).toMatchObject({ status: 'admitted', eligible: false })
    expect(member.failingGates).toContainEqual({
      gate: 'embargo',
      reason: 'Embargo on new placements since 2026-11-21',
    })
  })
})
