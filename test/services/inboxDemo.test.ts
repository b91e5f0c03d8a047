import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InboxFileRepository } from '../../src/data/inboxFiles.js'
import type { Rag } from '../../src/domain/vocabulary.js'
import type { Services } from '../../src/services/container.js'
import { seedDemoBorough } from '../../src/services/demoSeedService.js'
import { InboxService } from '../../src/services/inboxService.js'
import { RefreshService, type RefreshSummary } from '../../src/services/refreshService.js'
import { inboxStep } from '../../src/services/sources/inbox.js'
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
    services = createTestServices({ today: TEST_TODAY })
    inboxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-demo-'))
    await seedDemoBorough(services)
    await new RefreshService(services, []).run({ trigger: 'first start' })
    before = await rags()
    for (const name of fs.readdirSync(EXAMPLES)) {
      fs.copyFileSync(path.join(EXAMPLES, name), path.join(inboxDir, name))
      const old = new Date(Date.now() - 60_000)
      fs.utimesSync(path.join(inboxDir, name), old, old)
    }
    const inbox = new InboxService({
      importer: services.importer,
      files: new InboxFileRepository(services.db),
      inboxDir,
      today: services.clock.today,
      recheckMs: 0,
    })
    summary = await new RefreshService(services, [inboxStep(inbox)]).run({ trigger: 'test' })
  }, 60_000)

  afterAll(() => {
    fs.rmSync(inboxDir, { recursive: true, force: true })
  })

  it('imports every sample file whole and moves it to processed/', async () => {
    const inbox = summary.sources[0]
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

    const embargoed = await resultOf('SVC-0005')
    expect(embargoed?.reasons[0]).toContain('2026-11-20')
    expect(embargoed?.indicators.find((i) => i.key === 'embargo')).toMatchObject({
      level: 'red',
      source: 'council_inbox',
      date: '2026-11-20',
    })
    const counted = await resultOf('SVC-0030')
    expect(counted?.reasons).toContain('3 safeguarding decisions in the last 12 months (latest 2026-10-31)')
    expect(counted?.indicators.find((i) => i.key === 'safeguarding')).toMatchObject({ source: 'council_inbox' })

    const history = await services.observations.listHistory(
      (await services.serviceRepository.findByRef('SVC-0030'))?.id as number,
    )
    expect(history.find((o) => o.source === 'council_inbox')).toMatchObject({
      enteredBy: 'inbox: safeguarding_counts.csv',
    })
  })
})
