import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Services } from '../../src/services/container.js'
import { RefreshService } from '../../src/services/refreshService.js'
import { buildSourceSteps } from '../../src/services/sources/index.js'
import { createTestServices, TEST_TODAY } from '../helpers/appHarness.js'

const COUNTS = 'service_ref,period_start,period_end,decisions\nSVC-A,2026-10-01,2026-10-31,3\n'
const INTELLIGENCE = 'service_ref,kind,date,outcome,reference\nSVC-A,contract_concern,2026-10-02,open,CC-1\n'

/**
 * A file whose import fails (throws, not row rejects) in two runs is moved to rejected/ with the reason beside it, so
 * it never blocks a later night (issue 14). The failure is real: the database refuses that file's rows.
 */
describe('an inbox file whose import keeps failing', () => {
  let services: Services
  let inboxDir: string

  beforeEach(async () => {
    inboxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-failures-'))
    services = createTestServices({ env: { INBOX_DIR: inboxDir } })
    await services.serviceRepository.upsertMany([
      {
        ref: 'SVC-A',
        name: 'Service A',
        providerName: 'Provider A',
        serviceType: 'home_care',
        area: 'North',
        contractStatus: 'contracted',
      },
    ])
  })

  afterEach(() => {
    fs.rmSync(inboxDir, { recursive: true, force: true })
  })

  function drop(name: string, content: string): void {
    const file = path.join(inboxDir, name)
    fs.writeFileSync(file, content)
    const minuteAgo = new Date(Date.now() - 60_000)
    fs.utimesSync(file, minuteAgo, minuteAgo)
  }

  function failWritesOf(name: string): void {
    services.db.exec(
      `CREATE TRIGGER refuse_file BEFORE INSERT ON observations WHEN NEW.entered_by = 'inbox: ${name}'
       BEGIN SELECT RAISE(ABORT, 'disk I/O error (simulated)'); END`,
    )
  }

  const refresh = () => new RefreshService(services, buildSourceSteps(services)).run({ trigger: 'night' })
  const inboxResult = async () => (await refresh()).sources.find((s) => s.source === 'council_inbox')?.result
  const observations = () =>
    (
      services.db.prepare("SELECT COUNT(*) AS n FROM observations WHERE source = 'council_inbox'").get() as {
        n: number
      }
    ).n

  it('stays for one more night after a first failure, then is moved to rejected/ with the reason', async () => {
    failWritesOf('concerns.csv')
    drop('concerns.csv', INTELLIGENCE)
    drop('counts.csv', COUNTS)

    const first = await inboxResult()
    expect(first?.rejects).toContainEqual({
      record: 'concerns.csv',
      reason: expect.stringMatching(
        /^could not be processed \(disk I\/O error \(simulated\)\); it stays in the inbox for the next run, and is moved to rejected\/ if it fails again$/,
      ),
    })
    expect(fs.existsSync(path.join(inboxDir, 'concerns.csv'))).toBe(true)
    expect(fs.existsSync(path.join(inboxDir, 'processed', TEST_TODAY, 'counts.csv'))).toBe(true)
    expect(observations()).toBe(1)

    const second = await inboxResult()
    const reason = expect.stringMatching(
      /^The import failed in 2 runs in a row \(last: disk I\/O error \(simulated\)\): the file was moved aside/,
    )
    expect(second?.rejects).toEqual([{ record: 'concerns.csv', reason }])
    expect(fs.readdirSync(inboxDir).sort()).toEqual(['processed', 'rejected'])
    expect(fs.existsSync(path.join(inboxDir, 'rejected', 'concerns.csv'))).toBe(true)
    const report = fs.readFileSync(path.join(inboxDir, 'rejected', 'concerns.rejects.csv'), 'utf8')
    expect(report).toMatch(/^row,column,reason\r\n,,"The import failed in 2 runs in a row \(last: disk I\/O error/)
    expect((await services.inbox.recentFiles())[0]).toMatchObject({
      name: 'concerns.csv',
      status: 'rejected',
      fileError: reason,
      movedTo: 'rejected/concerns.csv',
    })

    // The next night is clean; put back once fixed, the file is read as any other.
    expect((await inboxResult())?.rejects).toEqual([])
    services.db.exec('DROP TRIGGER refuse_file')
    fs.renameSync(path.join(inboxDir, 'rejected', 'concerns.csv'), path.join(inboxDir, 'concerns.csv'))
    expect(await inboxResult()).toMatchObject({ changed: 1, rejected: 0, rejects: [] })
    expect(observations()).toBe(2)
  })

  it('starts counting again after a success, and for a new file under the same name', async () => {
    const failures = () => (services.db.prepare('SELECT COUNT(*) AS n FROM inbox_failures').get() as { n: number }).n
    failWritesOf('concerns.csv')
    drop('concerns.csv', INTELLIGENCE)
    await refresh()
    expect(failures()).toBe(1)
    // The council sends a corrected export under the same name: a new file, one failure so far.
    drop('concerns.csv', `${INTELLIGENCE}SVC-A,contract_concern,2026-10-03,open,CC-2\n`)
    const again = await inboxResult()
    expect(again?.rejects[0]?.reason).toMatch(/it stays in the inbox for the next run/)
    expect(fs.existsSync(path.join(inboxDir, 'concerns.csv'))).toBe(true)

    services.db.exec('DROP TRIGGER refuse_file')
    expect(await inboxResult()).toMatchObject({ changed: 2, rejects: [] })
    expect(failures()).toBe(0)
  })
})
