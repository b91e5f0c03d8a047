import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { sql } from 'kysely'
import { writeIfNotBusy } from '../../src/data/advisoryWrite.js'
import { changes, executorFor } from '../../src/data/executor.js'
import { sqlitePlatform } from '../../src/data/sqlite/platform.js'
import type { Services } from '../../src/services/container.js'
import { openServices, seedPublishedRegister, tempDatabasePath } from '../jobs/refreshChild.js'

/**
 * What the dashboard keeps (listing answers, views, rendered pages) is kept while ServiceListingRepository.dataVersion
 * stands still: it must move when what they show may have, and only then.
 */
let database: ReturnType<typeof tempDatabasePath>
let server: Services
let refresh: Services

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(Date.parse('2026-11-23T10:00:00.000Z'))
  database = tempDatabasePath()
  ;(await seedPublishedRegister(database.file, 2)).db.close()
  server = openServices(database.file)
  refresh = openServices(database.file)
})
afterEach(() => {
  vi.useRealTimers()
  server.db.close()
  refresh.db.close()
  database.cleanUp()
})

describe('Store.dataVersion (DashboardService.dataVersion)', () => {
  it("stands still through another process's unpublished commits, and moves when it publishes a run", async () => {
    const version = await server.dashboard.dataVersion()
    const runId = await refresh.runs.startRun('full', { trigger: 'test' })
    await refresh.runs.heartbeat(runId)
    expect(await server.dashboard.dataVersion()).toBe(version)
    await refresh.runs.publish(runId, 0)
    const published = await server.dashboard.dataVersion()
    expect(published).not.toBe(version)
    expect(await server.dashboard.dataVersion()).toBe(published)
  })

  it('moves when this process writes, but not for its advisory writes', async () => {
    const version = await server.dashboard.dataVersion()
    // (Any table: what counts is that the write went through writeIfNotBusy, as a session's expiry does.)
    const advisory = () => server.db.prepare(`UPDATE services SET updated_at = updated_at`).run()
    expect(writeIfNotBusy(server.db, advisory)).toBe(true)
    expect(await server.dashboard.dataVersion()).toBe(version)
    const platform = sqlitePlatform(server.db)
    const touched = await platform.writeIfNotBusy(executorFor(server.db), async (db) =>
      changes(await sql`UPDATE services SET updated_at = updated_at`.execute(db)),
    )
    expect(touched).toBe(true)
    expect(await server.dashboard.dataVersion()).toBe(version)
    await server.risk.recomputeServices([1], 'test entry')
    expect(await server.dashboard.dataVersion()).not.toBe(version)
  })

  it('moves after its age limit whatever happens', async () => {
    const version = await server.dashboard.dataVersion()
    vi.setSystemTime(Date.now() + 30_000)
    expect(await server.dashboard.dataVersion()).not.toBe(version)
  })
})
