import request from 'supertest'
import { describe, expect, it } from 'vitest'
import type { SourceRun } from '../../src/data/runs.js'
import type { Services } from '../../src/services/container.js'
import { appWithAllRoutes, createTestServices, signIn } from '../helpers/appHarness.js'

/**
 * SPEC §6: "the dashboard shows each source's freshness (CQC: refreshed 02:04 today; Companies House: failed, data
 * from 2 days ago)", and /health reports the same. Timestamps are UTC; the council's day is Europe/London (BST here).
 */
const TODAY = '2026-06-03'

async function sourceRun(services: Services, runId: number, run: Partial<SourceRun> & Pick<SourceRun, 'source'>) {
  await services.runs.recordSourceRun({
    runId,
    status: 'succeeded',
    startedAt: run.finishedAt ?? '2026-06-03T01:00:00.000Z',
    finishedAt: null,
    read: 0,
    matched: 0,
    changed: 0,
    unchanged: 0,
    rejected: 0,
    error: null,
    rejects: [],
    ...run,
  })
}

async function freshnessLines(services: Services): Promise<string[]> {
  const { agent } = await signIn(appWithAllRoutes(services), services, 'assessor')
  const page = await agent.get('/')
  expect(page.status).toBe(200)
  const list = /<ul[^>]*aria-label="Source freshness"[^>]*>([\s\S]*?)<\/ul>/.exec(page.text)?.[1] ?? ''
  return [...list.matchAll(/<li[^>]*>([\s\S]*?)<\/li>/g)].map((m) => m[1]!.replace(/\s+/g, ' ').trim())
}

describe('source freshness on the dashboard and /health', () => {
  it('shows each source refreshed, failed with the age of its last good data, or not configured', async () => {
    const services = createTestServices({ today: TODAY })
    const earlier = await services.runs.startRun('full', { trigger: 'test' })
    await sourceRun(services, earlier, { source: 'companies_house', finishedAt: '2026-06-01T01:04:00.000Z' })
    // 23:30 UTC on 2 June is 00:30 on 3 June in London: today's data.
    await sourceRun(services, earlier, { source: 'fhrs', finishedAt: '2026-06-02T23:30:00.000Z' })
    await services.runs.failRun(earlier, 'test')

    const run = await services.runs.startRun('full', { trigger: 'test' })
    await sourceRun(services, run, { source: 'cqc', finishedAt: '2026-06-03T01:04:00.000Z' })
    const error = 'Companies House: GET /company/06070408 failed after 3 attempts: HTTP 500'
    await sourceRun(services, run, {
      source: 'companies_house',
      status: 'failed',
      startedAt: '2026-06-03T01:05:00.000Z',
      finishedAt: '2026-06-03T01:06:00.000Z',
      error,
    })
    await sourceRun(services, run, {
      source: 'fhrs',
      status: 'failed',
      startedAt: '2026-06-03T01:07:00.000Z',
      error: 'FSA food hygiene API: gave up',
    })
    await sourceRun(services, run, { source: 'council_inbox', status: 'not_configured' })

    const lines = await freshnessLines(services)
    expect(lines).toContain('CQC: refreshed 3 June 2026 at 02:04')
    // People read when it failed and how old the data is; the error itself is on the admin run page only.
    expect(lines).toContain('Companies House: failed last night, data from 1 June')
    expect(lines).toContain('Food hygiene (FSA): failed last night, data from 3 June')
    expect(lines.join('\n')).not.toContain('HTTP 500')
    expect(lines.join('\n')).not.toContain('gave up')
    expect(lines.some((line) => /not configured/.test(line))).toBe(true)

    // The details (error texts can name hosts and paths) are for the admin run page; /health says only DOWN.
    expect(await services.runs.sourceFreshness()).toContainEqual({
      source: 'companies_house',
      lastAttemptAt: '2026-06-03T01:05:00.000Z',
      lastAttemptStatus: 'failed',
      lastSuccessAt: '2026-06-01T01:04:00.000Z',
      lastError: error,
    })
    const health = await request(appWithAllRoutes(services)).get('/health')
    expect(health.body.sources).toMatchObject({ companies_house: 'DOWN', fhrs: 'DOWN', cqc: 'UP' })
    expect(health.text).not.toContain('HTTP 500')
    expect(health.text).not.toContain('gave up')
  })

  it('a source left "running" by a killed refresh is failed when the next run abandons it', async () => {
    const services = createTestServices({ today: TODAY })
    // The killed process's run: still marked running, its run lock released by the operating system.
    const killed = Number(
      services.db
        .prepare(
          `INSERT INTO refresh_runs (kind, trigger, started_at, status, pid, heartbeat_at)
           VALUES ('full', 'test', '2026-06-03T01:00:00.000Z', 'running', 2147483647, '2026-06-03T01:00:00.000Z')`,
        )
        .run().lastInsertRowid,
    )
    await sourceRun(services, killed, { source: 'cqc', status: 'running', startedAt: '2026-06-03T01:00:00.000Z' })
    expect((await freshnessLines(services)).find((line) => line.startsWith('CQC'))).toBe(
      'CQC: refreshing since 3 June 2026 at 02:00; no successful refresh yet',
    )

    await services.runs.startRun('full', { trigger: 'test' })
    const [cqc] = await services.runs.listSourceRuns(killed)
    expect(cqc).toMatchObject({
      status: 'failed',
      error: 'The refresh process stopped before this source finished',
    })
    expect((await services.runs.sourceFreshness()).find((s) => s.source === 'cqc')).toMatchObject({
      lastAttemptStatus: 'failed',
      lastSuccessAt: null,
    })
  })
})
