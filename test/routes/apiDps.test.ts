import { beforeEach, describe, expect, it } from 'vitest'
import request from 'supertest'
import type { Express } from 'express'
import type { Role } from '../../src/auth/roles.js'
import { ApiTokensRepository } from '../../src/data/apiTokens.js'
import { AuditLog } from '../../src/data/audit.js'
import type { NewObservation } from '../../src/domain/observation.js'
import type { ServiceType } from '../../src/domain/vocabulary.js'
import type { Services } from '../../src/services/container.js'
import { appWithAllRoutes, createTestServices, signIn } from '../helpers/appHarness.js'

/** A small home care market: who is in which lot, and the one fact that makes each problem service fail a gate. */
const MARKET: Array<{ ref: string; area: string; type?: ServiceType; problem?: NewObservation['indicator'] }> = [
  { ref: 'N-GREEN', area: 'North' },
  { ref: 'N-AMBER', area: 'North', problem: 'safeguarding' },
  { ref: 'S-GREEN', area: 'South' },
  { ref: 'C-GREEN', area: 'Central' },
  { ref: 'T2-GREEN', area: 'East' },
  { ref: 'T2-AMBER', area: 'West', problem: 'safeguarding' },
  { ref: 'RES-GREEN', area: 'East' },
  { ref: 'SL-GREEN', area: 'North', type: 'supported_living' },
  { ref: 'G-CQC', area: 'East', problem: 'cqc_rating' },
  { ref: 'G-RAG', area: 'East', problem: 'unexpected_deaths' },
  { ref: 'G-EMB', area: 'East', problem: 'embargo' },
  { ref: 'G-INS', area: 'East', problem: 'insolvency' },
  { ref: 'G-QA', area: 'East', problem: 'quality_assessment' },
  { ref: 'G-MGR', area: 'East', problem: 'manager_vacancy' },
]

function problemObservations(serviceId: number, problem: NewObservation['indicator']): NewObservation[] {
  const base = { serviceId, source: 'council_form' as const, naturalKey: `${problem}:${serviceId}` }
  switch (problem) {
    case 'safeguarding':
      return [{ ...base, indicator: problem, observedOn: '2026-10-01', value: 'decision' }]
    case 'cqc_rating':
      return [
        { ...base, indicator: problem, source: 'cqc_api', observedOn: '2026-09-01', value: 'requires_improvement' },
      ]
    case 'unexpected_deaths':
      return [
        { ...base, indicator: problem, observedOn: '2026-09-01', value: 'death', naturalKey: `d1:${serviceId}` },
        { ...base, indicator: problem, observedOn: '2026-10-01', value: 'death', naturalKey: `d2:${serviceId}` },
      ]
    case 'embargo':
      return [{ ...base, indicator: problem, observedOn: '2026-11-02', value: 'embargo' }]
    case 'insolvency':
      return [
        { ...base, indicator: problem, source: 'companies_house', observedOn: '2026-11-01', value: 'administration' },
      ]
    case 'quality_assessment':
      return [{ ...base, indicator: problem, observedOn: '2026-08-01', value: 'requires_improvement' }]
    case 'manager_vacancy':
      return [{ ...base, indicator: problem, observedOn: '2026-10-01', value: 'vacant' }]
    default:
      return []
  }
}

interface Fixture {
  dpsId: number
  lots: Record<'north' | 'southCentral' | 'tier2' | 'specialist' | 'reserve', number>
  serviceIds: Record<string, number>
}

