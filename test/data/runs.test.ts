import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { openTestDatabase, type Db } from '../../src/data/database.js'
import { AnotherRunInProgressError, fingerprint, RunRepository, type SourceRun } from '../../src/data/runs.js'
import { sqliteStore } from '../../src/data/store.js'
import { createService, riskResult } from '../helpers/factories.js'

const T0 = Date.parse('2026-03-14T02:00:00.000Z')

describe('RunRepository', () => {
  let db: Db
  let runs: RunRepository
  let serviceId: number

  /** Moves the clock on: publish decides between judgements by when they were computed. */
  function clockAt(minutes: number): void {
    vi.setSystemTime(T0 + minutes * 60_000)
  }

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    clockAt(0)
    db = openTestDatabase()
    runs = new RunRepository(db)
    serviceId = await createService(db)
  })

  afterEach(() => {
    vi.useRealTimers()
  })

  const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n

  /** A completed full run that publishes `rag` for the service. */
  async function publishFull(rag: 'red' | 'amber' | 'green', extra: Parameters<typeof riskResult>[0] = {}) {
    const runId = await runs.startRun('full')
    await runs.stageSnapshots(runId, [{ serviceId, result: riskResult({ rag, ...extra }) }])
    const outcome = await runs.publish(runId, 1)
    return { runId, outcome }
  }

  describe('starting runs', () => {
    it('records a running run with its kind, trigger and rule set version', async () => {
      const runId = await runs.startRun('entry', { trigger: 'import intelligence', ruleSetVersion: 3 })
      expect(await runs.getRun(runId)).toEqual({
        id: runId,
        kind: 'entry',
        cause: 'entry',
        trigger: 'import intelligence',
        startedAt: new Date(T0).toISOString(),
        finishedAt: null,
        publishedAt: null,
        status: 'running',
        ruleSetVersion: 3,
        servicesComputed: 0,
        servicesTotal: null,
        servicesChanged: 0,
        error: null,
      })
      expect(await runs.getRun(9999)).toBeNull()
    })

    it('refuses a second full run while the first is alive, but lets entry runs through', async () => {
      const first = await runs.startRun('full')
      clockAt(9)
      await expect(runs.startRun('full')).rejects.toBeInstanceOf(AnotherRunInProgressError)
      await expect(runs.startRun('entry')).resolves.toEqual(expect.any(Number))
      expect((await runs.getRun(first))?.status).toBe('running')
    })

    /** A full run left marked running by a process that died: the row is there, nobody holds the run lock. */
    function insertDeadRun(pid: number, heartbeatMinutesAgo: number): number {
      const at = new Date(Date.now() - heartbeatMinutesAgo * 60_000).toISOString()
      return Number(
        db
          .prepare(
            `INSERT INTO refresh_runs (kind, trigger, started_at, status, pid, heartbeat_at)
             VALUES ('full', 'killed', ?, 'running', ?, ?)`,
          )
          .run(at, pid, at).lastInsertRowid,
      )
    }

    it('records the process that runs it', async () => {
      const runId = await runs.startRun('full')
      expect(db.prepare('SELECT pid, heartbeat_at FROM refresh_runs WHERE id = ?').get(runId)).toEqual({
        pid: process.pid,
        heartbeat_at: new Date(T0).toISOString(),
      })
    })

    it('refuses while the running run holds the run lock, however long since its last beat', async () => {
      const running = await runs.startRun('full')
      clockAt(60 * 24)
      await expect(runs.startRun('full')).rejects.toThrow(`Refresh run ${running} is still running`)
    })

    it('abandons a full run nobody holds the lock for, whatever its pid (even a live one) and heartbeat', async () => {
      // The pid of this very process, with a fresh heartbeat: a pid check would take it for alive.
      const dead = insertDeadRun(process.pid, 0)
      await expect(runs.startRun('full')).resolves.toBeGreaterThan(dead)
      expect((await runs.getRun(dead))?.status).toBe('abandoned')
    })

    it('releases the run lock when the run is published or fails, so the next one starts at once', async () => {
      const { runId: published } = await publishFull('green')
      const failing = await runs.startRun('full')
      await runs.failRun(failing, 'source exploded')
      const next = await runs.startRun('full')
      expect(next).toBeGreaterThan(failing)
      expect((await runs.getRun(published))?.status).toBe('completed')
      expect((await runs.getRun(failing))?.status).toBe('failed')
    })

    it('abandons a dead full run and drops its unpublished snapshots, leaving what readers see alone', async () => {
      const { runId: published } = await publishFull('green')
      const dead = insertDeadRun(process.pid, 11)
      await runs.stageSnapshots(dead, [{ serviceId, result: riskResult({ rag: 'red' }) }])

      const next = await runs.startRun('full')

      expect(next).toBeGreaterThan(dead)
      expect(await runs.getRun(dead)).toMatchObject({ status: 'abandoned', finishedAt: expect.any(String) })
      expect((await runs.getRun(dead))?.error).toMatch(/stopped/)
      expect(db.prepare('SELECT COUNT(*) AS n FROM snapshots WHERE run_id = ?').get(dead)).toEqual({ n: 0 })
      expect((await runs.current(serviceId))?.runId).toBe(published)
      expect((await runs.current(serviceId))?.result.rag).toBe('green')
    })
  })

  describe('staging and publishing', () => {
    it('keeps staged judgements invisible until the run is published', async () => {
      const runId = await runs.startRun('full', { ruleSetVersion: 1 })
      expect(await runs.stageSnapshots(runId, [{ serviceId, result: riskResult({ rag: 'amber' }) }])).toBe(1)

      expect(await runs.current(serviceId)).toBeNull()
      expect(await runs.history(serviceId)).toEqual([])
      expect(await runs.ragCounts()).toEqual({ red: 0, amber: 0, green: 0 })
      expect(await runs.lastPublishedRun()).toBeNull()

      clockAt(1)
      const outcome = await runs.publish(runId, 1)

      expect(outcome).toEqual({ changed: 1, ragChanges: 1, changedServiceIds: [serviceId] })
      const current = await runs.current(serviceId)
      expect(current).toMatchObject({ serviceId, runId, snapshotId: expect.any(Number) })
      expect(current?.result).toEqual(riskResult({ rag: 'amber' }))
      expect(await runs.ragCounts()).toEqual({ red: 0, amber: 1, green: 0 })
      expect(await runs.getRun(runId)).toMatchObject({
        status: 'completed',
        publishedAt: new Date(T0 + 60_000).toISOString(),
        servicesComputed: 1,
        servicesChanged: 1,
      })
      expect((await runs.lastPublishedRun('full'))?.id).toBe(runId)
      expect(await runs.lastPublishedRun('entry')).toBeNull()
    })

    it('does not stage a judgement identical to the current one, whatever day it was made', async () => {
      await publishFull('green')
      const runId = await runs.startRun('full')

      const staged = await runs.stageSnapshots(runId, [
        { serviceId, result: riskResult({ rag: 'green', asOf: '2026-03-15' }) },
      ])

      expect(staged).toBe(0)
      expect(await runs.publish(runId, 1)).toEqual({ changed: 0, ragChanges: 0, changedServiceIds: [] })
      expect(count('snapshots')).toBe(1)
      expect(fingerprint(riskResult({ asOf: '2026-03-15' }))).toBe(fingerprint(riskResult({ asOf: '2026-01-01' })))
      expect(fingerprint(riskResult({ score: 1 }))).not.toBe(fingerprint(riskResult({ score: 2 })))
    })

    it('records a RAG change only when the colour changes', async () => {
      const first = await publishFull('green')
      expect(first.outcome.ragChanges).toBe(1)

      clockAt(1)
      const sameColour = await publishFull('green', { score: 5, reasons: ['Slightly worse'] })
      expect(sameColour.outcome).toEqual({ changed: 1, ragChanges: 0, changedServiceIds: [serviceId] })
      expect((await runs.current(serviceId))?.result.score).toBe(5)

      clockAt(2)
      const worse = await publishFull('red', { reasons: ['CQC rated Inadequate'] })
      expect(worse.outcome.ragChanges).toBe(1)

      const changes = await runs.changesSince(first.runId)
      expect(changes.map((c) => [c.runId, c.fromRag, c.toRag])).toEqual([
        [worse.runId, 'green', 'red'],
        [first.runId, null, 'green'],
      ])
      expect(changes[0]?.reasons).toEqual(['CQC rated Inadequate'])
      expect((await runs.changesSince(worse.runId)).map((c) => c.runId)).toEqual([worse.runId])
      expect((await runs.history(serviceId)).map((h) => h.rag)).toEqual(['green', 'green', 'red'])
    })

    it('reads the published history of many services at once, leaving unpublished judgements out', async () => {
      const other = await createService(db, { ref: 'OTHER-1', name: 'Other', cqcLocationId: null })
      const quiet = await createService(db, { ref: 'QUIET-1', name: 'Quiet', cqcLocationId: null })
      await publishFull('green')
      clockAt(1)
      const entry = await runs.startRun('entry')
      await runs.stageAndPublish(entry, [{ serviceId: other, result: riskResult({ rag: 'amber' }) }])
      clockAt(2)
      await publishFull('red')
      clockAt(3)
      const staged = await runs.startRun('full')
      await runs.stageSnapshots(staged, [{ serviceId, result: riskResult({ rag: 'amber' }) }])

      const histories = await runs.historyOf([serviceId, other, quiet, serviceId])

      expect([...histories.keys()]).toEqual([serviceId, other, quiet])
      expect(histories.get(serviceId)).toEqual(await runs.history(serviceId))
      expect(histories.get(serviceId)?.map((h) => h.rag)).toEqual(['green', 'red'])
      expect(histories.get(other)?.map((h) => h.rag)).toEqual(['amber'])
      expect(histories.get(quiet)).toEqual([])
      expect(await runs.historyOf([])).toEqual(new Map())
    })

    it('does not overwrite a pointer moved by an entry computed after the full run staged its row', async () => {
      await publishFull('green')
      const full = await runs.startRun('full')
      clockAt(1)
      await runs.stageSnapshots(full, [{ serviceId, result: riskResult({ rag: 'amber', reasons: ['old news'] }) }])

      clockAt(2)
      const entry = await runs.startRun('entry')
      const entryOutcome = await runs.stageAndPublish(entry, [
        { serviceId, result: riskResult({ rag: 'red', reasons: ['Embargo entered at 02:02'] }) },
      ])
      expect(entryOutcome).toMatchObject({ changed: 1, ragChanges: 1 })

      clockAt(3)
      const outcome = await runs.publish(full, 1)

      expect(outcome).toEqual({ changed: 0, ragChanges: 0, changedServiceIds: [] })
      const current = await runs.current(serviceId)
      expect(current?.runId).toBe(entry)
      expect(current?.result.rag).toBe('red')
      expect((await runs.getRun(full))?.status).toBe('completed')
    })

    it('moves the pointer of a service whose staged row is newer than its current one', async () => {
      const other = await createService(db)
      await publishFull('green')
      const full = await runs.startRun('full')
      clockAt(1)
      await runs.stageSnapshots(full, [
        { serviceId, result: riskResult({ rag: 'amber' }) },
        { serviceId: other, result: riskResult({ rag: 'red' }) },
      ])
      clockAt(2)
      const outcome = await runs.publish(full, 2)
      expect(outcome.changedServiceIds.sort()).toEqual([serviceId, other].sort())
      expect(await runs.ragCounts()).toEqual({ red: 1, amber: 1, green: 0 })
    })

    it('leaves the previous judgement visible when a run fails, and the next run succeeds', async () => {
      const { runId: good } = await publishFull('green')
      const failing = await runs.startRun('full')
      await runs.stageSnapshots(failing, [{ serviceId, result: riskResult({ rag: 'red' }) }])

      await runs.failRun(failing, 'CQC API unreachable')

      expect(await runs.getRun(failing)).toMatchObject({ status: 'failed', error: 'CQC API unreachable', publishedAt: null })
      expect((await runs.current(serviceId))?.runId).toBe(good)
      expect(await runs.history(serviceId)).toHaveLength(1)
      expect(await runs.changesSince(failing)).toEqual([])

      clockAt(1)
      const next = await runs.startRun('full')
      expect(db.prepare('SELECT COUNT(*) AS n FROM snapshots WHERE run_id = ?').get(failing)).toEqual({ n: 0 })
      await runs.stageSnapshots(next, [{ serviceId, result: riskResult({ rag: 'red' }) }])
      expect((await runs.publish(next, 1)).ragChanges).toBe(1)
    })

    it('publishes nothing when work done inside the publishing transaction fails', async () => {
      await publishFull('green')
      const runId = await runs.startRun('full')
      clockAt(1)
      await runs.stageSnapshots(runId, [{ serviceId, result: riskResult({ rag: 'red' }) }])

      await expect(
        sqliteStore(db).write(async (inTransaction) => {
          const { changedServiceIds } = await inTransaction.runs.publish(runId, 1)
          expect(changedServiceIds).toEqual([serviceId])
          throw new Error('eligibility update failed')
        }),
      ).rejects.toThrow('eligibility update failed')

      expect((await runs.current(serviceId))?.result.rag).toBe('green')
      expect((await runs.getRun(runId))?.status).toBe('running')
      expect(count('rag_changes')).toBe(1)
    })

    it('stages and publishes an entry run in one step', async () => {
      const runId = await runs.startRun('entry', { trigger: 'form' })
      const outcome = await runs.stageAndPublish(runId, [{ serviceId, result: riskResult({ rag: 'amber' }) }])
      expect(outcome).toEqual({ changed: 1, ragChanges: 1, changedServiceIds: [serviceId] })
      expect(await runs.getRun(runId)).toMatchObject({ status: 'completed', servicesComputed: 1, servicesChanged: 1 })
    })
  })

  describe('listing runs', () => {
    it('lists newest first, by kind, with paging', async () => {
      const a = await runs.startRun('full')
      await runs.failRun(a, 'boom')
      const b = await runs.startRun('entry')
      const c = await runs.startRun('full')

      expect((await runs.listRuns()).map((r) => r.id)).toEqual([c, b, a])
      expect((await runs.listRuns({ kind: 'full' })).map((r) => r.id)).toEqual([c, a])
      expect((await runs.listRuns({ limit: 1, offset: 1 })).map((r) => r.id)).toEqual([b])
    })
  })

  describe('source runs and freshness', () => {
    function sourceRun(runId: number, overrides: Partial<SourceRun> = {}): SourceRun {
      return {
        runId,
        source: 'cqc_api',
        status: 'succeeded',
        startedAt: new Date().toISOString(),
        finishedAt: new Date().toISOString(),
        read: 10,
        matched: 8,
        changed: 2,
        unchanged: 6,
        rejected: 2,
        error: null,
        rejects: [{ record: '1-123', field: 'rating', reason: 'unknown rating' }],
        ...overrides,
      }
    }

    it('records a source outcome per run, updating it as the source finishes', async () => {
      const runId = await runs.startRun('full')
      await runs.recordSourceRun(sourceRun(runId, { status: 'running', finishedAt: null, rejects: [] }))
      await runs.recordSourceRun(sourceRun(runId))
      await runs.recordSourceRun(sourceRun(runId, { source: 'fhrs_api', status: 'not_configured', rejects: [] }))

      const recorded = await runs.listSourceRuns(runId)
      expect(recorded).toHaveLength(2)
      expect(recorded.find((s) => s.source === 'cqc_api')).toEqual(sourceRun(runId))
      expect(recorded.find((s) => s.source === 'fhrs_api')?.status).toBe('not_configured')
    })

    it('keeps at most 1,000 rejects per source run', async () => {
      const runId = await runs.startRun('full')
      const rejects = Array.from({ length: 1500 }, (_, i) => ({ record: `row ${i}`, reason: 'bad' }))
      await runs.recordSourceRun(sourceRun(runId, { rejects }))
      expect((await runs.listSourceRuns(runId))[0]?.rejects).toHaveLength(1000)
    })

    it('tells the last successful refresh of each source apart from its last attempt', async () => {
      const first = await runs.startRun('full')
      await runs.recordSourceRun(sourceRun(first))
      await runs.recordSourceRun(sourceRun(first, { source: 'companies_house' }))
      const firstFinished = new Date().toISOString()
      await runs.publish(first, 0)

      clockAt(60 * 24)
      const second = await runs.startRun('full')
      await runs.recordSourceRun(sourceRun(second))
      await runs.recordSourceRun(
        sourceRun(second, { source: 'companies_house', status: 'failed', error: 'HTTP 503', rejects: [] }),
      )
      const secondAt = new Date().toISOString()

      expect(await runs.sourceFreshness()).toEqual([
        {
          source: 'companies_house',
          lastAttemptAt: secondAt,
          lastAttemptStatus: 'failed',
          lastSuccessAt: firstFinished,
          lastError: 'HTTP 503',
        },
        { source: 'cqc_api', lastAttemptAt: secondAt, lastAttemptStatus: 'succeeded', lastSuccessAt: secondAt, lastError: null },
      ])
    })
  })
})
