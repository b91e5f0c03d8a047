import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SourceServer } from '../helpers/sourceServer.js'
import {
  cqcLocationId,
  execute,
  inspect,
  seedPublishedRegister,
  startRefreshChild,
  tempDatabasePath,
} from './refreshChild.js'

/**
 * SPEC §6: a refresh killed at any moment (kill -9) leaves the previous snapshot and all observations intact, and the
 * next run completes. Each test kills a real `jobs/refresh.ts` child process at a known point: while it waits on a
 * source, or inside one of its write transactions (a trigger calling the test hook `refresh_test_pause`).
 */
const SERVICES = 40

let server: SourceServer
let database: ReturnType<typeof tempDatabasePath>

beforeEach(async () => {
  server = await SourceServer.start()
  for (let i = 0; i < SERVICES; i++) {
    server.cqcRatings.set(cqcLocationId(i), { rating: 'Inadequate', reportDate: '2026-10-01' })
  }
  database = tempDatabasePath()
  const services = await seedPublishedRegister(database.file, SERVICES)
  services.db.close()
})

afterEach(async () => {
  await server.close()
  database.cleanUp()
})

const cqcOnly = () => ({ CQC_API_BASE: server.env().CQC_API_BASE!, CQC_API_KEY: 'test' })

/** After the crash: the database is sound, readers' snapshot and the observations are as before the killed run. */
async function expectCrashLeftNoTrace(before: ReturnType<typeof inspect>, observationsMayGrow: boolean) {
  const after = inspect(database.file)
  expect(after.integrity).toBe('ok')
  expect(after.currentSnapshots).toEqual(before.currentSnapshots)
  if (observationsMayGrow) expect(after.observations).toBeGreaterThanOrEqual(before.observations)
  else expect(after.observations).toBe(before.observations)
  expect(after.runs.at(-1)).toMatchObject({ kind: 'full', status: 'running', published_at: null })
  return after
}

/** The next run (no hooks in the way) abandons the dead one, completes, and publishes the sources' news. */
async function expectNextRunCompletes(killedRunId: number) {
  const next = startRefreshChild(database.file, cqcOnly())
  const { code } = await next.exited
  expect(code, next.output()).toBe(0)
  expect(next.output()).toMatch(/Services computed: 40/)
  const after = inspect(database.file)
  expect(after.integrity).toBe('ok')
  expect(after.runs.find((run) => run.id === killedRunId)?.status).toBe('abandoned')
  // The source it was reading is no longer shown as running on the dashboard and /health.
  const killedSources = after.sourceRuns.filter((run) => run.run_id === killedRunId)
  expect(killedSources.length).toBeGreaterThan(0)
  for (const source of killedSources) expect(source.status).not.toBe('running')
  expect(after.runs.at(-1)).toMatchObject({ status: 'completed' })
  expect(after.ragCounts).toEqual([{ rag: 'red', n: SERVICES }])
}

describe('a refresh killed with SIGKILL', () => {
  it('while waiting on a source: nothing changes, and the next run completes', { timeout: 30_000 }, async () => {
    const before = inspect(database.file)
    expect(before.ragCounts).toEqual([{ rag: 'green', n: SERVICES }])
    server.delay('/cqc', 60_000)
    const child = startRefreshChild(database.file, cqcOnly())
    await server.waitForRequest('/cqc/locations/')
    await child.kill()

    const after = await expectCrashLeftNoTrace(before, false)
    server.delay('/cqc', undefined)
    await expectNextRunCompletes(after.runs.at(-1)!.id)
  })

  it.each([
    ['appending observations', 'AFTER INSERT ON observations', false],
    ['staging the new snapshots', 'AFTER INSERT ON snapshots', true],
    ['publishing (moving the current pointers)', 'AFTER UPDATE ON current_snapshots', true],
  ])(
    'inside the transaction %s: rolled back whole, and the next run completes',
    { timeout: 30_000 },
    async (label, event, sourcesCommitted) => {
      const before = inspect(database.file)
      execute(database.file, `CREATE TRIGGER crash_point ${event} BEGIN SELECT refresh_test_pause('${label}', 0); END`)
      const child = startRefreshChild(database.file, cqcOnly())
      await child.waitForOutput(new RegExp(`PAUSED ${label.replace(/[()]/g, '\\$&')}`))
      await child.kill()
      execute(database.file, 'DROP TRIGGER crash_point')

      const after = await expectCrashLeftNoTrace(before, sourcesCommitted)
      // The CQC step committed before the crash point only when the crash came after it.
      if (sourcesCommitted) expect(after.observations).toBeGreaterThan(before.observations)
      await expectNextRunCompletes(after.runs.at(-1)!.id)
    },
  )
})
