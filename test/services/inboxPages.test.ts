import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Express } from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Services } from '../../src/services/container.js'
import { RefreshService, type RefreshSummary } from '../../src/services/refreshService.js'
import { buildSourceSteps } from '../../src/services/sources/index.js'
import { appWithAllRoutes, createTestServices, signIn } from '../helpers/appHarness.js'

/**
 * What people see of the inbox (SPEC §6): the run log and the morning page list each council file the overnight run
 * read (kind, rows read, imported, rejected, already known), and the dashboard's freshness line says when the last
 * council file was received.
 */
describe('the council inbox on the run log, the morning page and the dashboard', () => {
  let services: Services
  let app: Express
  let inboxDir: string
  let summary: RefreshSummary

  function drop(name: string, content: string | Buffer): void {
    const file = path.join(inboxDir, name)
    fs.writeFileSync(file, content)
    const old = new Date(Date.now() - 60_000)
    fs.utimesSync(file, old, old)
  }

  /** The table row of one file, as text without tags. */
  function fileRow(html: string, testId: string, name: string): string {
    const table = html.slice(html.indexOf(`data-testid="${testId}"`))
    const at = table.indexOf(`data-inbox-file="${name}"`)
    if (at === -1) return ''
    const start = table.indexOf('>', at) + 1
    return table
      .slice(start, table.indexOf('</tr>', start))
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
  }

  beforeAll(async () => {
    inboxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-pages-'))
    services = createTestServices({ env: { INBOX_DIR: inboxDir } })
    app = appWithAllRoutes(services)
    await services.serviceRepository.upsertMany(
      ['SVC-A', 'SVC-B'].map((ref) => ({
        ref,
        name: `Service ${ref}`,
        providerName: `Provider of ${ref}`,
        serviceType: 'home_care',
        area: 'North',
        contractStatus: 'contracted',
      })),
    )
    const counts = 'service_ref,period_start,period_end,decisions\nSVC-A,2026-10-01,2026-10-31,3\n'
    drop('counts.csv', counts)
    await new RefreshService(services, buildSourceSteps(services)).run({ trigger: 'first night' })

    drop('counts again.csv', counts)
    drop('qa.csv', 'service_ref,assessment_date,outcome\nSVC-B,2026-11-18,Poor\nSVC-NOPE,2026-11-18,Good\n')
    drop('report.csv', Buffer.from('%PDF-1.7\n'))
    summary = await new RefreshService(services, buildSourceSteps(services)).run({ trigger: 'second night' })
  }, 60_000)

  afterAll(() => {
    fs.rmSync(inboxDir, { recursive: true, force: true })
  })

  it('lists each file of the run on the run log with its kind, counts and where it went', async () => {
    const admin = await signIn(app, services, 'admin')
    const page = await admin.agent.get(`/admin/runs/${summary.runId}`)
    expect(page.status).toBe(200)
    expect(page.text).toContain('Council files read from the inbox')
    expect(fileRow(page.text, 'run-inbox-files', 'qa.csv')).toMatch(
      /^qa\.csv Quality assessments Partly rejected 2 1 1 0 rejected\/qa\.csv, with its reject report rejected\/qa\.rejects\.csv$/,
    )
    expect(fileRow(page.text, 'run-inbox-files', 'counts again.csv')).toMatch(
      /^counts again\.csv Same content as counts\.csv, already imported: skipped Safeguarding counts Duplicate 0 0 0 0 duplicates\/\d{4}-\d\d-\d\d\/counts again\.csv$/,
    )
    expect(fileRow(page.text, 'run-inbox-files', 'report.csv')).toMatch(
      /^report\.csv This is a PDF, not a CSV file\. Not recognised Rejected 0 0 0 0 /,
    )
    // The first night's file belongs to the first run, not this one.
    expect(fileRow(page.text, 'run-inbox-files', 'counts.csv')).toBe('')
  })

  it('shows the files of the last overnight run on the morning page', async () => {
    const officer = await signIn(app, services, 'compliance')
    const page = await officer.agent.get('/morning')
    expect(page.status).toBe(200)
    expect(page.text).toContain('Council files read overnight (3)')
    expect(fileRow(page.text, 'morning-council-files', 'qa.csv')).toContain(
      'Quality assessments Partly rejected 2 1 1 0',
    )
    expect(fileRow(page.text, 'morning-council-files', 'counts again.csv')).toContain('Duplicate')
  })

  it('says on the dashboard when the last council file was received', async () => {
    const officer = await signIn(app, services, 'compliance')
    const page = await officer.agent.get('/')
    expect(page.status).toBe(200)
    const sources = page.text.slice(page.text.indexOf('aria-label="Source freshness"'))
    const line = /<li>(Council files: [^<]*)<\/li>/.exec(sources)?.[1] ?? ''
    expect(line).toMatch(/^Council files: refreshed .*; last file received \d+ \w+ \d{4} at \d\d:\d\d.*: report\.csv$/)
  })

  it('names the council file in the reasons of the services it changed', async () => {
    const result = async (ref: string) =>
      (await services.runs.current((await services.serviceRepository.findByRef(ref))!.id))?.result
    expect((await result('SVC-A'))?.reasons[0]).toMatch(
      /^3 safeguarding decisions in the last 12 months \(latest 2026-10-31\); from council file counts\.csv, received \d{4}-\d\d-\d\d$/,
    )
    expect((await result('SVC-B'))?.reasons[0]).toMatch(
      /^Quality assessment rated Poor on 2026-11-18; from council file qa\.csv, received/,
    )
  })
})
