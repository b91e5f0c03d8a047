import { existsSync, readFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SourceServer } from '../helpers/sourceServer.js'
import { cqcLocationId, seedPublishedRegister, startRefreshChild, tempDatabasePath } from './refreshChild.js'

/** The nice value of a process's main thread, from /proc (Linux); null elsewhere. */
function niceOf(pid: number): number | null {
  const stat = `/proc/${pid}/stat`
  if (!existsSync(stat)) return null
  // After "pid (command) ": state is field 3, so nice (field 19) is the 17th.
  return Number(readFileSync(stat, 'utf8').split(') ')[1]?.split(' ')[16])
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
      const own = niceOf(process.pid) as number
      expect(niceOf(refresh.child.pid as number)).toBeGreaterThan(own)
      await refresh.kill()
    },
  )
})