/** The market above, judged, in a DPS whose gates also ask for a Good quality assessment and a manager in post. */
async function buildFixture(services: Services): Promise<Fixture> {
  const created = await services.serviceRepository.upsertMany(
    MARKET.map((s) => ({
      ref: s.ref,
      name: `${s.ref} Care`,
      providerName: `${s.ref} Ltd`,
      serviceType: s.type ?? 'home_care',
      area: s.area,
      capacity: 100,
      contractStatus: s.ref === 'T2-GREEN' ? 'off_contract' : 'contracted',
    })),
  )
  const serviceIds = Object.fromEntries(created.map((s) => [s.ref, s.id]))
  const observations: NewObservation[] = []
  for (const s of MARKET) {
    const id = serviceIds[s.ref] as number
    if (s.problem !== 'cqc_rating') {
      observations.push({
        serviceId: id,
        indicator: 'cqc_rating',
        source: 'cqc_api',
        observedOn: '2025-06-01',
        value: 'good',
        naturalKey: `cqc:${id}`,
      })
    }
    if (s.problem) observations.push(...problemObservations(id, s.problem))
  }
  await services.observations.append(observations)
  const dps = await services.dpsRepository.createDps({
    name: 'Test Home Care DPS',
    gates: { minimumQualityOutcome: 'good', registeredManagerInPost: true },
    lots: [
      { name: 'Reserve', tier: 'reserve', serviceType: 'home_care' },
      { name: 'Tier 2', tier: 'tier2', serviceType: 'home_care' },
      {
        name: 'Tier 1 South and Central',
        tier: 'tier1',
        zone: 'South and Central',
        areas: ['South', 'Central'],
        serviceType: 'home_care',
      },
      { name: 'Tier 1 North', tier: 'tier1', zone: 'North', serviceType: 'home_care' },
      {
        name: 'Learning disability',
        tier: 'specialist',
        serviceType: 'supported_living',
        specialism: 'learning_disability',
      },
    ],
  })
  const lotId = (name: string) => dps.lots.find((lot) => lot.name === name)!.id
  const lots = {
    north: lotId('Tier 1 North'),
    southCentral: lotId('Tier 1 South and Central'),
    tier2: lotId('Tier 2'),
    specialist: lotId('Learning disability'),
    reserve: lotId('Reserve'),
  }
  const admissions: Array<[string, number]> = [
    ['N-GREEN', lots.north],
    ['N-AMBER', lots.north],
    ['S-GREEN', lots.southCentral],
    ['C-GREEN', lots.southCentral],
    ['T2-GREEN', lots.tier2],
    ['T2-AMBER', lots.tier2],
    ['N-GREEN', lots.tier2],
    ['RES-GREEN', lots.reserve],
    ['SL-GREEN', lots.specialist],
    ...MARKET.filter((s) => s.ref.startsWith('G-')).map((s): [string, number] => [s.ref, lots.tier2]),
  ]
  for (const [ref, lot] of admissions) {
    await services.dpsRepository.admitMember({ lotId: lot, serviceId: serviceIds[ref] as number, on: '2025-01-01' })
  }
  await services.risk.recomputeServices(Object.values(serviceIds), 'test fixture')
  return { dpsId: dps.id, lots, serviceIds }
}

async function tokenFor(services: Services, role: Role): Promise<string> {
  const issued = await new ApiTokensRepository(services.db).create({ name: `${role}-script`, role }, 'test')
  return issued.secret
}

let services: Services
let app: Express
let fixture: Fixture
const tokens = {} as Record<Role, string>

beforeEach(async () => {
  services = createTestServices()
  fixture = await buildFixture(services)
  app = appWithAllRoutes(services)
  for (const role of ['admin', 'compliance', 'assessor'] as const) tokens[role] = await tokenFor(services, role)
})

const bearer = (role: Role) => ({ Authorization: `Bearer ${tokens[role]}` })

function award(overrides: Record<string, unknown> = {}) {
  return {
    serviceRef: 'N-GREEN',
    lotId: fixture.lots.north,
    weeklyHours: 14,
    startDate: '2026-12-01',
    reference: 'PKG-001',
    ...overrides,
  }
}

