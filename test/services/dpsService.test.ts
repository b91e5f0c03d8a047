import { beforeEach, describe, expect, it } from 'vitest'
import { openTestDatabase, type Db } from '../../src/data/database.js'
import { DpsRepository } from '../../src/data/dps.js'
import type { EligibilityFacts } from '../../src/domain/eligibility.js'
import type { ServiceType } from '../../src/domain/vocabulary.js'
import {
  awardInputSchema,
  DEMO_DPS_NAME,
  DpsService,
  penPictureSchema,
  type DemoService,
} from '../../src/services/dpsService.js'

const NOW = '2026-01-01T00:00:00.000Z'
const TODAY = '2026-11-20'

const goodFacts: EligibilityFacts = {
  cqcOverall: 'good',
  cqcRatedOn: '2024-05-01',
  rag: 'green',
  embargoActiveSince: null,
  insolvent: false,
  companyStatus: 'active',
  qualityOutcome: null,
  managerInPost: null,
}

function insertService(
  db: Db,
  ref: string,
  serviceType: ServiceType,
  area: string,
  contract = 'contracted',
): DemoService {
  const provider = db
    .prepare('INSERT INTO providers (name, created_at, updated_at) VALUES (?, ?, ?)')
    .run(`Provider ${ref}`, NOW, NOW)
  const service = db
    .prepare(
      `INSERT INTO services (ref, name, provider_id, service_type, area, contract_status, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(ref, `Care ${ref}`, provider.lastInsertRowid, serviceType, area, contract, NOW, NOW)
  return { id: Number(service.lastInsertRowid), ref, serviceType, area }
}

/** Publishes a (minimal) judgement for the service, so the award's transaction finds one to read the facts of. */
function publishJudgement(db: Db, serviceId: number): void {
  const runId = insertRun(db)
  const result = JSON.stringify({ rag: 'green', indicators: [] })
  const snapshot = db
    .prepare(
      `INSERT INTO snapshots (run_id, service_id, as_of, computed_at, rag, computed_rag, score, result, fingerprint,
         rule_set_version)
       VALUES (?, ?, ?, ?, 'green', 'green', 0, ?, 'test', 1)`,
    )
    .run(runId, serviceId, TODAY, NOW, result)
  db.prepare(
    `INSERT INTO current_snapshots (service_id, snapshot_id, run_id, changed_at, rag, score) VALUES (?, ?, ?, ?, 'green', 0)
     ON CONFLICT (service_id) DO UPDATE SET snapshot_id = excluded.snapshot_id, run_id = excluded.run_id`,
  ).run(serviceId, snapshot.lastInsertRowid, runId, NOW)
}

function insertRun(db: Db): number {
  const run = db
    .prepare(`INSERT INTO refresh_runs (kind, started_at, status) VALUES ('entry', ?, 'completed')`)
    .run(new Date().toISOString())
  return Number(run.lastInsertRowid)
}

describe('DpsService', () => {
  let db: Db
  let repository: DpsRepository
  let facts: Map<number, EligibilityFacts>
  let service: DpsService
  let byRef: Map<string, DemoService>
  let dpsId: number

  function setFacts(ref: string, change: Partial<EligibilityFacts>): void {
    const id = byRef.get(ref)?.id as number
    facts.set(id, { ...(facts.get(id) ?? goodFacts), ...change })
  }

  const lots = new Map<string, number>()

  beforeEach(async () => {
    db = openTestDatabase()
    repository = new DpsRepository(db)
    facts = new Map()
    // The facts of each service's published judgement are the test's map (read in the award transaction too).
    service = new DpsService({
      repository,
      currentFacts: async (id) => facts.get(id) ?? null,
      judgementFacts: (judgement) => facts.get(judgement.serviceId) ?? null,
      today: () => TODAY,
    })
    const demo = [
      insertService(db, 'HC-N1', 'home_care', 'North'),
      insertService(db, 'HC-N2', 'home_care', 'North'),
      insertService(db, 'HC-N3', 'home_care', 'North'),
      insertService(db, 'HC-N4', 'home_care', 'North'),
      insertService(db, 'HC-S1', 'home_care', 'South'),
      insertService(db, 'HC-C1', 'home_care', 'Central'),
      insertService(db, 'HC-E1', 'home_care', 'East', 'off_contract'),
      insertService(db, 'SL-1', 'supported_living', 'West'),
      insertService(db, 'SL-2', 'supported_living', 'North'),
    ]
    byRef = new Map(demo.map((s) => [s.ref, s]))
    for (const s of demo) {
      facts.set(s.id, goodFacts)
      publishJudgement(db, s.id)
    }
    const dps = await service.seedDemoDps(demo, '2025-04-01')
    dpsId = dps.id
    lots.clear()
    for (const lot of dps.lots) lots.set(lot.name, lot.id)
  })

  describe('seedDemoDps', () => {
    it('builds the three-zone Tier 1, Tier 2 and specialist shape', async () => {
      const dps = await repository.getDps(dpsId)
      expect(dps?.name).toBe(DEMO_DPS_NAME)
      const membership = Object.fromEntries(
        (dps?.lots ?? []).map((lot) => [lot.name, lot.members.map((m) => m.serviceRef)]),
      )
      expect(membership).toEqual({
        'Tier 1: East and West': ['HC-E1'],
        'Tier 1: North': ['HC-N1', 'HC-N2', 'HC-N3'],
        'Tier 1: South and Central': ['HC-C1', 'HC-S1'],
        'Tier 2: Borough-wide': ['HC-N4'],
        'Specialist: Learning disability': ['SL-1', 'SL-2'],
        'Specialist: Mental health': ['SL-1'],
      })
    })

    it('seeds the demo past: verdicts as of the published judgements, then a year of awards to eligible members', async () => {
      setFacts('HC-N2', { embargoActiveSince: '2026-10-01' })
      // The run of the latest published judgement (here each service was judged by a run of its own).
      const judgedBy = Math.max(
        ...(await Promise.all([...byRef.values()].map((s) => repository.currentJudgement(s.id)))).map((j) => j!.runId),
      )
      const recorded = await service.seedDemoHistory(dpsId)
      expect(recorded).toBe(48)
      const events = await repository.eventsSince(0)
      expect(events.map((e) => [e.serviceRef, e.eligible, e.runId])).toEqual([['HC-N2', false, judgedBy]])
      const awards = await repository.listAwards(dpsId, '2000-01-01')
      expect(awards).toHaveLength(48)
      expect(awards.some((a) => a.serviceRef === 'HC-N2')).toBe(false)
      expect(awards.every((a) => a.createdAt >= '2025-11-20' && a.createdAt < TODAY)).toBe(true)
      expect(awards.at(-1)?.createdAt.slice(0, 10)).toBe('2025-11-26')
      expect(awards[0]?.createdAt.slice(0, 10)).toBe('2026-11-13')
      const page = await service.getFramework(dpsId)
      expect(page?.offContractShare).toEqual({ awards: 48, offContract: 10, share: 10 / 48 })
      // The councils' story: the share going off-contract falls quarter by quarter.
      expect(page?.offContractByQuarter.map((q) => [q.from, q.to, q.share.awards, q.share.offContract])).toEqual([
        ['2025-11-21', '2026-02-21', 12, 6],
        ['2026-02-21', '2026-05-21', 12, 3],
        ['2026-05-21', '2026-08-21', 12, 1],
        ['2026-08-21', '2026-11-21', 12, 0],
      ])
      expect(awards.filter((a) => a.contractStatus === 'off_contract').every((a) => a.serviceRef === 'HC-E1')).toBe(
        true,
      )
      expect(await service.seedDemoHistory(dpsId)).toBe(0)
      expect(await repository.listAwards(dpsId, '2000-01-01')).toHaveLength(48)
    })

    it('adds nothing when run again', async () => {
      const again = await service.seedDemoDps([...byRef.values()], '2025-05-01')
      expect(again.id).toBe(dpsId)
      expect(again.lots.flatMap((lot) => lot.members)).toHaveLength(10)
      expect(again.lots.flatMap((lot) => lot.members).every((m) => m.admittedOn === '2025-04-01')).toBe(true)
    })
  })

  describe('listFrameworks', () => {
    it('gives each DPS with lots and members in the SPEC §9 shape', async () => {
      setFacts('HC-N2', { embargoActiveSince: '2026-11-02' })
      await service.evaluateMemberships(insertRun(db))
      const [framework] = await service.listFrameworks()
      expect(framework).toMatchObject({ id: dpsId, name: DEMO_DPS_NAME })
      const north = framework?.lots.find((lot) => lot.name === 'Tier 1: North')
      expect(north).toMatchObject({ tier: 'tier1', zone: 'North', serviceType: 'home_care' })
      expect(north?.members.map((m) => [m.ref, m.status, m.eligible, m.failingGates])).toEqual([
        ['HC-N1', 'admitted', true, []],
        ['HC-N2', 'admitted', false, [{ gate: 'embargo', reason: 'Embargo on new placements since 2026-11-02' }]],
        ['HC-N3', 'admitted', true, []],
      ])
    })

    it('uses live facts for a member never evaluated, and reports a suspended member as not eligible', async () => {
      const membership = await repository.findMembership(lots.get('Tier 1: North') as number, byRef.get('HC-N1')!.id)
      await repository.suspendMember(membership!.id, { on: '2026-10-01', reason: 'Late returns' })
      setFacts('HC-N3', { cqcOverall: 'requires_improvement' })
      const [framework] = await service.listFrameworks()
      const north = framework?.lots.find((lot) => lot.name === 'Tier 1: North')
      expect(north?.members.map((m) => [m.ref, m.eligible, m.failingGates.map((g) => g.gate)])).toEqual([
        ['HC-N1', false, ['membership']],
        ['HC-N2', true, []],
        ['HC-N3', false, ['cqc_rating']],
      ])
    })
  })

  describe('evaluateMemberships', () => {
    it('a downgrade below Good loses eligibility at the next evaluation; a re-run changes nothing', async () => {
      expect(await service.evaluateMemberships(insertRun(db))).toEqual([])
      setFacts('HC-N1', { cqcOverall: 'requires_improvement', cqcRatedOn: '2026-11-10' })
      const events = await service.evaluateMemberships(insertRun(db))
      expect(events.map((e) => [e.serviceRef, e.eligible, e.failingGates[0]?.reason])).toEqual([
        ['HC-N1', false, 'CQC rating Requires improvement is below Good (rated on 2026-11-10)'],
      ])
      expect(await service.evaluateMemberships(insertRun(db))).toEqual([])
      expect((await repository.openTasks()).map((t) => t.serviceId)).toEqual([byRef.get('HC-N1')?.id])
    })

    it('evaluates only the services given, and leaves services with no facts alone', async () => {
      setFacts('HC-N1', { embargoActiveSince: '2026-11-02' })
      setFacts('HC-N2', { embargoActiveSince: '2026-11-02' })
      facts.delete(byRef.get('HC-N3')!.id)
      const events = await service.evaluateMemberships(insertRun(db), [byRef.get('HC-N1')!.id, byRef.get('HC-N3')!.id])
      expect(events.map((e) => e.serviceRef)).toEqual(['HC-N1'])
    })
  })

  describe('award', () => {
    const input = (serviceRef: string, lot: string, reference = 'PKG-1') =>
      awardInputSchema.parse({
        serviceRef,
        lotId: String(lots.get(lot)),
        weeklyHours: '14',
        startDate: '01/12/2026',
        reference,
      })

    it('records an award for an eligible member', async () => {
      const outcome = await service.award(dpsId, input('HC-N1', 'Tier 1: North'), 'broker@example.org')
      expect(outcome).toMatchObject({
        ok: true,
        award: { serviceRef: 'HC-N1', weeklyHours: 14, startDate: '2026-12-01', createdBy: 'broker@example.org' },
      })
    })

    it('an embargo entered bars awards at once; lifting it restores eligibility', async () => {
      setFacts('HC-N1', { embargoActiveSince: '2026-11-02' })
      const refused = await service.award(dpsId, input('HC-N1', 'Tier 1: North'), null)
      expect(refused).toMatchObject({
        ok: false,
        refused: 'ineligible',
        failingGates: [{ gate: 'embargo', reason: 'Embargo on new placements since 2026-11-02' }],
      })
      setFacts('HC-N1', { embargoActiveSince: null })
      expect((await service.award(dpsId, input('HC-N1', 'Tier 1: North'), null)).ok).toBe(true)
    })

    it.each([
      ['cqc_rating', { cqcOverall: 'inadequate' }],
      ['rag', { rag: 'red' }],
      ['embargo', { embargoActiveSince: '2026-11-02' }],
      ['insolvency', { insolvent: true, companyStatus: 'liquidation' }],
    ] as const)('refuses with the %s gate named', async (gate, change) => {
      setFacts('HC-N1', change)
      const outcome = await service.award(dpsId, input('HC-N1', 'Tier 1: North'), null)
      expect(outcome.ok).toBe(false)
      expect(!outcome.ok && outcome.failingGates.map((g) => g.gate)).toEqual([gate])
    })

    it('refuses a service with no current facts', async () => {
      facts.delete(byRef.get('HC-N1')!.id)
      const outcome = await service.award(dpsId, input('HC-N1', 'Tier 1: North'), null)
      expect(outcome).toMatchObject({ ok: false, refused: 'ineligible', failingGates: [{ gate: 'data' }] })
    })

    it('refuses a race: an embargo published after the referral, before its verdict is stored, bars the award', async () => {
      const referral = await service.referral(dpsId, { area: 'North', serviceType: 'home_care' })
      expect(referral?.eligible.map((e) => e.serviceRef)).toContain('HC-N1')
      // Another request publishes a judgement with an embargo; the DPS has not re-stored the verdict yet.
      setFacts('HC-N1', { embargoActiveSince: '2026-11-20' })
      const outcome = await service.award(dpsId, input('HC-N1', 'Tier 1: North'), null)
      expect(outcome).toMatchObject({
        ok: false,
        refused: 'ineligible',
        failingGates: [{ gate: 'embargo', reason: 'Embargo on new placements since 2026-11-20' }],
      })
      expect(await repository.listAwards(dpsId, '2000-01-01')).toEqual([])
    })

    it('refuses a race: a "not eligible" verdict stored by another request wins', async () => {
      const n1 = byRef.get('HC-N1')!.id
      const [membership] = (await repository.membershipsToEvaluate([n1])).filter(
        (m) => m.lotId === lots.get('Tier 1: North'),
      )
      await repository.applyEligibility(insertRun(db), [
        {
          membershipId: membership!.membershipId,
          eligible: false,
          failingGates: [{ gate: 'rag', reason: 'Overall RAG is Red' }],
        },
      ])
      const outcome = await service.award(dpsId, input('HC-N1', 'Tier 1: North'), null)
      expect(outcome).toMatchObject({ ok: false, failingGates: [{ gate: 'rag', reason: 'Overall RAG is Red' }] })
    })

    it('refuses a service with no published judgement', async () => {
      db.prepare('DELETE FROM current_snapshots WHERE service_id = ?').run(byRef.get('HC-N1')!.id)
      const outcome = await service.award(dpsId, input('HC-N1', 'Tier 1: North'), null)
      expect(outcome).toMatchObject({ ok: false, refused: 'ineligible', failingGates: [{ gate: 'data' }] })
    })

    it('refuses a service not in the lot, an unknown service and an unknown DPS', async () => {
      expect(await service.award(dpsId, input('HC-N4', 'Tier 1: North'), null)).toMatchObject({
        refused: 'ineligible',
        failingGates: [{ gate: 'membership', reason: 'Not admitted to Tier 1: North' }],
      })
      expect(await service.award(dpsId, input('NOPE', 'Tier 1: North'), null)).toMatchObject({ refused: 'not_found' })
      expect(await service.award(9999, input('HC-N1', 'Tier 1: North'), null)).toMatchObject({ refused: 'not_found' })
    })
  })

  describe('referral', () => {
    it('lists the other Tier 1 services first and an embargoed one under "not eligible"', async () => {
      setFacts('HC-N1', { embargoActiveSince: '2026-11-02' })
      setFacts('HC-N3', { rag: 'amber' })
      await service.evaluateMemberships(insertRun(db))
      const pen = penPictureSchema.parse({ area: 'North', serviceType: 'Home care', weeklyHours: '10' })
      const referral = await service.referral(dpsId, pen)
      expect(referral?.eligible.map((e) => [e.serviceRef, e.tier])).toEqual([
        ['HC-N2', 'tier1'],
        ['HC-N3', 'tier1'],
        ['HC-N4', 'tier2'],
      ])
      expect(referral?.ineligible.map((e) => [e.serviceRef, e.why])).toEqual([
        ['HC-N1', 'not eligible: embargo on new placements since 2026-11-02'],
      ])
      expect(referral?.eligible[0]).toMatchObject({
        cqcRating: 'good',
        cqcRatedOn: '2024-05-01',
        cqcAge: '2 years, 6 months',
      })
    })

    it('uses the zone covering the area and the specialist lots for the needs', async () => {
      const central = await service.referral(dpsId, { area: 'Central', serviceType: 'home_care' })
      expect(central?.eligible.map((e) => e.serviceRef)).toEqual(['HC-C1', 'HC-S1', 'HC-N4'])
      const mentalHealth = await service.referral(dpsId, {
        area: 'East',
        serviceType: 'supported_living',
        needs: ['mental health'],
      })
      expect(mentalHealth?.eligible.map((e) => [e.serviceRef, e.lotName])).toEqual([
        ['SL-1', 'Specialist: Mental health'],
      ])
      expect(await service.referral(9999, { area: 'North', serviceType: 'home_care' })).toBeNull()
    })
  })

  describe('getFramework', () => {
    it('counts awards per member in the last 12 months and the off-contract share', async () => {
      const award = (serviceRef: string, lot: string, reference: string) =>
        service.award(
          dpsId,
          { serviceRef, lotId: lots.get(lot) as number, weeklyHours: 10, startDate: '2026-12-01', reference },
          null,
        )
      expect((await award('HC-N1', 'Tier 1: North', 'A')).ok).toBe(true)
      expect((await award('HC-N1', 'Tier 1: North', 'B')).ok).toBe(true)
      expect((await award('HC-E1', 'Tier 1: East and West', 'C')).ok).toBe(true)
      const page = await service.getFramework(dpsId)
      const member = (lot: string, ref: string) =>
        page?.lots.find((l) => l.name === lot)?.members.find((m) => m.ref === ref)
      expect(member('Tier 1: North', 'HC-N1')).toMatchObject({ awardsLast12Months: 2, weeklyHoursLast12Months: 20 })
      expect(member('Tier 1: North', 'HC-N2')).toMatchObject({ awardsLast12Months: 0 })
      expect(page?.offContractShare).toEqual({ awards: 3, offContract: 1, share: 1 / 3 })
      expect(page?.awardsLast12Months).toHaveLength(3)
      expect(await service.getFramework(9999)).toBeNull()
    })
  })
})

describe('input schemas', () => {
  it('parse an award body and reject bad values with readable messages', () => {
    expect(
      awardInputSchema.parse({
        serviceRef: ' S1 ',
        lotId: 3,
        weeklyHours: 7.5,
        startDate: '2026-12-01',
        reference: 'R',
      }),
    ).toEqual({ serviceRef: 'S1', lotId: 3, weeklyHours: 7.5, startDate: '2026-12-01', reference: 'R' })
    const bad = awardInputSchema.safeParse({ serviceRef: '', lotId: 0, weeklyHours: -1, startDate: '12/31/2026' })
    expect(bad.success).toBe(false)
    expect(bad.error?.issues.map((issue) => issue.path[0])).toEqual(
      expect.arrayContaining(['serviceRef', 'lotId', 'weeklyHours', 'startDate', 'reference']),
    )
    // Form text is read as a number; true, [1] or blank text are not numbers.
    const base = { serviceRef: 'S1', startDate: '2026-12-01', reference: 'R' }
    expect(awardInputSchema.parse({ ...base, lotId: ' 3 ', weeklyHours: '7.5' })).toMatchObject({
      lotId: 3,
      weeklyHours: 7.5,
    })
    for (const [lotId, weeklyHours] of [
      [true, 10],
      [[1], 10],
      [' ', 10],
      [1, true],
      [1, [7]],
      [1, 'seven'],
    ]) {
      expect(awardInputSchema.safeParse({ ...base, lotId, weeklyHours }).success).toBe(false)
    }
  })

  it('parse a pen picture with needs as a list or comma-separated text', () => {
    expect(
      penPictureSchema.parse({
        area: 'North',
        serviceType: 'supported-living',
        needs: 'learning disability, mental health',
      }),
    ).toEqual({
      area: 'North',
      serviceType: 'supported_living',
      needs: ['learning disability', 'mental health'],
    })
    expect(penPictureSchema.safeParse({ area: 'North', serviceType: 'spaceship' }).success).toBe(false)
  })
})
