import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Services } from '../../src/services/container.js'
import { RefreshService } from '../../src/services/refreshService.js'
import { buildSourceSteps } from '../../src/services/sources/index.js'
import { appWithAllRoutes, createTestServices, signIn } from '../helpers/appHarness.js'

const COUNTS = 'service_ref,period_start,period_end,decisions\nSVC-A,2026-10-01,2026-10-31,3\n'

/** Every entry of the inbox a run leaves alone is reported with its reason (issue 14), never silently left. */
describe('entries the inbox leaves alone', () => {
  let services: Services
  let inboxDir: string
  let outside: string

  beforeEach(async () => {
    inboxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-left-'))
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-outside-'))
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
    fs.rmSync(outside, { recursive: true, force: true })
  })

  function drop(name: string, content: string, ageMs = 60_000): void {
    const file = path.join(inboxDir, name)
    fs.writeFileSync(file, content)
    const when = new Date(Date.now() - ageMs)
    fs.utimesSync(file, when, when)
  }

  const refresh = () => new RefreshService(services, buildSourceSteps(services)).run({ trigger: 'night' })

  it('names each one and why in the run, its log and the morning page, and still reads the good file', async () => {
    drop('counts.csv', COUNTS)
    drop('.counts.csv', COUNTS)
    drop('~$counts.csv', 'lock')
    drop('counts.csv.part', COUNTS)
    drop('just-now.csv', COUNTS, 0)
    drop('tomorrow.csv', COUNTS, -24 * 3600_000)
    fs.writeFileSync(path.join(outside, 'elsewhere.csv'), COUNTS)
    fs.symlinkSync(path.join(outside, 'elsewhere.csv'), path.join(inboxDir, 'linked.csv'))
    execFileSync('mkfifo', [path.join(inboxDir, 'pipe.csv')])
    fs.mkdirSync(path.join(inboxDir, 'old exports'))

    const summary = await refresh()
    const inboxRun = summary.sources.find((s) => s.source === 'council_inbox')
    expect(inboxRun).toMatchObject({ status: 'succeeded', result: { changed: 1, rejected: 0 } })
    const warnings = Object.fromEntries((inboxRun?.result?.rejects ?? []).map((r) => [r.record, r.reason]))
    expect(warnings).toEqual({
      '.counts.csv': expect.stringMatching(/^left in the inbox, not read: a hidden name/),
      '~$counts.csv': expect.stringMatching(/^left in the inbox, not read: an Office lock file/),
      'counts.csv.part': expect.stringMatching(/^left in the inbox, not read: its name does not end in \.csv/),
      'just-now.csv': 'left in the inbox for the next run: it was modified moments ago',
      'tomorrow.csv': expect.stringMatching(
        /^left in the inbox, not read: its modification time \(.*\) is in the future/,
      ),
      'linked.csv': expect.stringMatching(/^left in the inbox, not read: a symbolic link: links are not followed/),
      'pipe.csv': expect.stringMatching(/^left in the inbox, not read: not a regular file/),
      'old exports': expect.stringMatching(/^left in the inbox, not read: a folder/),
    })

    const recorded = await services.inbox.skippedForRun(summary.runId)
    expect(Object.fromEntries(recorded.map((entry) => [entry.name, entry.code]))).toEqual({
      '.counts.csv': 'hidden',
      '~$counts.csv': 'lock_file',
      'counts.csv.part': 'not_csv',
      'just-now.csv': 'being_written',
      'tomorrow.csv': 'future_mtime',
      'linked.csv': 'symlink',
      'pipe.csv': 'not_regular',
      'old exports': 'folder',
    })
    // Only the good file moved; the link's target was never touched.
    expect(fs.readdirSync(inboxDir).sort()).toEqual(
      [
        '.counts.csv',
        '~$counts.csv',
        'counts.csv.part',
        'just-now.csv',
        'linked.csv',
        'old exports',
        'pipe.csv',
        'processed',
        'tomorrow.csv',
      ].sort(),
    )
    expect(fs.readFileSync(path.join(outside, 'elsewhere.csv'), 'utf8')).toBe(COUNTS)

    const app = appWithAllRoutes(services)
    const compliance = await signIn(app, services, 'compliance')
    const morning = await compliance.agent.get('/morning')
    expect(morning.status).toBe(200)
    const left = morning.text.slice(morning.text.indexOf('data-testid="morning-left-in-inbox"'))
    expect(left).toMatch(/data-inbox-left="just-now.csv"[\s\S]*?waiting: still being written/)
    expect(left).toMatch(/data-inbox-left="tomorrow.csv"[\s\S]*?waiting: dated in the future/)
    expect(left).toMatch(/data-inbox-left="linked.csv"[\s\S]*?not read: a link/)
    const admin = await signIn(app, services, 'admin')
    const runPage = await admin.agent.get(`/admin/runs/${summary.runId}`)
    expect(runPage.text).toMatch(/data-testid="run-left-in-inbox"[\s\S]*?data-inbox-left="pipe.csv"/)
  })

  it('reads a waiting file on the next run once it has settled, and the morning page then says nothing waits', async () => {
    drop('just-now.csv', COUNTS, 0)
    const first = await refresh()
    expect(await services.inbox.skippedForRun(first.runId)).toEqual([
      { name: 'just-now.csv', code: 'being_written', reason: 'it was modified moments ago' },
    ])
    const minuteAgo = new Date(Date.now() - 60_000)
    fs.utimesSync(path.join(inboxDir, 'just-now.csv'), minuteAgo, minuteAgo)
    const second = await refresh()
    expect(await services.inbox.skippedForRun(second.runId)).toEqual([])
    expect((await services.inbox.filesForRun(second.runId)).map((f) => [f.name, f.status])).toEqual([
      ['just-now.csv', 'imported'],
    ])
    const compliance = await signIn(appWithAllRoutes(services), services, 'compliance')
    const morning = await compliance.agent.get('/morning')
    expect(morning.text).not.toContain('morning-left-in-inbox')
  })
})
