import { beforeEach, expect, it } from 'vitest'
import type { JudgementRecheck } from '../../src/data/rechecks.js'
import type { Repositories, Store } from '../../src/data/store.js'
import { newObservation, riskResult, serviceInput } from '../helpers/factories.js'
import { describeEachStore } from '../helpers/stores.js'

const T0 = Date.parse('2026-03-14T02:00:00.000Z')
const AS_OF = '2026-03-14'

/** Judgements are told apart by when they were computed: the times are given, not read from a clock. */
function at(minutes: number): string {
  return new Date(T0 + minutes * 60_000).toISOString()
}

const pause = () => new Promise((resolve) => setTimeout(resolve, 5))

describeEachStore('RecheckRepository', (openStore) => {
  let store: Store
  let runs: Repositories['runs']
  let rechecks: Repositories['rechecks']
  let ids: number[]

  beforeEach(async () => {
    store = await openStore()
    runs = store.repositories.runs
    rechecks = store.repositories.rechecks
    const created = await store.repositories.services.upsertMany([
      serviceInput(),
      serviceInput(),
      serviceInput(),
      serviceInput(),
    ])
    ids = created.map((outcome) => outcome.id)
  })

  /** A published run judging these services (all Green), with their recheck dates, in one transaction. */
  async function judge(
    entries: Array<Omit<JudgementRecheck, 'computedAt'>>,
    kind: 'full' | 'entry' = 'full',
    computedAt = at(0),
  ) {
    const runId = await runs.startRun(kind)
    const computed = entries.map(({ serviceId }) => ({ serviceId, result: riskResult({ rag: 'green' }) }))
    await runs.stageAndPublish(runId, computed, {
      rechecks: entries.map((entry) => ({ ...entry, computedAt })),
      now: computedAt,
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
    const observations = store.repositories.observations
    await observations.append([newObservation(a, { naturalKey: 'old' })])
    await pause()
    const runStart = new Date().toISOString()
    await pause()
    await observations.append([newObservation(b, { naturalKey: 'new' })])
    const result = await due({ since: runStart, changed: [c, 999_999] })
    expect(result.ids).toEqual([b, c])
    expect(result.byReason).toMatchObject({ new_observations: 1, reported_changed: 1 })
    // recorded_at is inclusive: an observation recorded at the very start counts.
    const recordedAt = (await observations.listLive(b))[0]?.recordedAt as string
    expect((await due({ since: recordedAt })).ids).toEqual([b])
  })

  it('keeps the recheck of a later judgement: an earlier one published after it does not overwrite it', async () => {
    const [a, b] = ids as [number, number]
    // A full run computes at 02:00 but publishes after an entry computed at 02:10 for service a.
    const full = await runs.startRun('full')
    const fullComputedAt = at(0)
    await runs.stageSnapshots(
      full,
      [
        { serviceId: a, result: riskResult({ rag: 'amber' }) },
        { serviceId: b, result: riskResult({ rag: 'amber' }) },
      ],
      fullComputedAt,
    )
    await judge([{ serviceId: a, recheckOn: '2026-04-01', ruleSetVersion: 1 }], 'entry', at(10))
    await runs.publish(full, 2, {
      now: at(20),
      rechecks: [
        { serviceId: a, recheckOn: '2026-03-20', ruleSetVersion: 1, computedAt: fullComputedAt },
        { serviceId: b, recheckOn: '2026-03-20', ruleSetVersion: 1, computedAt: fullComputedAt },
      ],
    })
    expect((await rechecks.get(a))?.recheckOn).toBe('2026-04-01')
    expect((await rechecks.get(b))?.recheckOn).toBe('2026-03-20')
    expect((await rechecks.get(b))?.runId).toBe(full)
    // A later judgement replaces it.
    await judge([{ serviceId: a, recheckOn: null, ruleSetVersion: 1 }], 'entry', at(30))
    expect((await rechecks.get(a))?.recheckOn).toBeNull()
  })

  it('skips a service whose pointer a later judgement moved even when that run stored no recheck', async () => {
    const [a] = ids as [number]
    const full = await runs.startRun('full')
    const computedAt = at(0)
    // A judgement published later without a recheck row (e.g. the demo seed).
    await runs.stageAndPublish(await runs.startRun('entry'), [{ serviceId: a, result: riskResult({ rag: 'red' }) }], {
      now: at(5),
    })
    await runs.publish(full, 1, {
      now: at(10),
      rechecks: [{ serviceId: a, recheckOn: null, ruleSetVersion: 1, computedAt }],
    })
    expect(await rechecks.get(a)).toBeNull()
    expect((await due()).ids).toContain(a)
  })

  it('is written in the publish transaction: a publish that fails stores no recheck', async () => {
    const [a] = ids as [number]
    const runId = await runs.startRun('full')
    await runs.stageSnapshots(runId, [{ serviceId: a, result: riskResult() }])
    await expect(
      store.write(async ({ runs: inTransaction }) => {
        await inTransaction.publish(runId, 1, {
          rechecks: [{ serviceId: a, recheckOn: null, ruleSetVersion: 1, computedAt: new Date().toISOString() }],
        })
        throw new Error('eligibility failed')
      }),
    ).rejects.toThrow('eligibility failed')
    expect(await rechecks.get(a)).toBeNull()
    expect(await runs.current(a)).toBeNull()
  })
}, { notYetOnPostgres: 'creates services through ServiceRepository, not on the seam yet' })
