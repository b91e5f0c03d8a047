import { beforeEach, describe, expect, it } from 'vitest'
import { openTestDatabase, type Db } from '../../src/data/database.js'
import { ObservationRepository } from '../../src/data/observations.js'
import { RuleSetRepository } from '../../src/data/ruleSets.js'
import { RecheckRepository } from '../../src/data/rechecks.js'
import { RunRepository } from '../../src/data/runs.js'
import { ServiceRepository } from '../../src/data/services.js'
import { DEFAULT_RULE_SET_DOCUMENT } from '../../src/domain/defaultRuleSet.js'
import { RiskService } from '../../src/services/riskService.js'
import { createService, newObservation } from '../helpers/factories.js'

const TODAY = '2026-03-14'

describe('RiskService', () => {
  let db: Db
  let runs: RunRepository
  let ruleSets: RuleSetRepository
  let observations: ObservationRepository
  let risk: RiskService
  let published: Array<{ runId: number; changed: number[]; all: number[] | 'all' }>

  beforeEach(() => {
    db = openTestDatabase()
    runs = new RunRepository(db)
    ruleSets = new RuleSetRepository(db)
    observations = new ObservationRepository(db)
    published = []
    risk = new RiskService({
      services: new ServiceRepository(db),
      observations,
      runs,
      ruleSets,
      today: () => TODAY,
      afterPublish: [
        async (runId, changed, all) => {
          published.push({ runId, changed, all })
        },
      ],
    })
  })

  const embargo = (serviceId: number, observedOn: string, key = 'E-1') =>
    newObservation(serviceId, {
      indicator: 'embargo',
      source: 'council_form',
      value: 'embargo',
      observedOn,
      naturalKey: `council:embargo:${key}`,
    })

  it('stores the default rule set as version 1 the first time, and reads it back after', async () => {
    const first = await risk.activeRuleSet()
    expect(first.version).toBe(1)
    expect(first.ruleSet.multipleConcerns.amberCount).toBe(3)
    expect((await risk.activeRuleSet()).version).toBe(1)
    expect((await ruleSets.current())?.version).toBe(1)
  })

  it('judges with the latest stored rule set, recording its version', async () => {
    await risk.activeRuleSet()
    const stricter = structuredClone(DEFAULT_RULE_SET_DOCUMENT)
    const embargoRules: { activeLevel: string } = stricter.indicators.embargo
    embargoRules.activeLevel = 'amber'
    const version = await ruleSets.save(stricter, 'admin@example.org')
    const serviceId = await createService(db)
    await observations.append([embargo(serviceId, '2026-03-01')])

    const result = await risk.assess(serviceId)

    expect(result).toMatchObject({ ruleSetVersion: version, rag: 'amber', asOf: TODAY })
  })

  it('refuses to judge under a stored rule set that no longer validates', async () => {
    await risk.activeRuleSet()
    const broken = structuredClone(DEFAULT_RULE_SET_DOCUMENT) as Record<string, unknown>
    delete broken.multipleConcerns
    await ruleSets.save(broken, 'admin@example.org')
    await expect(risk.activeRuleSet()).rejects.toThrow(/Stored rule set version 2 is invalid: multipleConcerns/)
  })

  it('recomputes the touched services as one published entry run, then runs the publish hooks', async () => {
    const a = await createService(db)
    const b = await createService(db)
    const untouched = await createService(db)
    await observations.append([embargo(a, '2026-03-10')])

    const outcome = await risk.recomputeServices([a, b, a], 'form: embargo')

    expect(await runs.getRun(outcome.runId)).toMatchObject({
      kind: 'entry',
      trigger: 'form: embargo',
      status: 'completed',
      servicesComputed: 2,
    })
    expect((await runs.current(a))?.result).toMatchObject({ rag: 'red', asOf: TODAY })
    expect((await runs.current(a))?.result.reasons[0]).toBe('Embargo on new placements since 2026-03-10')
    expect((await runs.current(b))?.result.rag).toBe('green')
    expect(await runs.current(untouched)).toBeNull()
    expect(published).toEqual([{ runId: outcome.runId, changed: [a, b], all: [a, b] }])

    const again = await risk.recomputeServices([a, b], 'form: nothing new')
    expect(again).toMatchObject({ changed: 0, ragChanges: 0 })
  })

  it('marks the entry run failed and rethrows when judging fails', async () => {
    const serviceId = await createService(db)
    const failing = new RiskService({
      services: new ServiceRepository(db),
      observations,
      runs,
      ruleSets,
      today: () => TODAY,
      overrides: {
        activeFor: async () => {
          throw new Error('override store unavailable')
        },
      },
    })
    await expect(failing.recomputeServices([serviceId], 'form')).rejects.toThrow('override store unavailable')
    const [run] = await runs.listRuns({ limit: 1 })
    expect(run).toMatchObject({ kind: 'entry', status: 'failed', error: 'override store unavailable' })
    expect(await runs.current(serviceId)).toBeNull()
  })

  it('stages every service for a full run, invisible until published, with progress', async () => {
    const ids = [await createService(db), await createService(db), await createService(db)]
    await observations.append([embargo(ids[1] as number, '2026-02-01')])
    const rules = await risk.activeRuleSet()
    const runId = await runs.startRun('full', { trigger: 'test', ruleSetVersion: rules.version })
    const progress: Array<[number, number]> = []

    const computed = await risk.stageAll(runId, rules, TODAY, (done, total) => progress.push([done, total]))

    expect(computed).toBe(3)
    expect(progress.at(-1)).toEqual([3, 3])
    for (const id of ids) expect(await runs.current(id)).toBeNull()
    const outcome = await risk.publishFull(runId, computed)
    expect(outcome.changed).toBe(3)
    expect((await runs.current(ids[1] as number))?.result.rag).toBe('red')
    expect(published.at(-1)).toMatchObject({ runId, all: 'all' })
  })

  it('stages only the due services, publishing their recheck dates and handing the hooks those ids', async () => {
    const rechecks = new RecheckRepository(db)
    const selective = new RiskService({
      services: new ServiceRepository(db),
      observations,
      runs,
      ruleSets,
      today: () => TODAY,
      rechecks,
      afterPublish: [
        async (runId, changed, all) => {
          published.push({ runId, changed, all })
        },
      ],
    })
    const [a, b, c] = [await createService(db), await createService(db), await createService(db)]
    await observations.append([
      newObservation(b, { indicator: 'embargo', observedOn: '2026-03-01', endDate: '2026-04-01', naturalKey: 'e:b' }),
    ])
    const rules = await selective.activeRuleSet()
    // No full run published yet: every service.
    const first = await runs.startRun('full')
    expect(await selective.stageDue(first, rules, TODAY, null)).toEqual({ computed: 3, due: null })
    await selective.publishFull(first, 3)
    expect(published.at(-1)).toMatchObject({ runId: first, all: 'all' })
    expect((await rechecks.get(b))?.recheckOn).toBe('2026-04-01')
    expect((await rechecks.get(a))?.recheckOn).toBeNull()

    const since = (await runs.getRun(first))!.startedAt
    const second = await runs.startRun('full')
    const staged = await selective.stageDue(second, rules, '2026-04-01', since, { changedServiceIds: [c] })
    expect(staged.computed).toBe(2)
    expect(staged.due?.ids).toEqual([b, c])
    const outcome = await selective.publishFull(second, staged.computed)
    expect(published.at(-1)).toEqual({ runId: second, changed: outcome.changedServiceIds, all: [b, c] })
    expect((await runs.current(b))?.result.rag).toBe('green')
    expect((await runs.getRun(second))?.servicesComputed).toBe(2)
    expect(await rechecks.get(b)).toMatchObject({ runId: second })
    expect((await rechecks.get(b))!.recheckOn! > '2026-04-01').toBe(true)
  })

  it('applies an active override from the lookup until it expires', async () => {
    const serviceId = await createService(db)
    risk.useOverrides({
      activeFor: async (serviceIds, asOf) =>
        new Map(
          serviceIds
            .filter(() => asOf <= '2026-03-31')
            .map((id) => [id, { rag: 'red', reason: 'Police inquiry', expiresOn: '2026-03-31', setBy: 'x' }]),
        ),
    })
    expect(await risk.assess(serviceId)).toMatchObject({ rag: 'red', computedRag: 'green' })
    expect(await risk.assess(serviceId, '2026-04-01')).toMatchObject({ rag: 'green', override: null })
  })
})
