import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Services } from '../../src/services/container.js'
import { appWithAllRoutes, signIn } from '../helpers/appHarness.js'
import { SourceServer } from '../helpers/sourceServer.js'
import {
  cqcLocationId,
  execute,
  openServices,
  seedPublishedRegister,
  startRefreshChild,
  tempDatabasePath,
} from './refreshChild.js'

/**
 * SPEC §6: readers never see a half-finished run. The real app serves the dashboard from a file database while a
 * refresh child process rewrites it; every page must show the whole old snapshot or the whole new one.
 */
const SERVICES = 120
const TURNING_RED = 60

let server: SourceServer
let database: ReturnType<typeof tempDatabasePath>
let services: Services

beforeEach(async () => {
  server = await SourceServer.start()
  for (let i = 0; i < TURNING_RED; i++) {
    server.cqcRatings.set(cqcLocationId(i), { rating: 'Inadequate', reportDate: '2026-10-01' })
  }
  database = tempDatabasePath()
  ;(await seedPublishedRegister(database.file, SERVICES)).db.close()
  services = openServices(database.file)
})

afterEach(async () => {
  services.db.close()
  await server.close()
  database.cleanUp()
})

/** The page's RAG counts and the RAG of every row in its service table: a mixture of two snapshots shows here. */
function fingerprint(html: string): string {
  const counts = ['Red', 'Amber', 'Green'].map((label) => {
    const match = new RegExp(
      `app-rag-count__number">(\\d+)</span>\\s*<span class="app-rag-count__label">${label}<`,
    ).exec(html)
    return `${label}=${match?.[1] ?? '?'}`
  })
  const table = html.slice(html.indexOf('data-testid="services-table"'))
  const rows = ['red', 'orange', 'green'].map((colour) => {
    const n = table.match(new RegExp(`<strong class="govuk-tag govuk-tag--${colour}">`, 'g'))?.length ?? 0
    return `${colour}:${n}`
  })
  return `${counts.join(' ')} | rows ${rows.join(' ')}`
}

describe('readers during a refresh', () => {
  it('all get 200 and see either the old or the new snapshot, never a mixture', { timeout: 30_000 }, async () => {
    const app = appWithAllRoutes(services)
    const { agent } = await signIn(app, services, 'assessor')
    const dashboard = async () => {
      const response = await agent.get('/?pageSize=500')
      return { status: response.status, print: fingerprint(response.text) }
    }
    const before = await dashboard()
    expect(before).toEqual({
      status: 200,
      print: `Red=0 Amber=0 Green=${SERVICES} | rows red:0 orange:0 green:${SERVICES}`,
    })

    // Hold the writer inside its transactions a little, so readers overlap them.
    execute(
      database.file,
      `CREATE TRIGGER slow_staging AFTER INSERT ON snapshots BEGIN SELECT refresh_test_pause('staging', 2); END;
       CREATE TRIGGER slow_publish AFTER INSERT ON rag_changes BEGIN SELECT refresh_test_pause('publish', 8); END;`,
    )
    const child = startRefreshChild(database.file, {
      CQC_API_BASE: server.env().CQC_API_BASE!,
      CQC_API_KEY: 'test',
    })
    let running = true
    void child.exited.then(() => {
      running = false
    })

    const seen: Array<{ status: number; print: string }> = []
    const reader = async () => {
      while (running) {
        seen.push(await dashboard())
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
    // Readers run for the whole refresh, pausing a little between requests: this process also serves the sources.
    await child.waitForOutput(/CQC: starting/)
    await Promise.all([reader(), reader(), reader(), reader()])
    const { code } = await child.exited
    expect(code, child.output()).toBe(0)
    expect(child.output()).toMatch(/PAUSED publish/)

    const after = await dashboard()
    expect(after.print).toBe(
      `Red=${TURNING_RED} Amber=0 Green=${SERVICES - TURNING_RED} | rows red:${TURNING_RED} orange:0 green:${SERVICES - TURNING_RED}`,
    )
    expect(seen.length).toBeGreaterThanOrEqual(8)
    for (const sample of seen) {
      expect(sample.status).toBe(200)
      expect([before.print, after.print]).toContain(sample.print)
    }
    expect(seen.some((sample) => sample.print === before.print)).toBe(true)
  })
})
