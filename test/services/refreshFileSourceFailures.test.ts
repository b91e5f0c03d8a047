import { spawnSync } from 'node:child_process'
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import request from 'supertest'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { readCqcSource } from '../../src/ingest/cqc/index.js'
import type { Services } from '../../src/services/container.js'
import { RefreshService } from '../../src/services/refreshService.js'
import { buildSourceSteps } from '../../src/services/sources/index.js'
import { appWithAllRoutes, createTestServices } from '../helpers/appHarness.js'
import { SourceServer } from '../helpers/sourceServer.js'

/**
 * A file source that is missing or unreadable (CQC_FILE, FHRS_XML_DIR) fails that source alone, with a reason naming
 * the setting and what is wrong with it: the run completes, the other sources are read, every service is judged, and
 * /health shows the source failed (not "running").
 */
let dir: string
let server: SourceServer

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'file-source-failures-'))
  await mkdir(path.join(dir, 'empty'))
  await mkdir(path.join(dir, 'not-cqc'))
  await writeFile(path.join(dir, 'not-cqc', 'budget.csv'), 'Cost centre,Amount\nA1,100\n')
  await writeFile(path.join(dir, 'not-cqc', 'readme.txt'), 'nothing here')
  await mkdir(path.join(dir, 'providers-only'))
  await writeFile(
    path.join(dir, 'providers-only', 'ratings-providers.csv'),
    'Provider ID,Provider Name,Service / Population Group,Domain,Latest Rating,Publication Date\n' +
      '1-101,Acme Care Ltd,Overall,Overall,Good,01/02/2025\n',
  )
  await writeFile(path.join(dir, 'a-file.xml'), '<FHRSEstablishment/>')
  await mkdir(path.join(dir, 'no-xml'))
  await writeFile(path.join(dir, 'no-xml', 'notes.txt'), 'not xml')
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})
beforeEach(async () => {
  server = await SourceServer.start()
})
afterEach(async () => {
  await server.close()
})

async function servicesWith(env: Record<string, string>): Promise<Services> {
  const services = createTestServices({ env })
  await services.serviceRepository.upsertMany(
    [1, 2].map((n) => ({
      ref: `SVC-${n}`,
      name: `Home ${n}`,
      providerName: `Provider ${n} Ltd`,
      companiesHouseNumber: `3000000${n}`,
      cqcLocationId: `1-30000000${n}`,
      fhrsId: `3000${n}`,
      serviceType: 'care_home_residential' as const,
      area: 'North',
      contractStatus: 'contracted' as const,
    })),
  )
  return services
}

async function expectOnlyThisSourceFailed(services: Services, source: string, reason: RegExp) {
  const steps = buildSourceSteps(services, { http: { backoffMs: 1, maxBackoffMs: 5, maxAttempts: 2 } })
  const summary = await new RefreshService(services, steps).run({ trigger: 'test' })
  const statuses = Object.fromEntries(summary.sources.map((s) => [s.source, s.status]))
  const others = ['cqc', 'fhrs', 'companies_house'].filter((s) => s !== source)
  expect(statuses).toMatchObject({ [source]: 'failed', ...Object.fromEntries(others.map((s) => [s, 'succeeded'])) })
  const failed = summary.sources.find((s) => s.source === source)!
  expect(failed.error).toMatch(reason)
  expect((await services.runs.getRun(summary.runId))?.status).toBe('completed')
  // Recomputed: every service judged, the other sources' data in use.
  expect(summary.servicesComputed).toBe(2)
  const service = await services.serviceRepository.findByRef('SVC-1')
  expect((await services.runs.current(service!.id))?.result.indicators.length).toBeGreaterThan(0)
  const stored = (await services.runs.listSourceRuns(summary.runId)).find((s) => s.source === source)
  expect(stored).toMatchObject({ status: 'failed', error: failed.error })
  const freshness = await services.runs.sourceFreshness()
  expect(freshness).toContainEqual(expect.objectContaining({ source, lastAttemptStatus: 'failed' }))
  expect(JSON.stringify(freshness)).not.toMatch(/"running"/)
  // /health tells anyone only that the source is DOWN: the reason (with its path) is for the admin run page.
  const health = await request(appWithAllRoutes(services)).get('/health')
  expect(health.body.sources[source]).toBe('DOWN')
  expect(health.text).not.toContain(failed.error)
}