describe('GET /api/v1/dps', () => {
  it('refuses anonymous callers with 401', async () => {
    const response = await request(app).get('/api/v1/dps')
    expect(response.status).toBe(401)
    expect(response.body).toMatchObject({ error: expect.any(String), details: [] })
  })

  it.each(['assessor', 'compliance', 'admin'] as const)('gives every DPS with lots and members to %s', async (role) => {
    const response = await request(app).get('/api/v1/dps').set(bearer(role))
    expect(response.status).toBe(200)
    const [dps] = response.body.dps
    expect(dps).toMatchObject({ id: fixture.dpsId, name: 'Test Home Care DPS' })
    const north = dps.lots.find((lot: { id: number }) => lot.id === fixture.lots.north)
    expect(north).toMatchObject({ name: 'Tier 1 North', tier: 'tier1', zone: 'North', serviceType: 'home_care' })
    expect(north.members).toEqual([
      expect.objectContaining({ ref: 'N-AMBER', status: 'admitted', eligible: true, failingGates: [] }),
      expect.objectContaining({ ref: 'N-GREEN', status: 'admitted', eligible: true, failingGates: [] }),
    ])
    const tier2 = dps.lots.find((lot: { id: number }) => lot.id === fixture.lots.tier2)
    const embargoed = tier2.members.find((m: { ref: string }) => m.ref === 'G-EMB')
    expect(embargoed).toMatchObject({ eligible: false })
    expect(embargoed.failingGates.map((g: { gate: string }) => g.gate)).toContain('embargo')
  })

  it('gives one DPS by id, and 404 for an unknown one', async () => {
    expect((await request(app).get(`/api/v1/dps/${fixture.dpsId}`).set(bearer('assessor'))).body.id).toBe(fixture.dpsId)
    const missing = await request(app).get('/api/v1/dps/9999').set(bearer('assessor'))
    expect(missing.status).toBe(404)
    expect(missing.body.error).toBe('DPS not found')
    expect((await request(app).get('/api/v1/dps/abc').set(bearer('assessor'))).status).toBe(404)
  })
})

describe('GET /api/v1/dps/:id/referral', () => {
  const referral = (query: string, role: Role = 'assessor') =>
    request(app).get(`/api/v1/dps/${fixture.dpsId}/referral?${query}`).set(bearer(role))

  it('lists Tier 1 of the zone, then Tier 2 (Green before Amber), then reserve; the ineligible after, with why', async () => {
    const response = await referral('area=North&type=home_care')
    expect(response.status).toBe(200)
    expect(response.body.eligible.map((e: { ref: string; tier: string }) => `${e.tier}:${e.ref}`)).toEqual([
      'tier1:N-GREEN',
      'tier1:N-AMBER',
      'tier2:T2-GREEN',
      'tier2:T2-AMBER',
      'reserve:RES-GREEN',
    ])
    const ineligible = response.body.ineligible.map((e: { ref: string }) => e.ref)
    expect(ineligible.sort()).toEqual(['G-CQC', 'G-EMB', 'G-INS', 'G-MGR', 'G-QA', 'G-RAG'])
    const embargoed = response.body.ineligible.find((e: { ref: string }) => e.ref === 'G-EMB')
    expect(embargoed.why).toMatch(/^not eligible: .*embargo on new placements since 2026-11-02/)
    expect(response.body.eligible[0]).toMatchObject({
      ref: 'N-GREEN',
      name: 'N-GREEN Care',
      lotName: 'Tier 1 North',
      rag: 'green',
      cqcRating: 'good',
      cqcRatedOn: '2025-06-01',
      cqcAge: expect.stringContaining('year'),
      eligible: true,
      why: null,
    })
  })

  it('puts the Tier 1 lot of another zone first for an area in that zone', async () => {
    const response = await referral('area=central&type=Home care')
    expect(response.body.eligible.map((e: { ref: string }) => e.ref).slice(0, 3)).toEqual([
      'C-GREEN',
      'S-GREEN',
      'N-GREEN',
    ])
    expect(response.body.eligible[2]).toMatchObject({ ref: 'N-GREEN', tier: 'tier2', lotName: 'Tier 2' })
  })

  it('matches specialist lots by service type and need', async () => {
    const response = await referral('area=North&type=supported_living&needs=learning disability')
    expect(response.body.eligible.map((e: { ref: string }) => e.ref)).toEqual(['SL-GREEN'])
    expect((await referral('area=North&type=supported_living&needs=mental_health')).body.eligible).toEqual([])
  })

  it('answers a bad pen picture with 400 and the fields named', async () => {
    const response = await referral('type=spaceship&weeklyHours=-3&startDate=31/02/2026')
    expect(response.status).toBe(400)
    expect(response.body.details.map((d: { field: string }) => d.field).sort()).toEqual([
      'area',
      'startDate',
      'type',
      'weeklyHours',
    ])
  })

  it('answers 404 for an unknown DPS', async () => {
    const response = await request(app)
      .get('/api/v1/dps/9999/referral?area=North&type=home_care')
      .set(bearer('assessor'))
    expect(response.status).toBe(404)
  })
})

