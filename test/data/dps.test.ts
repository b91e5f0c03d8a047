import { beforeEach, describe, expect, it } from 'vitest'
import { openTestDatabase, type Db } from '../../src/data/database.js'
import { DpsRepository, type AwardTransactionFacts, type CurrentJudgement, type DpsWithLots } from '../../src/data/dps.js'
import { decideAward } from '../../src/domain/award.js'
import { DEFAULT_GATES, gatesSchema, type EligibilityResult, type Gates } from '../../src/domain/eligibility.js'

const NOW = '2026-01-01T00:00:00.000Z'

function insertService(db: Db, ref: string, contractStatus = 'contracted', area = 'North'): number {
  const provider = db
    .prepare('INSERT INTO providers (name, created_at, updated_at) VALUES (?, ?, ?)')
    .run(`Provider of ${ref}`, NOW, NOW)
  const service = db
    .prepare(
      `INSERT INTO services (ref, name, provider_id, service_type, area, contract_status, created_at, updated_at)
       VALUES (?, ?, ?, 'home_care', ?, ?, ?, ?)`,
    )
    .run(ref, `Service ${ref}`, provider.lastInsertRowid, area, contractStatus, NOW, NOW)
  return Number(service.lastInsertRowid)
}

function insertRun(db: Db): number {
  const run = db
    .prepare(`INSERT INTO refresh_runs (kind, started_at, status) VALUES ('full', ?, 'completed')`)
    .run(new Date().toISOString())
  return Number(run.lastInsertRowid)
}

const eligible: EligibilityResult = { eligible: true, failingGates: [] }
const embargoed: EligibilityResult = {
  eligible: false,
  failingGates: [{ gate: 'embargo', reason: 'Embargo on new placements since 2026-11-02' }],
}

/** The domain's award decision, with the live gate verdict given by `check` (as the DPS service does with the gates). */
function deciding(check: (current: CurrentJudgement | null, gates: Gates) => EligibilityResult) {
  return (facts: AwardTransactionFacts) => decideAward({ ...facts, liveVerdict: check(facts.current, facts.gates) })
}

