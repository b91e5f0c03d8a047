import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { seedDemoBorough } from '../../src/services/demoSeedService.js'
import { RefreshService } from '../../src/services/refreshService.js'
import { buildSourceSteps } from '../../src/services/sources/index.js'
import { createTestServices } from '../helpers/appHarness.js'
import { SourceServer } from '../helpers/sourceServer.js'

/**
 * SPEC §6: "re-running the same night is idempotent: no duplicate observations, no duplicate events", on the demo
 * borough (with its DPS, so eligibility events and review tasks can arise) against local copies of the three sources.
 */
const TABLES = ['observations', 'rag_changes', 'snapshots', 'eligibility_events', 'tasks', 'audit_log'] as const

let server: SourceServer
beforeEach(async () => {
  server = await SourceServer.start()
})
afterEach(async () => {
  await server.close()
})

describe('a second overnight run on the same day with the same inputs', () => {
  it(
    'adds no observation, snapshot, RAG change, eligibility event, task or audit entry',
    { timeout: 60_000 },
    async () => {
      const services = createTestServices({ env: server.env() })
      await seedDemoBorough(services)
      const all = await services.serviceRepository.listAll()
      // Tonight's news for a few services, so the first run does create events.
      for (const service of all.filter((s) => s.cqcLocationId).slice(0, 5)) {
        server.cqcRatings.set(service.cqcLocationId!, { rating: 'Inadequate', reportDate: '2026-11-20' })
      }
      for (const service of all.filter((s) => s.fhrsId).slice(0, 3)) {
        server.fhrsRatings.set(service.fhrsId!, { value: '1', date: '2026-11-18' })
      }
      const counts = () =>
        Object.fromEntries(
          TABLES.map((table) => [
            table,
            (services.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n,
          ]),
        )
      const run = () =>
        new RefreshService(services, buildSourceSteps(services, { concurrency: 8 })).run({ trigger: 'test' })

      const before = counts()
      const first = await run()
      const afterFirst = counts()
      expect(first.ragChanges).toBeGreaterThan(0)
      expect(afterFirst.observations).toBeGreaterThan(before.observations!)
      expect(afterFirst.eligibility_events).toBeGreaterThan(before.eligibility_events!)

      // The same inputs again, CQC included: its changes feed lists every council location, so all are read again.
      for (const service of all) if (service.cqcLocationId) server.cqcChanged.add(service.cqcLocationId)
      const cqcRequests = server.requestsTo('/cqc/locations/').length
      const second = await run()
      expect(server.requestsTo('/cqc/locations/').length - cqcRequests).toBe(
        new Set(all.map((s) => s.cqcLocationId).filter(Boolean)).size,
      )
      expect(counts()).toEqual(afterFirst)
      expect(second).toMatchObject({ servicesChanged: 0, ragChanges: 0 })
      for (const source of second.sources.filter((s) => s.status !== 'not_configured')) {
        expect(source.status).toBe('succeeded')
        expect(source.result?.changed).toBe(0)
      }
    },
  )
})
