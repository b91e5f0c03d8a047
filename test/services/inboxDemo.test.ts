import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Rag } from '../../src/domain/vocabulary.js'
import type { Services } from '../../src/services/container.js'
import { seedDemoBorough } from '../../src/services/demoSeedService.js'
import { RefreshService, type RefreshSummary } from '../../src/services/refreshService.js'
import { buildSourceSteps } from '../../src/services/sources/index.js'
import { createTestServices, TEST_TODAY } from '../helpers/appHarness.js'

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/inbox')

/** The acceptance of the inbox: examples/README.md, tried on a demo-seeded database as a new user would. */
describe('the demo council sample exports dropped into the inbox', () => {
  let services: Services
  let inboxDir: string
  let before: Map<string, Rag>
  let summary: RefreshSummary

  const rags = async () => {
    const map = new Map<string, Rag>()
    for (const service of await services.serviceRepository.listAll()) {
      const current = await services.runs.current(service.id)
      if (current) map.set(service.ref, current.result.rag)
    }
    return map
  }
  const resultOf = async (ref: string) =>
    (await services.runs.current((await services.serviceRepository.findByRef(ref))?.id as number))?.result

  beforeAll(async () => {
    inboxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-demo-'))
    // The inbox as `npm run refresh` reads it: INBOX_DIR, and the overnight run's own list of sources.
    services = createTestServices({ today: TEST_TODAY, env: { INBOX_DIR: inboxDir } })
    await seedDemoBorough(services)
    await new RefreshService(services, []).run({ trigger: 'first start' })
    before = await rags()
    for (const name of fs.readdirSync(EXAMPLES)) {
      fs.copyFileSync(path.join(EXAMPLES, name), path.join(inboxDir, name))
      const old = new Date(Date.now() - 60_000)
      fs.utimesSync(path.join(inboxDir, name), old, old)
    }
    summary = await new RefreshService(services, buildSourceSteps(services)).run({ trigger: 'test' })
  }, 60_000)

  afterAll(() => {
    fs.rmSync(inboxDir, { recursive: true, force: true })
  })

  it('imports every sample file whole and moves it to processed/', async () => {
    const inbox = summary.sources.find((s) => s.source === 'council_inbox')
    expect(inbox).toMatchObject({ source: 'council_inbox', status: 'succeeded', result: { rejected: 0, rejects: [] } })
    expect(inbox?.result?.changed).toBe(16)
    expect(fs.readdirSync(path.join(inboxDir, 'processed', TEST_TODAY)).sort()).toEqual([
      'assessments.csv',
      'intelligence.csv',
      'safeguarding_counts.csv',
    ])
  })

  it('changes the colours examples/README.md says, with reasons from the council files', async () => {
    const after = await rags()
    const expected: Record<string, [Rag, Rag]> = {
      'SVC-0005': ['green', 'red'],
      'SVC-0007': ['green', 'amber'],
      'SVC-0011': ['green', 'amber'],
      'SVC-0015': ['green', 'amber'],
      'SVC-0016': ['green', 'amber'],
      'SVC-0024': ['green', 'amber'],
      'SVC-0026': ['green', 'green'],
      'SVC-0012': ['amber', 'green'],
      'SVC-0039': ['amber', 'green'],
      'SVC-0029': ['green', 'red'],
      'SVC-0004': ['green', 'green'],
      'SVC-0030': ['green', 'red'],
      'SVC-0031': ['green', 'amber'],
      'SVC-0006': ['green', 'green'],
    }
    for (const [ref, [from, to]] of Object.entries(expected)) {
      expect([ref, before.get(ref), after.get(ref)]).toEqual([ref, from, to])
    }

    // Each reason names the council file the deciding fact came in, and the day it was received.
    const received = new Date().toISOString().slice(0, 10)
    const embargoed = await resultOf('SVC-0005')
    expect(embargoed?.reasons[0]).toBe(
      `Embargo on new placements since 2026-11-20; from council file intelligence.csv, received ${received}`,
    )
    expect(embargoed?.indicators.find((i) => i.key === 'embargo')).toMatchObject({
      level: 'red',
      source: 'council_inbox',
      date: '2026-11-20',
    })
    const counted = await resultOf('SVC-0030')
    expect(counted?.reasons).toContain(
      `3 safeguarding decisions in the last 12 months (latest 2026-10-31); from council file safeguarding_counts.csv, received ${received}`,
    )
    // Turned Green by a council file: the reasons say which.
    expect((await resultOf('SVC-0012'))?.reasons).toContain(
      `Quality assessment rated Good on 2026-11-18; from council file assessments.csv, received ${received}`,
    )
    expect((await resultOf('SVC-0029'))?.reasons[0]).toBe(
      `Quality assessment rated Poor on 2026-11-19; from council file assessments.csv, received ${received}`,
    )
    expect(counted?.indicators.find((i) => i.key === 'safeguarding')).toMatchObject({ source: 'council_inbox' })

    const history = await services.observations.listHistory(
      (await services.serviceRepository.findByRef('SVC-0030'))?.id as number,
    )
    expect(history.find((o) => o.source === 'council_inbox')).toMatchObject({
      enteredBy: 'inbox: safeguarding_counts.csv',
    })
  })
})