describe('DpsRepository', () => {
  let db: Db
  let repository: DpsRepository
  let dps: DpsWithLots
  let serviceA: number
  let serviceB: number
  let tier1: number
  let tier2: number

  beforeEach(async () => {
    db = openTestDatabase()
    repository = new DpsRepository(db)
    serviceA = insertService(db, 'S-A')
    serviceB = insertService(db, 'S-B', 'off_contract')
    dps = await repository.createDps({
      name: 'Home Care DPS',
      description: 'Test',
      gates: DEFAULT_GATES,
      lots: [
        { name: 'Tier 2', tier: 'tier2', serviceType: 'home_care' },
        { name: 'Tier 1 North', tier: 'tier1', zone: 'North', areas: ['North'], serviceType: 'home_care' },
      ],
    })
    tier1 = dps.lots.find((lot) => lot.tier === 'tier1')?.id as number
    tier2 = dps.lots.find((lot) => lot.tier === 'tier2')?.id as number
  })

  describe('frameworks and lots', () => {
    it('creates a DPS with its gates and lots, tiers in allocation order', async () => {
      expect(dps).toMatchObject({ name: 'Home Care DPS', description: 'Test', gates: DEFAULT_GATES })
      expect(dps.lots.map((lot) => [lot.name, lot.tier, lot.zone, lot.areas])).toEqual([
        ['Tier 1 North', 'tier1', 'North', ['North']],
        ['Tier 2', 'tier2', null, []],
      ])
      expect(await repository.listDps()).toHaveLength(1)
      expect((await repository.findDpsByName('Home Care DPS'))?.id).toBe(dps.id)
      expect(await repository.getDps(9999)).toBeNull()
    })

    it('refuses a second DPS of the same name', async () => {
      await expect(repository.createDps({ name: 'Home Care DPS', gates: DEFAULT_GATES })).rejects.toThrow()
    })

    it('updates gates and adds lots', async () => {
      expect(await repository.updateGates(dps.id, gatesSchema.parse({ maximumRag: 'green' }))).toBe(true)
      const lot = await repository.addLot(dps.id, {
        name: 'Mental health',
        tier: 'specialist',
        serviceType: 'supported_living',
        specialism: 'mental_health',
      })
      const reread = await repository.getDps(dps.id)
      expect(reread?.gates.maximumRag).toBe('green')
      expect(reread?.lots.map((l) => l.id)).toContain(lot.id)
      expect(await repository.findLot(lot.id)).toMatchObject({ specialism: 'mental_health', dpsId: dps.id })
    })
  })

  describe('memberships', () => {
    it('admits, suspends, removes and re-admits, with dates and reasons', async () => {
      const admitted = await repository.admitMember({ lotId: tier1, serviceId: serviceA, on: '2025-04-01' })
      expect(admitted).toMatchObject({ status: 'admitted', admittedOn: '2025-04-01', statusChangedOn: '2025-04-01' })
      expect(await repository.admitMember({ lotId: tier1, serviceId: serviceA, on: '2025-05-01' })).toEqual(admitted)

      const suspended = await repository.suspendMember(admitted.id, { on: '2025-06-01', reason: 'Late returns' })
      expect(suspended).toMatchObject({ status: 'suspended', statusChangedOn: '2025-06-01', reason: 'Late returns' })
      const removed = await repository.removeMember(admitted.id, { on: '2025-07-01', reason: 'Left the market' })
      expect(removed).toMatchObject({ status: 'removed', statusChangedOn: '2025-07-01', admittedOn: '2025-04-01' })
      const back = await repository.admitMember({ lotId: tier1, serviceId: serviceA, on: '2025-08-01', reason: 'Re-applied' })
      expect(back).toMatchObject({ id: admitted.id, status: 'admitted', admittedOn: '2025-08-01', reason: 'Re-applied' })
      expect(await repository.suspendMember(9999, { on: '2025-06-01', reason: 'x' })).toBeNull()
    })

    it('lists members per lot with the service and its stored verdict', async () => {
      const membership = await repository.admitMember({ lotId: tier1, serviceId: serviceA, on: '2025-04-01' })
      await repository.admitMember({ lotId: tier2, serviceId: serviceB, on: '2025-04-01' })
      await repository.applyEligibility(insertRun(db), [{ membershipId: membership.id, ...embargoed }])
      const reread = (await repository.getDps(dps.id)) as DpsWithLots
      const [north, borough] = reread.lots
      expect(north?.members).toHaveLength(1)
      expect(north?.members[0]).toMatchObject({
        serviceRef: 'S-A',
        serviceName: 'Service S-A',
        providerName: 'Provider of S-A',
        contractStatus: 'contracted',
        eligibility: { eligible: false, failingGates: embargoed.failingGates },
        rag: null,
        reasons: [],
      })
      expect(borough?.members[0]).toMatchObject({ serviceRef: 'S-B', eligibility: null })
    })

    it('lists a service’s memberships and the memberships to evaluate (not removed)', async () => {
      const one = await repository.admitMember({ lotId: tier1, serviceId: serviceA, on: '2025-04-01' })
      const two = await repository.admitMember({ lotId: tier2, serviceId: serviceA, on: '2025-04-01' })
      await repository.admitMember({ lotId: tier2, serviceId: serviceB, on: '2025-04-01' })
      await repository.removeMember(two.id, { on: '2025-05-01', reason: 'Moved to Tier 1' })
      const ofA = await repository.membershipsForService(serviceA)
      expect(ofA.map((m) => [m.lotName, m.tier, m.status, m.dpsName])).toEqual([
        ['Tier 1 North', 'tier1', 'admitted', 'Home Care DPS'],
        ['Tier 2', 'tier2', 'removed', 'Home Care DPS'],
      ])
      const all = await repository.membershipsToEvaluate()
      expect(all.map((m) => m.serviceId).sort()).toEqual([serviceA, serviceB].sort())
      const onlyA = await repository.membershipsToEvaluate([serviceA])
      expect(onlyA).toEqual([{ membershipId: one.id, serviceId: serviceA, lotId: tier1, dpsId: dps.id, gates: DEFAULT_GATES }])
    })

    it('refuses a membership of an unknown service', async () => {
      await expect(repository.admitMember({ lotId: tier1, serviceId: 9999, on: '2025-04-01' })).rejects.toThrow()
    })
  })

  describe('applyEligibility', () => {
    it('writes a lost event and opens one review task, then nothing when re-run', async () => {
      const membership = await repository.admitMember({ lotId: tier1, serviceId: serviceA, on: '2025-04-01' })
      const run1 = insertRun(db)
      expect(await repository.applyEligibility(run1, [{ membershipId: membership.id, ...eligible }])).toEqual([])

      const run2 = insertRun(db)
      const lost = await repository.applyEligibility(run2, [{ membershipId: membership.id, ...embargoed }])
      expect(lost).toHaveLength(1)
      expect(lost[0]).toMatchObject({
        membershipId: membership.id,
        runId: run2,
        eligible: false,
        failingGates: embargoed.failingGates,
        serviceRef: 'S-A',
        lotName: 'Tier 1 North',
        dpsName: 'Home Care DPS',
      })
      const tasks = await repository.openTasks()
      expect(tasks).toHaveLength(1)
      expect(tasks[0]).toMatchObject({
        kind: 'review_membership',
        serviceId: serviceA,
        membershipId: membership.id,
        closedAt: null,
        note: 'Embargo on new placements since 2026-11-02',
      })

      // The same verdict again, under the same run or the next: no event, no second task.
      expect(await repository.applyEligibility(run2, [{ membershipId: membership.id, ...embargoed }])).toEqual([])
      expect(await repository.applyEligibility(insertRun(db), [{ membershipId: membership.id, ...embargoed }])).toEqual([])
      expect(await repository.openTasks()).toHaveLength(1)
      expect(await repository.eventsSince(0)).toHaveLength(1)
    })

    it('writes a regained event when eligibility returns, and lists events since a run', async () => {
      const membership = await repository.admitMember({ lotId: tier1, serviceId: serviceA, on: '2025-04-01' })
      const run1 = insertRun(db)
      await repository.applyEligibility(run1, [{ membershipId: membership.id, ...embargoed }])
      const run2 = insertRun(db)
      const regained = await repository.applyEligibility(run2, [{ membershipId: membership.id, ...eligible }])
      expect(regained.map((e) => [e.eligible, e.runId])).toEqual([[true, run2]])
      // The regain says what the membership had been lost on; the loss says why.
      const lostAt = (await repository.eventsSince(0))[0]!.at
      expect(regained[0]).toMatchObject({
        failingGates: [],
        lost: { at: lostAt, failingGates: embargoed.failingGates },
        reasons: ['No longer: Embargo on new placements since 2026-11-02'],
      })
      expect((await repository.eventsSince(0))[0]).toMatchObject({
        lost: null,
        reasons: ['Embargo on new placements since 2026-11-02'],
      })
      expect((await repository.eventsSince(run1)).map((e) => e.eligible)).toEqual([true])
      expect((await repository.eventsSince(0)).map((e) => e.eligible)).toEqual([false, true])
      expect((await repository.eventsForService(serviceA)).map((e) => e.eligible)).toEqual([true, false])
      const [stored] = await repository.membershipsForService(serviceA)
      expect(stored?.eligibility).toMatchObject({ eligible: true, failingGates: [], runId: run2 })
    })

    it('treats a first evaluation as a change only when it finds the member ineligible', async () => {
      const a = await repository.admitMember({ lotId: tier1, serviceId: serviceA, on: '2025-04-01' })
      const b = await repository.admitMember({ lotId: tier1, serviceId: serviceB, on: '2025-04-01' })
      const events = await repository.applyEligibility(insertRun(db), [
        { membershipId: a.id, ...eligible },
        { membershipId: b.id, ...embargoed },
      ])
      expect(events.map((e) => e.membershipId)).toEqual([b.id])
    })

    it('opens a new review task after the previous one was closed', async () => {
      const membership = await repository.admitMember({ lotId: tier1, serviceId: serviceA, on: '2025-04-01' })
      await repository.applyEligibility(insertRun(db), [{ membershipId: membership.id, ...embargoed }])
      const [task] = await repository.openTasks()
      expect(await repository.closeTask(task?.id as number, 'officer@example.org', 'Kept on the DPS')).toBe(true)
      expect(await repository.closeTask(task?.id as number, 'officer@example.org')).toBe(false)
      expect(await repository.openTasks()).toEqual([])
      await repository.applyEligibility(insertRun(db), [{ membershipId: membership.id, ...eligible }])
      await repository.applyEligibility(insertRun(db), [{ membershipId: membership.id, ...embargoed }])
      expect(await repository.openTasks()).toHaveLength(1)
    })

    it('writes nothing when one evaluation in the batch fails', async () => {
      const membership = await repository.admitMember({ lotId: tier1, serviceId: serviceA, on: '2025-04-01' })
      await expect(
        repository.applyEligibility(insertRun(db), [
          { membershipId: membership.id, ...embargoed },
          { membershipId: 9999, ...embargoed },
        ]),
      ).rejects.toThrow()
      expect(await repository.eventsSince(0)).toEqual([])
      expect(await repository.openTasks()).toEqual([])
    })
  })

  describe('awards', () => {
    const award = (serviceId: number, lotId: number, reference: string) => ({
      dpsId: 0,
      lotId,
      serviceId,
      weeklyHours: 12.5,
      startDate: '2026-12-01',
      reference,
      createdBy: 'broker@example.org',
    })

    it('records an award for an eligible admitted member', async () => {
      await repository.admitMember({ lotId: tier1, serviceId: serviceA, on: '2025-04-01' })
      const outcome = await repository.recordAwardIfEligible({ ...award(serviceA, tier1, 'PKG-1'), dpsId: dps.id }, deciding(() => eligible))
      expect(outcome).toMatchObject({
        ok: true,
        award: { serviceRef: 'S-A', weeklyHours: 12.5, reference: 'PKG-1', contractStatus: 'contracted' },
      })
      expect(await repository.listAwards(dps.id, '2000-01-01')).toHaveLength(1)
    })

    it('refuses when the gate check fails, naming the gates, and writes nothing', async () => {
      await repository.admitMember({ lotId: tier1, serviceId: serviceA, on: '2025-04-01' })
      const outcome = await repository.recordAwardIfEligible({ ...award(serviceA, tier1, 'PKG-1'), dpsId: dps.id }, deciding(() => embargoed))
      expect(outcome).toEqual({
        ok: false,
        refused: 'ineligible',
        message: 'Not eligible for new packages: Embargo on new placements since 2026-11-02',
        failingGates: embargoed.failingGates,
      })
      expect(await repository.listAwards(dps.id, '2000-01-01')).toEqual([])
    })

    it('refuses a race: a verdict stored after the caller read its facts wins over the stale check', async () => {
      const membership = await repository.admitMember({ lotId: tier1, serviceId: serviceA, on: '2025-04-01' })
      await repository.applyEligibility(insertRun(db), [{ membershipId: membership.id, ...eligible }])
      const staleCheck = eligible // what the caller saw at referral time
      await repository.applyEligibility(insertRun(db), [{ membershipId: membership.id, ...embargoed }])
      const outcome = await repository.recordAwardIfEligible({ ...award(serviceA, tier1, 'PKG-1'), dpsId: dps.id }, deciding(() => staleCheck))
      expect(outcome).toMatchObject({ ok: false, refused: 'ineligible', failingGates: embargoed.failingGates })
    })

    it('calls the gate check inside the transaction', async () => {
      await repository.admitMember({ lotId: tier1, serviceId: serviceA, on: '2025-04-01' })
      let inTransaction = false
      await repository.recordAwardIfEligible({ ...award(serviceA, tier1, 'PKG-1'), dpsId: dps.id }, deciding(() => {
        inTransaction = db.inTransaction
        return eligible
      }))
      expect(inTransaction).toBe(true)
    })

    it('hands the gate check the published judgement and the gates as they are inside the transaction', async () => {
      await repository.admitMember({ lotId: tier1, serviceId: serviceA, on: '2025-04-01' })
      const seen: unknown[] = []
      await repository.recordAwardIfEligible({ ...award(serviceA, tier1, 'PKG-0'), dpsId: dps.id }, deciding((current, gates) => {
        seen.push(current, gates.maximumRag)
        return eligible
      }))
      expect(seen).toEqual([null, 'amber'])

      const runId = insertRun(db)
      const result = { rag: 'red', indicators: [{ key: 'embargo', level: 'red', value: 'Active', date: '2026-11-02' }] }
      const snapshot = db
        .prepare(
          `INSERT INTO snapshots (run_id, service_id, as_of, computed_at, rag, computed_rag, score, result, fingerprint,
             rule_set_version) VALUES (?, ?, '2026-11-20', ?, 'red', 'red', 9, ?, 'f', 1)`,
        )
        .run(runId, serviceA, NOW, JSON.stringify(result))
      db.prepare(
        `INSERT INTO current_snapshots (service_id, snapshot_id, run_id, changed_at, rag, score)
         VALUES (?, ?, ?, ?, 'red', 9)`,
      ).run(serviceA, snapshot.lastInsertRowid, runId, NOW)
      await repository.updateGates(dps.id, { ...DEFAULT_GATES, maximumRag: null })
      seen.length = 0
      await repository.recordAwardIfEligible({ ...award(serviceA, tier1, 'PKG-1'), dpsId: dps.id }, deciding((current, gates) => {
        seen.push(current, gates.maximumRag)
        return eligible
      }))
      expect(seen).toEqual([
        { serviceId: serviceA, snapshotId: Number(snapshot.lastInsertRowid), runId, result },
        null,
      ])
      expect(await repository.currentJudgement(serviceA)).toMatchObject({ runId, result: { rag: 'red' } })
    })

    it('refuses a service that is not an admitted member of the lot', async () => {
      const notMember = await repository.recordAwardIfEligible({ ...award(serviceA, tier1, 'PKG-1'), dpsId: dps.id }, deciding(() => eligible))
      expect(notMember).toMatchObject({
        ok: false,
        refused: 'ineligible',
        failingGates: [{ gate: 'membership', reason: 'Not admitted to Tier 1 North' }],
      })
      const membership = await repository.admitMember({ lotId: tier1, serviceId: serviceA, on: '2025-04-01' })
      await repository.suspendMember(membership.id, { on: '2026-02-01', reason: 'Late returns' })
      const suspended = await repository.recordAwardIfEligible({ ...award(serviceA, tier1, 'PKG-1'), dpsId: dps.id }, deciding(() => eligible))
      expect(suspended).toMatchObject({
        failingGates: [{ gate: 'membership', reason: 'Membership of Tier 1 North suspended since 2026-02-01: Late returns' }],
      })
    })

    it('refuses a lot of another DPS or an unknown service as not found', async () => {
      const other = await repository.createDps({
        name: 'Other DPS',
        gates: DEFAULT_GATES,
        lots: [{ name: 'Lot', tier: 'tier2', serviceType: 'home_care' }],
      })
      const otherLot = other.lots[0]?.id as number
      expect(
        await repository.recordAwardIfEligible({ ...award(serviceA, otherLot, 'PKG-1'), dpsId: dps.id }, deciding(() => eligible)),
      ).toMatchObject({ ok: false, refused: 'not_found' })
      expect(
        await repository.recordAwardIfEligible({ ...award(9999, tier1, 'PKG-1'), dpsId: dps.id }, deciding(() => eligible)),
      ).toMatchObject({ ok: false, refused: 'not_found' })
    })

    it('refuses a reference already used in the DPS', async () => {
      await repository.admitMember({ lotId: tier1, serviceId: serviceA, on: '2025-04-01' })
      const first = await repository.recordAwardIfEligible({ ...award(serviceA, tier1, 'PKG-1'), dpsId: dps.id }, deciding(() => eligible))
      const again = await repository.recordAwardIfEligible({ ...award(serviceA, tier1, 'PKG-1'), dpsId: dps.id }, deciding(() => eligible))
      expect(first.ok).toBe(true)
      expect(again).toMatchObject({ ok: false, refused: 'duplicate_reference' })
    })

    it('counts awards per member and the off-contract share of a period', async () => {
      await repository.admitMember({ lotId: tier1, serviceId: serviceA, on: '2025-04-01' })
      await repository.admitMember({ lotId: tier2, serviceId: serviceB, on: '2025-04-01' })
      for (const [serviceId, lotId, reference] of [
        [serviceA, tier1, 'PKG-1'],
        [serviceA, tier1, 'PKG-2'],
        [serviceB, tier2, 'PKG-3'],
      ] as const) {
        const outcome = await repository.recordAwardIfEligible({ ...award(serviceId, lotId, reference), dpsId: dps.id }, deciding(() => eligible))
        expect(outcome.ok).toBe(true)
      }
      // An award made long ago falls outside the last 12 months.
      db.prepare(`UPDATE awards SET created_at = '2020-01-01T10:00:00.000Z' WHERE reference = 'PKG-2'`).run()

      const since = '2025-01-01'
      const perMember = await repository.awardsPerMember(dps.id, since)
      expect(perMember).toHaveLength(2)
      expect(perMember).toEqual(
        expect.arrayContaining([
          { lotId: tier1, serviceId: serviceA, awards: 1, weeklyHours: 12.5 },
          { lotId: tier2, serviceId: serviceB, awards: 1, weeklyHours: 12.5 },
        ]),
      )
      expect(await repository.offContractShare({ from: since, to: '9999-12-31' })).toEqual({
        awards: 2,
        offContract: 1,
        share: 0.5,
      })
      expect(await repository.offContractShare({ from: '2019-01-01', to: '2021-01-01', dpsId: dps.id })).toEqual({
        awards: 1,
        offContract: 0,
        share: 0,
      })
      expect(await repository.offContractShare({ from: '2010-01-01', to: '2011-01-01' })).toEqual({
        awards: 0,
        offContract: 0,
        share: null,
      })
    })

    it('keeps the contract status of the award time', async () => {
      await repository.admitMember({ lotId: tier2, serviceId: serviceB, on: '2025-04-01' })
      await repository.recordAwardIfEligible({ ...award(serviceB, tier2, 'PKG-1'), dpsId: dps.id }, deciding(() => eligible))
      db.prepare(`UPDATE services SET contract_status = 'contracted' WHERE id = ?`).run(serviceB)
      expect((await repository.offContractShare({ from: '2000-01-01', to: '9999-12-31' })).offContract).toBe(1)
    })
  })

  it('finds a service id by ref', async () => {
    expect(await repository.serviceIdByRef('S-A')).toBe(serviceA)
    expect(await repository.serviceIdByRef('nope')).toBeNull()
  })
})
