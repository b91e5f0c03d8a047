import { describe, expect, it } from 'vitest'
import { DEMO_USERS } from '../../src/auth/demoUsers.js'
import { UsersRepository } from '../../src/data/users.js'
import type { Services } from '../../src/services/container.js'
import { prepareDatabase } from '../../src/services/startup.js'
import { createTestServices } from '../helpers/appHarness.js'

/** What `npm start` does to the database before it serves (src/server.ts). */
function counts(services: Services) {
  const n = (table: string) => (services.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n
  return {
    services: n('services'),
    providers: n('providers'),
    observations: n('observations'),
    runs: n('refresh_runs'),
    snapshots: n('snapshots'),
    users: n('users'),
    ruleSets: n('rule_sets'),
  }
}

describe('prepareDatabase (npm start)', () => {
  it('on an empty database seeds the demo borough and its users and publishes a first full run', async () => {
    const services = createTestServices()
    const lines: string[] = []

    const outcome = await prepareDatabase(services, (line) => lines.push(line))

    expect(outcome.seeded).toBe(true)
    expect(outcome.demoUsers.map((u) => u.email)).toEqual(DEMO_USERS.map((u) => u.email))
    const after = counts(services)
    expect(after.services).toBe(200)
    expect(after.providers).toBe(80)
    expect(after.observations).toBeGreaterThan(1000)
    expect(after.users).toBe(DEMO_USERS.length)
    expect(after.ruleSets).toBe(1)
    const run = await services.runs.lastPublishedRun('full')
    expect(run).toMatchObject({ status: 'completed', trigger: 'first start' })
    const rag = await services.runs.ragCounts()
    expect(rag.red + rag.amber + rag.green).toBe(200)
    for (const colour of ['red', 'amber', 'green'] as const) expect(rag[colour]).toBeGreaterThan(0)
    expect(lines[0]).toBe('Empty database: seeding the demo borough')
    expect(lines.at(-1)).toMatch(/^First refresh: 200 services computed, run \d+$/)
  })

  it('on a non-empty database changes nothing', async () => {
    const services = createTestServices()
    await prepareDatabase(services, () => {})
    const before = counts(services)

    const lines: string[] = []
    const outcome = await prepareDatabase(services, (line) => lines.push(line))

    expect(outcome.seeded).toBe(false)
    expect(outcome.demoUsers).toHaveLength(DEMO_USERS.length)
    expect(counts(services)).toEqual(before)
    expect(lines).toEqual([])
  })

  it("never adds the demo sign-ins to a council's own register", async () => {
    const services = createTestServices()
    await services.serviceRepository.upsertMany([
      {
        ref: 'OWN-1',
        name: 'Our Care Home',
        providerName: 'Our Provider',
        serviceType: 'care_home_residential',
        area: 'North',
        contractStatus: 'contracted',
      },
    ])
    const before = counts(services)

    const outcome = await prepareDatabase(services, () => {})

    expect(outcome).toEqual({ seeded: false, demoUsers: [] })
    expect(counts(services)).toEqual({ ...before, ruleSets: 1 })
    expect(await new UsersRepository(services.db).findByEmail('admin@example.org')).toBeUndefined()
  })

  it('in production seeds nothing and creates no demo user, even on an empty database', async () => {
    const services = createTestServices({ env: { NODE_ENV: 'production' } })

    const outcome = await prepareDatabase(services, () => {})

    expect(outcome).toEqual({ seeded: false, demoUsers: [] })
    expect(counts(services)).toMatchObject({ services: 0, observations: 0, users: 0, runs: 0 })
  })
})
