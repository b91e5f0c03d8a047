import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { openTestDatabase } from '../../src/data/database.js'
import { RecheckRepository } from '../../src/data/rechecks.js'
import { DEFAULT_RULE_SET_DOCUMENT } from '../../src/domain/defaultRuleSet.js'
import type { NewObservation } from '../../src/domain/observation.js'
import { createLogger } from '../../src/logger.js'
import { createServices, type Services } from '../../src/services/container.js'
import { RefreshService, type SourceStep } from '../../src/services/refreshService.js'
import { fixedClock } from '../helpers/appHarness.js'
import { serviceInput } from '../helpers/factories.js'

/**
 * The nightly refresh recomputes only the services whose judgement could have changed (SPEC §6): new observations, a
 * source's report, a recheck date reached (src/domain/recheck.ts), another rule set, never judged. The rest keep
 * their published judgement, and the DPS gate is re-evaluated for the recomputed ones only.
 */
const T0 = Date.parse('2026-11-23T01:00:00.000Z')

describe('the nightly refresh recomputes only due services', () => {
  let clock: ReturnType<typeof fixedClock>
  let services: Services
  let ids: { a: number; b: number; c: number }
  let rechecks: RecheckRepository
  /** Observations the next night's source step brings (and the services it reports changed). */
  let tonight: { observations: NewObservation[]; reported: number[] }
  let minutes = 0

  /** Real time moves on between nights (recorded_at and run start times are compared). */
  function tick(): void {
    minutes += 10
    vi.setSystemTime(T0 + minutes * 60_000)
  }

  const step: SourceStep = {
    source: 'test_source',
    label: 'Test source',
    configured: true,
    run: async () => {
      const appended = await services.observations.append(tonight.observations)
      const changedServiceIds = [...new Set([...appended.changedServiceIds, ...tonight.reported])]
      tonight = { observations: [], reported: [] }
      return {
        read: 0,
        matched: 0,
        changed: changedServiceIds.length,
        unchanged: 0,
        rejected: 0,
        rejects: [],
        changedServiceIds,
      }
    },
  }

  async function night(options: { all?: boolean } = {}) {
    tick()
    const summary = await new RefreshService(services, [step]).run({ trigger: 'test', ...options })
    tick()
    return summary
  }

  const membershipOf = (serviceId: number) =>
    services.db
      .prepare(
        `SELECT e.eligible, e.run_id AS runId FROM dps_memberships m
         JOIN membership_eligibility e ON e.membership_id = m.id WHERE m.service_id = ?`,
      )
      .get(serviceId) as { eligible: number; runId: number } | undefined

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    minutes = 0
    vi.setSystemTime(T0)
    clock = fixedClock('2026-11-23')
    const config = loadConfig({
      NODE_ENV: 'test',
      DATABASE_PATH: ':memory:',
      TZ: 'Europe/London',
      INBOX_DIR: '/nonexistent/test-inbox',
    })
    services = createServices(openTestDatabase(), config, createLogger('silent'), clock)
    rechecks = new RecheckRepository(services.db)
    tonight = { observations: [], reported: [] }
    const [a, b, c] = await services.serviceRepository.upsertMany([serviceInput(), serviceInput(), serviceInput()])
    ids = { a: a!.id, b: b!.id, c: c!.id }
    await services.observations.append([
      // a and c: rated Good last year (stale only in 2028).
      {
        serviceId: ids.a,
        indicator: 'cqc_rating',
        source: 'cqc_api',
        observedOn: '2025-09-01',
        value: 'good',
        naturalKey: 'cqc:a',
      },
      {
        serviceId: ids.c,
        indicator: 'cqc_rating',
        source: 'cqc_api',
        observedOn: '2025-09-01',
        value: 'good',
        naturalKey: 'cqc:c',
      },
      {
        serviceId: ids.b,
        indicator: 'cqc_rating',
        source: 'cqc_api',
        observedOn: '2025-09-01',
        value: 'good',
        naturalKey: 'cqc:b',
      },
      // b: an embargo lifted on 2026-12-01: Red until then.
      {
        serviceId: ids.b,
        indicator: 'embargo',
        source: 'council_form',
        observedOn: '2026-11-01',
        endDate: '2026-12-01',
        value: 'embargo',
        naturalKey: 'council:embargo:b',
      },
    ])
    const dps = await services.dpsRepository.createDps({
      name: 'Home care DPS',
      gates: {},
      lots: [{ name: 'Tier 2', tier: 'tier2', serviceType: 'home_care' }],
    })
    for (const serviceId of Object.values(ids)) {
      await services.dpsRepository.admitMember({ lotId: dps.lots[0]!.id, serviceId, on: '2026-01-01' })
    }
  })

  afterEach(() => {
    vi.useRealTimers()
  })

  it('judges every service the first night, none the second when nothing changed', async () => {
    const first = await night()
    expect(first).toMatchObject({ recompute: 'all', servicesComputed: 3, servicesTotal: 3, servicesSkipped: 0 })
    expect((await rechecks.get(ids.b))?.recheckOn).toBe('2026-12-01')

    const second = await night()
    expect(second).toMatchObject({ recompute: 'due', servicesComputed: 0, servicesSkipped: 3, servicesChanged: 0 })
    expect((await services.runs.getRun(second.runId))?.servicesComputed).toBe(0)
    // No membership re-gated: each keeps the verdict of the first night.
    for (const serviceId of Object.values(ids)) expect(membershipOf(serviceId)?.runId).toBe(first.runId)
  })

  it('recomputes a service with a new observation, and its DPS membership turns ineligible when it turns Red', async () => {
    const first = await night()
    expect(membershipOf(ids.a)?.eligible).toBe(1)
    tonight.observations = [
      {
        serviceId: ids.a,
        indicator: 'cqc_rating',
        source: 'cqc_api',
        observedOn: '2026-11-20',
        value: 'inadequate',
        naturalKey: 'cqc:a2',
      },
    ]
    const second = await night()
    expect(second).toMatchObject({ recompute: 'due', servicesComputed: 1, ragChanges: 1 })
    expect(second.dueReasons).toMatchObject({ new_observations: 1 })
    expect((await services.runs.current(ids.a))?.result.rag).toBe('red')
    expect(membershipOf(ids.a)).toEqual({ eligible: 0, runId: second.runId })
    expect(membershipOf(ids.c)?.runId).toBe(first.runId)

    // Recorded during the last full run: judged once more the next night, then left alone.
    expect((await night()).servicesComputed).toBe(1)
    expect((await night()).servicesComputed).toBe(0)
  })

  it('recomputes a service a source reported changed even with no new observation', async () => {
    await night()
    tonight.reported = [ids.c]
    const second = await night()
    expect(second).toMatchObject({ servicesComputed: 1, servicesChanged: 0 })
    expect(second.dueReasons).toMatchObject({ reported_changed: 1 })
  })

  it('recomputes a service on its recheck date: the embargo lifted, it turns Green and eligible again', async () => {
    await night()
    expect((await services.runs.current(ids.b))?.result.rag).toBe('red')
    expect(membershipOf(ids.b)?.eligible).toBe(0)
    clock.set('2026-11-30')
    expect((await night()).servicesComputed).toBe(0)
    clock.set('2026-12-01')
    const lifted = await night()
    expect(lifted).toMatchObject({ servicesComputed: 1, ragChanges: 1 })
    expect(lifted.dueReasons).toMatchObject({ recheck_reached: 1 })
    expect((await services.runs.current(ids.b))?.result.rag).toBe('green')
    expect(membershipOf(ids.b)).toEqual({ eligible: 1, runId: lifted.runId })
  })

  it('recomputes every service under a new rule set, and every one when forced', async () => {
    await night()
    // A rule set saved without its own recompute (say that recompute failed): every judgement is of another version.
    const stricter = structuredClone(DEFAULT_RULE_SET_DOCUMENT)
    stricter.name = 'Stricter'
    await services.ruleSets.save(stricter, 'admin')
    const next = await night()
    expect(next).toMatchObject({ recompute: 'due', servicesComputed: 3 })
    expect(next.dueReasons).toMatchObject({ rule_set_changed: 3 })
    expect((await night()).servicesComputed).toBe(0)

    const forced = await night({ all: true })
    expect(forced).toMatchObject({ recompute: 'all', servicesComputed: 3, servicesSkipped: 0 })
    for (const serviceId of Object.values(ids)) expect(membershipOf(serviceId)?.runId).toBe(forced.runId)
  })

  it('stores the recheck dates of an entry run, so the next night skips the services it judged', async () => {
    await night()
    tick()
    await services.observations.append([
      {
        serviceId: ids.c,
        indicator: 'manager_vacancy',
        source: 'council_form',
        observedOn: '2026-11-20',
        value: 'vacant',
        naturalKey: 'mv:c',
      },
    ])
    const entry = await services.risk.recomputeServices([ids.c], 'form')
    expect(await rechecks.get(ids.c)).toMatchObject({ runId: entry.runId, recheckOn: '2026-11-24' })
    // The vacancy was recorded after the last full run started: due that night all the same (and then daily).
    expect((await night()).servicesComputed).toBe(1)
  })

  it('evaluates a membership admitted since the last night even when its service is not due', async () => {
    await night()
    const dps = await services.dpsRepository.createDps({
      name: 'Second DPS',
      gates: {},
      lots: [{ name: 'Lot', tier: 'tier2', serviceType: 'home_care' }],
    })
    await services.dpsRepository.admitMember({ lotId: dps.lots[0]!.id, serviceId: ids.b, on: '2026-11-23' })
    expect(await services.dpsRepository.servicesWithUnevaluatedMemberships()).toEqual([ids.b])
    const next = await night()
    expect(next.servicesComputed).toBe(0)
    expect(await services.dpsRepository.servicesWithUnevaluatedMemberships()).toEqual([])
    const verdicts = services.db
      .prepare(
        `SELECT e.eligible FROM dps_memberships m JOIN membership_eligibility e ON e.membership_id = m.id
         WHERE m.service_id = ? ORDER BY m.id`,
      )
      .pluck()
      .all(ids.b)
    // b is Red under its embargo until 2026-12-01: refused by both lots.
    expect(verdicts).toEqual([0, 0])
  })

  it('a service added since the last run is judged', async () => {
    await night()
    const [d] = await services.serviceRepository.upsertMany([serviceInput()])
    const next = await night()
    expect(next).toMatchObject({ servicesComputed: 1, servicesTotal: 4 })
    expect(next.dueReasons).toMatchObject({ never_judged: 1 })
    expect(await services.runs.current(d!.id)).not.toBeNull()
  })
})
