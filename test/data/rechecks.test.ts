import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { openTestDatabase, type Db } from '../../src/data/database.js'
import { ObservationRepository } from '../../src/data/observations.js'
import { RecheckRepository, type JudgementRecheck } from '../../src/data/rechecks.js'
import { RunRepository } from '../../src/data/runs.js'
import { createServices, newObservation, riskResult, serviceInput } from '../helpers/factories.js'

const T0 = Date.parse('2026-03-14T02:00:00.000Z')
const AS_OF = '2026-03-14'

describe('RecheckRepository', () => {
  let db: Db
  let runs: RunRepository
  let rechecks: RecheckRepository
  let ids: number[]

  function clockAt(minutes: number): string {
    vi.setSystemTime(T0 + minutes * 60_000)
    return new Date().toISOString()
  }

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    clockAt(0)
    db = openTestDatabase()
    runs = new RunRepository(db)
    rechecks = new RecheckRepository(db)
    ids = await createServices(db, [serviceInput(), serviceInput(), serviceInput(), serviceInput()])
  })

  afterEach(() => {
    vi.useRealTimers()
  })

  /** A published full run judging these services (all Green), with their recheck dates, in one transaction. */
  async function judge(entries: Array<Omit<JudgementRecheck, 'computedAt'>>, kind: 'full' | 'entry' = 'full') {
    const runId = await runs.startRun(kind)
    const computedAt = new Date().toISOString()
    const computed = entries.map(({ serviceId }) => ({ serviceId, result: riskResult({ rag: 'green' }) }))
    await runs.stageAndPublish(runId, computed, () => {
      rechecks.writeNow(
        runId,
        entries.map((entry) => ({ ...entry, computedAt })),
      )
    })
    return runId
  }

  const due = (query: { asOf?: string; version?: number; since?: string; changed?: number[] } = {}) =>
    rechecks.due({
      asOf: query.asOf ?? AS_OF,
      ruleSetVersion: query.version ?? 1,
      since: query.since ?? '2026-03-14T01:00:00.000Z',
      changedServiceIds: query.changed,
    })

  it('is due: every service never judged, or judged without a recheck row', async () => {
    const [a] = ids as [number]
    await runs.stageAndPublish(await runs.startRun('entry'), [{ serviceId: a, result: riskResult() }])
    const result = await due()
    expect(result.ids).toEqual(ids)
    expect(result.total).toBe(4)
    expect(result.byReason).toMatchObject({ no_recheck: 1, never_judged: 3 })
  })

  it('is not due when judged with a recheck date still ahead, or none, under the active rule set', async () => {
    const [a, b, c, d] = ids as [number, number, number, number]
    await judge([
      { serviceId: a, recheckOn: '2026-03-15', ruleSetVersion: 1 },
      { serviceId: b, recheckOn: null, ruleSetVersion: 1 },
      { serviceId: c, recheckOn: '2026-03-14', ruleSetVersion: 1 },
      { serviceId: d, recheckOn: null, ruleSetVersion: 2 },
    ])
    const today = await due()
    expect(today.ids).toEqual([c, d])
    expect(today.byReason).toMatchObject({ recheck_reached: 1, rule_set_changed: 1, never_judged: 0 })
    // The next day a's date is reached too; b stays until something changes.
    expect((await due({ asOf: '2026-03-15' })).ids).toEqual([a, c, d])
    // Under rule set 2 every service judged under 1 is due.
    expect((await due({ version: 2 })).ids).toEqual([a, b, c])
  })

  it('is due when observations were recorded since the last full run started, or a source reported it', async () => {
    const [a, b, c] = ids as [number, number, number]
    await judge(ids.map((serviceId) => ({ serviceId, recheckOn: null, ruleSetVersion: 1 })))
    const observations = new ObservationRepository(db)
    clockAt(-120)
    await observations.append([newObservation(a, { naturalKey: 'old' })])
    clockAt(60)
    await observations.append([newObservation(b, { naturalKey: 'new' })])
    const result = await due({ since: new Date(T0).toISOString(), changed: [c, 999_999] })
    expect(result.ids).toEqual([b, c])
    expect(result.byReason).toMatchObject({ new_observations: 1, reported_changed: 1 })
    // recorded_at is inclusive: an observation recorded at the very start counts.
    expect((await due({ since: new Date(T0 + 60 * 60_000).toISOString() })).ids).toEqual([b])
  })

  it('keeps the recheck of a later judgement: an earlier one published after it does not overwrite it', async () => {
    const [a, b] = ids as [number, number]
    // A full run computes at 02:00 but publishes after an entry computed at 02:10 for service a.
    const full = await runs.startRun('full')
    const fullComputedAt = clockAt(0)
    await runs.stageSnapshots(full, [
      { serviceId: a, result: riskResult({ rag: 'amber' }) },
      { serviceId: b, result: riskResult({ rag: 'amber' }) },
    ])
    clockAt(10)
    await judge([{ serviceId: a, recheckOn: '2026-04-01', ruleSetVersion: 1 }], 'entry')
    clockAt(20)
    await runs.publish(full, 2, () => {
      rechecks.writeNow(full, [
        { serviceId: a, recheckOn: '2026-03-20', ruleSetVersion: 1, computedAt: fullComputedAt },
        { serviceId: b, recheckOn: '2026-03-20', ruleSetVersion: 1, computedAt: fullComputedAt },
      ])
    })
    expect((await rechecks.get(a))?.recheckOn).toBe('2026-04-01')
    expect((await rechecks.get(b))?.recheckOn).toBe('2026-03-20')
    expect((await rechecks.get(b))?.runId).toBe(full)
    // A later judgement replaces it.
    clockAt(30)
    await judge([{ serviceId: a, recheckOn: null, ruleSetVersion: 1 }], 'entry')
    expect((await rechecks.get(a))?.recheckOn).toBeNull()
  })

  it('skips a service whose pointer a later judgement moved even when that run stored no recheck', async () => {
    const [a] = ids as [number]
    const full = await runs.startRun('full')
    const computedAt = clockAt(0)
    clockAt(5)
    // A judgement published later without a recheck row (e.g. the demo seed).
    await runs.stageAndPublish(await runs.startRun('entry'), [{ serviceId: a, result: riskResult({ rag: 'red' }) }])
    clockAt(10)
    await runs.publish(full, 1, () => {
      rechecks.writeNow(full, [{ serviceId: a, recheckOn: null, ruleSetVersion: 1, computedAt }])
    })
    expect(await rechecks.get(a)).toBeNull()
    expect((await due()).ids).toContain(a)
  })

  it('is written in the publish transaction: a publish that fails stores no recheck', async () => {
    const [a] = ids as [number]
    const runId = await runs.startRun('full')
    await runs.stageSnapshots(runId, [{ serviceId: a, result: riskResult() }])
    await expect(
      runs.publish(runId, 1, () => {
        rechecks.writeNow(runId, [{ serviceId: a, recheckOn: null, ruleSetVersion: 1, computedAt: new Date().toISOString() }])
        throw new Error('eligibility failed')
      }),
    ).rejects.toThrow('eligibility failed')
    expect(await rechecks.get(a)).toBeNull()
  })
})
