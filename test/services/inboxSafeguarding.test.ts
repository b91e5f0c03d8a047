import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InboxFileRepository } from '../../src/data/inboxFiles.js'
import type { IndicatorResult } from '../../src/domain/riskResult.js'
import type { Services } from '../../src/services/container.js'
import { InboxService } from '../../src/services/inboxService.js'
import { RefreshService } from '../../src/services/refreshService.js'
import { inboxStep } from '../../src/services/sources/inbox.js'
import { createTestServices, type fixedClock } from '../helpers/appHarness.js'

/**
 * Safeguarding counts from the case management system's monthly extract, with decisions also entered as events,
 * through the inbox and the overnight run (SPEC §6): counts are summed into the 12-month window by period end, and
 * by default a count replaces the events of the period it covers.
 */
describe('safeguarding counts through the inbox', () => {
  let services: Services
  let inboxDir: string
  let serviceId: number

  beforeEach(async () => {
    services = createTestServices({ today: '2026-11-23' })
    inboxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-sg-'))
    const [outcome] = await services.serviceRepository.upsertMany([
      {
        ref: 'SVC-X',
        name: 'Willow Court',
        providerName: 'Willow Care Ltd',
        serviceType: 'care_home_residential',
        area: 'East',
        contractStatus: 'contracted',
      },
    ])
    serviceId = outcome?.id as number
  })

  afterEach(() => {
    fs.rmSync(inboxDir, { recursive: true, force: true })
  })

  function drop(name: string, lines: string[]): void {
    const file = path.join(inboxDir, name)
    fs.writeFileSync(file, lines.join('\n'))
    const old = new Date(Date.now() - 60_000)
    fs.utimesSync(file, old, old)
  }

  async function safeguarding(): Promise<IndicatorResult | undefined> {
    const inbox = new InboxService({
      importer: services.importer,
      files: new InboxFileRepository(services.db),
      inboxDir,
      today: services.clock.today,
      recheckMs: 0,
    })
    await new RefreshService(services, [inboxStep(inbox)]).run({ trigger: 'test' })
    return (await services.runs.current(serviceId))?.result.indicators.find((i) => i.key === 'safeguarding')
  }

  const COUNTS_HEADER = 'service_ref,period_start,period_end,decisions'
  const EVENTS_HEADER = 'service_ref,kind,date,reference'

  it('counts a period by its end, so one straddling the window start counts whole and one ending before it not at all', async () => {
    drop('counts.csv', [
      COUNTS_HEADER,
      'SVC-X,2025-10-01,2025-10-31,5', // ends before the window (2025-11-23 .. 2026-11-23)
      'SVC-X,2025-11-01,2025-11-30,2', // starts before the window, ends inside it
    ])
    expect(await safeguarding()).toMatchObject({
      level: 'amber',
      value: '2 in the last 12 months',
      date: '2025-11-30',
      source: 'council_inbox',
    })

    // A week later the straddling period ends more than 12 months ago.
    ;(services.clock as ReturnType<typeof fixedClock>).set('2026-12-01')
    expect(await safeguarding()).toMatchObject({ level: 'green', value: '0 in the last 12 months' })
  })

  it('does not count twice the months given both as a count and as events, and counts events outside them', async () => {
    drop('events.csv', [
      EVENTS_HEADER,
      'SVC-X,safeguarding_decision,2026-10-05,SG-1',
      'SVC-X,safeguarding_decision,2026-10-20,SG-2',
      'SVC-X,safeguarding_decision,2026-11-10,SG-3', // November: no count covers it
    ])
    drop('counts.csv', [COUNTS_HEADER, 'SVC-X,2025-11-01,2025-11-30,1', 'SVC-X,2026-10-01,2026-10-31,1'])
    // 1 (Nov 2025 count) + 1 (Oct 2026 count, replacing its 2 events) + 1 (the November event)
    expect(await safeguarding()).toMatchObject({ level: 'red', value: '3 in the last 12 months', date: '2026-11-10' })

    // A corrected extract: no decisions in October after all. The count still stands for October's events.
    drop('counts corrected.csv', [COUNTS_HEADER, 'SVC-X,2025-11-01,2025-11-30,1', 'SVC-X,2026-10-01,2026-10-31,0'])
    expect(await safeguarding()).toMatchObject({ level: 'amber', value: '2 in the last 12 months' })
  })

  it('counts a rolling extract once: a newer count stands for the days it shares with an older one', async () => {
    // Sent every night: the decisions of the last 30 days. The periods overlap, so adding them would count twice.
    drop('sg-2026-11-21.csv', [COUNTS_HEADER, 'SVC-X,2026-10-22,2026-11-20,2'])
    expect(await safeguarding()).toMatchObject({ level: 'amber', value: '2 in the last 12 months' })
    drop('sg-2026-11-22.csv', [COUNTS_HEADER, 'SVC-X,2026-10-23,2026-11-21,2'])
    expect(await safeguarding()).toMatchObject({ level: 'amber', value: '2 in the last 12 months', date: '2026-11-21' })
    // A count that shares no day with a newer one still counts.
    drop('sg-2025.csv', [COUNTS_HEADER, 'SVC-X,2025-12-01,2025-12-31,1'])
    expect(await safeguarding()).toMatchObject({ level: 'red', value: '3 in the last 12 months' })
  })
})
