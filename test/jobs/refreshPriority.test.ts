import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { refreshCommand } from '../../jobs/schedule.js'
import { SourceServer } from '../helpers/sourceServer.js'
import { cqcLocationId, seedPublishedRegister, startRefreshChild, tempDatabasePath } from './refreshChild.js'

/** The scheduling policy of a process (field 41 of /proc/<pid>/stat): 5 is SCHED_IDLE. */
function schedulingPolicy(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[38])
}
const SCHED_IDLE = 5

/** The nice value of each thread of a process, from /proc (Linux). */
function threadNices(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((thread) => {
    // After "tid (command) ": state is field 3, so nice (field 19) is the 17th.
    const stat = readFileSync(`/proc/${pid}/task/${thread}/stat`, 'utf8')
    return Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[16])
  })
}

describe('the refresh process', () => {
  let server: SourceServer
  let database: ReturnType<typeof tempDatabasePath>

  beforeEach(async () => {
    server = await SourceServer.start()
    server.cqcRatings.set(cqcLocationId(0), { rating: 'Good', reportDate: '2026-10-01' })
    database = tempDatabasePath()
    ;(await seedPublishedRegister(database.file, 1)).db.close()
  })

  afterEach(async () => {
    await server.close()
    database.cleanUp()
  })

  it.runIf(existsSync('/proc/self/stat'))(
    'runs at a lower priority than the server, leaving it the CPU',
    { timeout: 30_000 },
    async () => {
      server.delay('/cqc', 60_000)
      const refresh = startRefreshChild(database.file, { CQC_API_BASE: server.env().CQC_API_BASE!, CQC_API_KEY: 'k' })
      await server.waitForRequest('/cqc/locations/')
      const own = Math.max(...threadNices(process.pid))
      // Every thread, V8's garbage collection helpers included, not only the one running the code.
      const threads = threadNices(refresh.child.pid as number)
      expect(threads.length).toBeGreaterThan(1)
      for (const nice of threads) expect(nice).toBeGreaterThan(own)
      await refresh.kill()
    },
  )

  it.runIf(existsSync('/usr/bin/chrt'))(
    'is started by the schedule under SCHED_IDLE: it runs only on CPU time the server leaves',
    { timeout: 30_000 },
    async () => {
      server.delay('/cqc', 60_000)
      const env = { CQC_API_BASE: server.env().CQC_API_BASE!, CQC_API_KEY: 'k' }
      const refresh = startRefreshChild(database.file, env, [], refreshCommand())
      await server.waitForRequest('/cqc/locations/')
      expect(schedulingPolicy(refresh.child.pid as number)).toBe(SCHED_IDLE)
      expect(schedulingPolicy(process.pid)).not.toBe(SCHED_IDLE)
      await refresh.kill()
    },
  )
})