describe('CQC_FILE that cannot be read fails CQC alone', () => {
  const cqc = (file: string) => servicesWith({ ...withoutCqcApi(server.env()), CQC_FILE: file })

  it('a missing file', async () => {
    await expectOnlyThisSourceFailed(
      await cqc(path.join(dir, 'missing.csv')),
      'cqc',
      /^CQC_FILE .*missing\.csv: no such file or folder$/,
    )
  })

  it('a folder with no CQC file in it', async () => {
    await expectOnlyThisSourceFailed(
      await cqc(path.join(dir, 'not-cqc')),
      'cqc',
      /^CQC_FILE .*not-cqc: the folder holds no CQC locations file/,
    )
    await expectOnlyThisSourceFailed(await cqc(path.join(dir, 'empty')), 'cqc', /holds no CQC locations file/)
  })

  it('a file that is not a CQC file, or only the ratings Providers sheet', async () => {
    await expectOnlyThisSourceFailed(
      await cqc(path.join(dir, 'not-cqc', 'budget.csv')),
      'cqc',
      /budget\.csv: not a CQC file: no header row found/,
    )
    await expectOnlyThisSourceFailed(
      await cqc(path.join(dir, 'providers-only', 'ratings-providers.csv')),
      'cqc',
      /rates providers, not locations/,
    )
  })

  it('a file or folder the refresh may not read', { timeout: 60_000 }, async () => {
    const locked = path.join(dir, 'locked')
    await mkdir(locked)
    await writeFile(path.join(locked, 'hsca.csv'), 'Location ID\n1-1\n')
    await chmod(path.join(locked, 'hsca.csv'), 0o000)
    await chmod(dir, 0o755)
    expect(await readAsUnprivilegedUser(path.join(locked, 'hsca.csv'))).toMatch(
      /^CQC_FILE .*hsca\.csv: permission denied: the refresh cannot read this file$/,
    )
    expect(await readAsUnprivilegedUser(locked)).toMatch(
      /^CQC_FILE .*locked: the folder holds no CQC locations file .*; could not read hsca\.csv: permission denied/,
    )
    await chmod(locked, 0o000)
    expect(await readAsUnprivilegedUser(locked)).toMatch(/^CQC_FILE .*locked: permission denied: .* folder$/)
  })
})

/**
 * The error readCqcSource gives for `target`, read by a user without the right to it. Tests often run as root, who
 * may read anything, so then the read runs in a child process as "nobody".
 */
async function readAsUnprivilegedUser(target: string): Promise<string> {
  if (process.getuid?.() !== 0) {
    return readCqcSource({ path: target, ids: [], asOf: '2026-01-01' }).then(
      () => 'no error',
      (error: Error) => error.message,
    )
  }
  const script =
    `const { readCqcSource } = await import(${JSON.stringify(path.resolve('src/ingest/cqc/index.ts'))});` +
    `readCqcSource({ path: ${JSON.stringify(target)}, ids: [], asOf: '2026-01-01' })` +
    `.then(() => console.log('no error'), (error) => console.log(error.message))`
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    uid: 65534,
    gid: 65534,
    encoding: 'utf8',
    timeout: 30_000,
  })
  expect(child.stderr).toBe('')
  return child.stdout.trim()
}

describe('FHRS_XML_DIR that cannot be read fails food hygiene alone', () => {
  const fhrs = (folder: string) => servicesWith({ ...withoutFhrsApi(server.env()), FHRS_XML_DIR: folder })

  it('a missing folder', async () => {
    await expectOnlyThisSourceFailed(
      await fhrs(path.join(dir, 'missing')),
      'fhrs',
      /^FHRS_XML_DIR .*missing: no such folder$/,
    )
  })

  it('a file instead of a folder', async () => {
    await expectOnlyThisSourceFailed(
      await fhrs(path.join(dir, 'a-file.xml')),
      'fhrs',
      /^FHRS_XML_DIR .*a-file\.xml: a file, not a folder$/,
    )
  })

  it('a folder with no .xml file', async () => {
    await expectOnlyThisSourceFailed(await fhrs(path.join(dir, 'no-xml')), 'fhrs', /no \.xml files in the folder$/)
  })
})

function withoutCqcApi(env: Record<string, string>): Record<string, string> {
  const { CQC_API_BASE: _base, CQC_API_KEY: _key, ...rest } = env
  return rest
}

function withoutFhrsApi(env: Record<string, string>): Record<string, string> {
  const { FHRS_API_BASE: _base, ...rest } = env
  return rest
}