describe('POST /api/v1/dps/:id/awards', () => {
  const post = (body: unknown, role: Role = 'compliance', dpsId = fixture.dpsId) =>
    request(app)
      .post(`/api/v1/dps/${dpsId}/awards`)
      .set(bearer(role))
      .send(body as object)

  it('records an award for an eligible service: 201 with the award, audited', async () => {
    const response = await post(award(), 'compliance')
    expect(response.status).toBe(201)
    expect(response.body).toMatchObject({
      id: expect.any(Number),
      dpsId: fixture.dpsId,
      lotId: fixture.lots.north,
      serviceRef: 'N-GREEN',
      weeklyHours: 14,
      startDate: '2026-12-01',
      reference: 'PKG-001',
      contractStatus: 'contracted',
      createdBy: 'api-token:compliance-script',
    })
    const audit = await new AuditLog(services.db).list({ action: 'dps.award_recorded', limit: 10 })
    expect(audit).toHaveLength(1)
    expect(audit[0]).toMatchObject({ actor: 'api-token:compliance-script', entityType: 'award' })
    expect(audit[0]?.after).toMatchObject({ serviceRef: 'N-GREEN', reference: 'PKG-001' })
  })

  it('lets admin award, and refuses assessors (403) and anonymous callers, writing nothing', async () => {
    expect((await post(award({ reference: 'PKG-ADMIN' }), 'admin')).status).toBe(201)
    const assessor = await post(award({ reference: 'PKG-ASSESSOR' }), 'assessor')
    expect(assessor.status).toBe(403)
    const anonymous = await request(app)
      .post(`/api/v1/dps/${fixture.dpsId}/awards`)
      .send(award({ reference: 'X' }))
    // Without a session or token the CSRF check refuses first (403); with no CSRF in play it would be 401.
    expect([401, 403]).toContain(anonymous.status)
    expect(anonymous.body.error).toEqual(expect.any(String))
    const framework = await services.dps.getFramework(fixture.dpsId)
    expect(framework?.awardsLast12Months.map((a) => a.reference)).toEqual(['PKG-ADMIN'])
  })

  it('accepts a session with the CSRF header, and refuses one without it', async () => {
    const compliance = await signIn(app, services, 'compliance')
    const token = await compliance.csrf('/dps')
    const withToken = await compliance.agent
      .post(`/api/v1/dps/${fixture.dpsId}/awards`)
      .set('x-csrf-token', token)
      .send(award())
    expect(withToken.status).toBe(201)
    expect(withToken.body.createdBy).toBe('compliance@test.example')
    const without = await compliance.agent
      .post(`/api/v1/dps/${fixture.dpsId}/awards`)
      .send(award({ reference: 'PKG-2' }))
    expect(without.status).toBe(403)
  })

  it.each([
    ['cqc_rating', 'G-CQC'],
    ['rag', 'G-RAG'],
    ['embargo', 'G-EMB'],
    ['insolvency', 'G-INS'],
    ['quality_assessment', 'G-QA'],
    ['registered_manager', 'G-MGR'],
  ])('refuses with 409 naming the failing gate %s', async (gate, ref) => {
    const response = await post(award({ serviceRef: ref, lotId: fixture.lots.tier2 }))
    expect(response.status).toBe(409)
    expect(response.body.error).toMatch(/^Not eligible for new packages: /)
    expect(response.body.details.map((d: { gate: string }) => d.gate)).toContain(gate)
    for (const detail of response.body.details) expect(detail.reason).toEqual(expect.any(String))
    expect((await services.dps.getFramework(fixture.dpsId))?.awardsLast12Months).toEqual([])
  })

  it('refuses a service not admitted to the lot, and a suspended member, with 409 naming the membership', async () => {
    const notMember = await post(award({ serviceRef: 'S-GREEN', lotId: fixture.lots.north }))
    expect(notMember.status).toBe(409)
    expect(notMember.body.details).toEqual([{ gate: 'membership', reason: 'Not admitted to Tier 1 North' }])
    const membership = await services.dpsRepository.findMembership(fixture.lots.north, fixture.serviceIds['N-GREEN']!)
    await services.dpsRepository.suspendMember(membership!.id, { on: '2026-11-20', reason: 'Late returns' })
    const suspended = await post(award())
    expect(suspended.status).toBe(409)
    expect(suspended.body.details[0]).toEqual({
      gate: 'membership',
      reason: 'Membership of Tier 1 North suspended since 2026-11-20: Late returns',
    })
  })

  it('refuses a service that turned ineligible between the referral and the award', async () => {
    const referral = await request(app)
      .get(`/api/v1/dps/${fixture.dpsId}/referral?area=North&type=home_care`)
      .set(bearer('compliance'))
    expect(referral.body.eligible[0].ref).toBe('N-GREEN')
    const serviceId = fixture.serviceIds['N-GREEN']!
    await services.observations.append([
      {
        serviceId,
        indicator: 'embargo',
        source: 'council_form',
        observedOn: '2026-11-23',
        value: 'embargo',
        naturalKey: 'race',
      },
    ])
    await services.risk.recomputeServices([serviceId], 'embargo entered')
    const response = await post(award())
    expect(response.status).toBe(409)
    expect(response.body.details).toContainEqual({
      gate: 'embargo',
      reason: 'Embargo on new placements since 2026-11-23',
    })
  })

  it('refuses an embargo published while the award is on its way, before the DPS has re-stored the verdict', async () => {
    const serviceId = fixture.serviceIds['N-GREEN']!
    const record = services.dpsRepository.recordAwardIfEligible.bind(services.dpsRepository)
    const evaluate = services.dps.evaluateMemberships.bind(services.dps)
    let raced = false
    // Everything the award read before its write said "eligible". Just before the write, an embargo entered elsewhere
    // is published, and the DPS hook that re-stores verdicts has not run yet: only the write's own read can catch it.
    services.dpsRepository.recordAwardIfEligible = async (...args) => {
      raced = true
      services.dps.evaluateMemberships = async () => []
      await services.observations.append([
        {
          serviceId,
          indicator: 'embargo',
          source: 'council_form',
          observedOn: '2026-11-23',
          value: 'embargo',
          naturalKey: 'race-2',
        },
      ])
      await services.risk.recomputeServices([serviceId], 'embargo entered meanwhile')
      services.dps.evaluateMemberships = evaluate
      return record(...args)
    }
    const response = await post(award())
    expect(raced).toBe(true)
    expect((await services.dpsRepository.membershipsForService(serviceId))[0]?.eligibility?.eligible).toBe(true)
    expect(response.status).toBe(409)
    expect(response.body.details).toContainEqual({
      gate: 'embargo',
      reason: 'Embargo on new placements since 2026-11-23',
    })
    expect((await services.dps.getFramework(fixture.dpsId))?.awardsLast12Months).toEqual([])
  })

  it('answers bad input with 400 and a message per field, writing nothing', async () => {
    const response = await post({ lotId: 'x', weeklyHours: 0, startDate: '2026-13-01', reference: '' })
    expect(response.status).toBe(400)
    expect(response.body.error).toBe('Invalid award')
    expect(response.body.details).toEqual(
      expect.arrayContaining([
        { field: 'serviceRef', message: 'Enter the service reference' },
        { field: 'lotId', message: expect.any(String) },
        { field: 'weeklyHours', message: 'Weekly hours must be more than 0' },
        { field: 'startDate', message: 'Enter a real date, for example 2026-03-14' },
        { field: 'reference', message: 'Enter the package reference' },
      ]),
    )
    expect((await services.dps.getFramework(fixture.dpsId))?.awardsLast12Months).toEqual([])
  })

  it('answers 404 for an unknown DPS, service or lot', async () => {
    expect((await post(award(), 'compliance', 9999)).status).toBe(404)
    const service = await post(award({ serviceRef: 'NOPE' }))
    expect(service.status).toBe(404)
    expect(service.body.details).toEqual([{ field: 'serviceRef', message: 'No service with reference NOPE' }])
    const lot = await post(award({ lotId: 9999 }))
    expect(lot.status).toBe(404)
    expect(lot.body.details[0].field).toBe('lotId')
  })

  it('refuses a reference already used in the DPS with 409', async () => {
    expect((await post(award())).status).toBe(201)
    const again = await post(award({ weeklyHours: 7 }))
    expect(again.status).toBe(409)
    expect(again.body.details).toEqual([
      { field: 'reference', message: 'Reference PKG-001 is already used in this DPS' },
    ])
  })

  it('counts awards per member and the off-contract share', async () => {
    await post(award())
    await post(award({ serviceRef: 'T2-GREEN', lotId: fixture.lots.tier2, reference: 'PKG-002' }))
    const framework = await services.dps.getFramework(fixture.dpsId)
    expect(framework?.offContractShare).toEqual({ awards: 2, offContract: 1, share: 0.5 })
    const response = await request(app).get('/api/v1/dps').set(bearer('assessor'))
    const north = response.body.dps[0].lots.find((lot: { id: number }) => lot.id === fixture.lots.north)
    expect(north.members.find((m: { ref: string }) => m.ref === 'N-GREEN')).toMatchObject({
      awardsLast12Months: 1,
      weeklyHoursLast12Months: 14,
    })
  })
})

