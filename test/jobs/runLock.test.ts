import { readFileSync } from 'node:fs'
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
 * The run lock (docs/adr/0008): the operating system releases it when its holder dies, so the run after a kill -9
 * starts at once, whatever became of the dead process's id: here the killed refresh is left a zombie its parent
 * never reaps, so `kill(pid, 0)` still finds it.
 */
const SERVICES = 10

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

function processState(pid: number): string {
  return readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /s, '')
    .charAt(0)
}

describe('the run lock', () => {
  it(
    'lets the next run start at once after a kill -9, though the dead refresh is never reaped',
    { timeout: 60_000 },
    async () => {
      execute(
        database.file,
        `CREATE TRIGGER crash_point AFTER INSERT ON observations BEGIN SELECT refresh_test_pause('observations', 0); END`,
      )
      // `sh` starts the refresh in the background, then becomes `sleep`, a parent that never waits for its child.
      const script = `"${process.execPath}" --import tsx jobs/refresh.ts "$@" & echo "REFRESH PID $!"; exec sleep 120`
      const wrapper = startRefreshChild(database.file, cqcOnly(), [], { command: 'sh', args: ['-c', script, 'sh'] })
      try {
        await wrapper.waitForOutput(/PAUSED observations/, 30_000)
        const pid = Number(/REFRESH PID (\d+)/.exec(wrapper.output())![1])
        const killedRun = inspect(database.file).runs.at(-1)!
        expect(killedRun).toMatchObject({ status: 'running' })
        process.kill(pid, 'SIGKILL')
        for (let i = 0; i < 100 && processState(pid) !== 'Z'; i++) await new Promise((r) => setTimeout(r, 50))
        expect(processState(pid)).toBe('Z')
        // The dead process's id still answers: a check on pids would take the run for alive.
        expect(() => process.kill(pid, 0)).not.toThrow()
        execute(database.file, 'DROP TRIGGER crash_point')

        const started = Date.now()
        const next = startRefreshChild(database.file, cqcOnly())
        const { code } = await next.exited
        expect(code, next.output()).toBe(0)
        expect(next.output()).not.toMatch(/still running/)
        expect(Date.now() - started).toBeLessThan(20_000)
        const after = inspect(database.file)
        expect(after.integrity).toBe('ok')
        expect(after.runs.find((run) => run.id === killedRun.id)?.status).toBe('abandoned')
        expect(after.runs.at(-1)).toMatchObject({ status: 'completed' })
        expect(after.ragCounts).toEqual([{ rag: 'red', n: SERVICES }])
      } finally {
        await wrapper.kill()
      }
    },
  )

  it('still refuses a second run while the first is genuinely alive', { timeout: 60_000 }, async () => {
    server.delay('/cqc', 60_000)
    const first = startRefreshChild(database.file, cqcOnly())
    try {
      await server.waitForRequest('/cqc/locations/')
      const firstRun = inspect(database.file).runs.at(-1)!
      const second = startRefreshChild(database.file, cqcOnly())
      const { code } = await second.exited
      expect(code).not.toBe(0)
      expect(second.output()).toContain(`Refresh run ${firstRun.id} is still running`)
      expect(second.output()).not.toMatch(/at .*\.ts:\d+/)
    } finally {
      await first.kill()
      server.delay('/cqc', undefined)
    }
  })
})