describe('eligibility at the next evaluation', () => {
  it('a CQC downgrade below Good, seen by the overnight refresh, removes eligibility: event, task, 409', async () => {
    const serviceId = fixture.serviceIds['S-GREEN']!
    // The CQC source reports a new rating; nothing is judged until the overnight run.
    await services.observations.append([
      {
        serviceId,
        indicator: 'cqc_rating',
        source: 'cqc_api',
        observedOn: '2026-11-10',
        value: 'requires_improvement',
        naturalKey: 'cqc-downgrade',
      },
    ])
    const runId = await services.runs.startRun('full', { trigger: 'overnight' })
    const computed = await services.risk.stageAll(runId, await services.risk.activeRuleSet(), services.clock.today())
    await services.risk.publishFull(runId, computed)

    const events = (await services.dps.eventsSince(runId - 1)).filter((e) => e.serviceRef === 'S-GREEN')
    expect(events).toMatchObject([
      {
        change: 'lost',
        runId,
        failingGates: [
          { gate: 'cqc_rating', reason: 'CQC rating Requires improvement is below Good (rated on 2026-11-10)' },
        ],
      },
    ])
    expect((await services.dps.openTasks()).filter((t) => t.serviceRef === 'S-GREEN')).toHaveLength(1)
    const response = await request(app)
      .post(`/api/v1/dps/${fixture.dpsId}/awards`)
      .set(bearer('compliance'))
      .send(award({ serviceRef: 'S-GREEN', lotId: fixture.lots.southCentral }))
    expect(response.status).toBe(409)
    expect(response.body.details.map((d: { gate: string }) => d.gate)).toEqual(['cqc_rating'])
  })
})

describe('GET /api/v1/dps/eligibility-events', () => {
  it('lists lost and regained eligibility with names, since a run', async () => {
    const before = await services.runs.startRun('entry', { trigger: 'marker' })
    const serviceId = fixture.serviceIds['N-GREEN']!
    await services.observations.append([
      {
        serviceId,
        indicator: 'embargo',
        source: 'council_form',
        observedOn: '2026-11-23',
        value: 'embargo',
        naturalKey: 'ev',
      },
    ])
    await services.risk.recomputeServices([serviceId], 'embargo entered')
    const response = await request(app).get(`/api/v1/dps/eligibility-events?sinceRun=${before}`).set(bearer('assessor'))
    expect(response.status).toBe(200)
    expect(response.body.events).toHaveLength(2)
    expect(response.body.events[0]).toMatchObject({
      change: 'lost',
      serviceRef: 'N-GREEN',
      serviceName: 'N-GREEN Care',
      dpsName: 'Test Home Care DPS',
      summary: expect.stringContaining('Lost eligibility for'),
    })
    expect((await request(app).get('/api/v1/dps/eligibility-events?sinceRun=-1').set(bearer('assessor'))).status).toBe(
      400,
    )
  })
})
