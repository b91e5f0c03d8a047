import type { Express } from 'express'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Services } from '../../src/services/container.js'
import { RefreshService, type RefreshSummary } from '../../src/services/refreshService.js'
import { seedDemoBorough } from '../../src/services/demoSeedService.js'
import { buildSourceSteps, CQC_STATE } from '../../src/services/sources/index.js'
import { appWithAllRoutes, createTestServices, signIn } from '../helpers/appHarness.js'
import { recordedPath } from '../helpers/recordedServer.js'
import { SourceServer } from '../helpers/sourceServer.js'

const LUCERNE = '1-125856395'

let server: SourceServer
let services: Services

beforeEach(async () => {
  server = await SourceServer.start()
  services = createTestServices({ env: server.env() })
  await services.serviceRepository.upsertMany([
    {
      ref: 'SVC-LUCERNE',
      name: 'Lucerne House',
      providerName: 'Tibbs and Simmons Limited',
      companiesHouseNumber: '06070408',
      cqcLocationId: LUCERNE,
      fhrsId: '22124',
      serviceType: 'care_home_nursing',
      area: 'North',
      contractStatus: 'contracted',
    },
    {
      ref: 'SVC-FALLING',
      name: 'Falling Grange',
      providerName: 'Falling Care Ltd',
      cqcProviderId: 'P-1-200000002',
      cqcLocationId: '1-200000002',
      fhrsId: '1549111',
      serviceType: 'care_home_residential',
      area: 'South',
      contractStatus: 'contracted',
    },
    {
      ref: 'SVC-GHOST',
      name: 'Ghost Lodge',
      providerName: 'Ghost Care Ltd',
      companiesHouseNumber: '99999999',
      cqcLocationId: '1-404404404',
      fhrsId: '404404',
      serviceType: 'home_care',
      area: 'South',
      contractStatus: 'spot',
    },
  ])
  server.cqcRatings.set('1-200000002', { rating: 'Inadequate', reportDate: '2026-10-01' })
  server.cqcProviderCompanies.set('P-1-200000002', '1234567')
  server.fhrsRatings.set('1549111', { value: '1', date: '2026-09-20' })
  server.unknown.add('1-404404404').add('404404').add('99999999')
})

afterEach(async () => {
  await server.close()
})

function refresh(trigger = 'test'): Promise<RefreshSummary> {
  const steps = buildSourceSteps(services, { http: { backoffMs: 1, maxBackoffMs: 5, maxAttempts: 2, timeoutMs: 5000 } })
  return new RefreshService(services, steps).run({ trigger })
}

const count = (table: string) => (services.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n

function source(summary: RefreshSummary, name: string) {
  const found = summary.sources.find((s) => s.source === name)
  if (!found) throw new Error(`no source ${name}`)
  return found
}

async function serviceId(ref: string): Promise<number> {
  return (await services.serviceRepository.findByRef(ref))!.id
}

describe('the overnight refresh against local copies of CQC, FSA and Companies House', () => {
  it('updates the indicators of matching services and the service page shows them with source and date', async () => {
    const summary = await refresh()

    expect(summary.sources.map((s) => [s.source, s.status])).toEqual([
      ['council_inbox', 'not_configured'],
      ['cqc', 'succeeded'],
      ['fhrs', 'succeeded'],
      ['companies_house', 'succeeded'],
    ])
    expect(source(summary, 'cqc').result).toMatchObject({ read: 2, matched: 2, changed: 2, unchanged: 0, rejected: 1 })
    expect(source(summary, 'fhrs').result).toMatchObject({ read: 2, matched: 2, changed: 2, rejected: 1 })
    // Lucerne's company from the council, Falling Grange's learnt from CQC's provider record this same night.
    expect(source(summary, 'companies_house').result).toMatchObject({ read: 2, matched: 2, changed: 2, rejected: 1 })

    const falling = await services.runs.current(await serviceId('SVC-FALLING'))
    expect(falling?.result.rag).toBe('red')
    const indicator = (key: string) => falling?.result.indicators.find((i) => i.key === key)
    expect(indicator('cqc_rating')).toMatchObject({ level: 'red', date: '2026-10-01', source: 'cqc_api' })
    expect(indicator('food_hygiene')).toMatchObject({ date: '2026-09-20', source: 'fhrs_api' })
    expect(indicator('insolvency')).toMatchObject({ level: 'green', source: 'companies_house' })

    const app: Express = appWithAllRoutes(services)
    const { agent } = await signIn(app, services, 'assessor')
    const page = await agent.get('/services/SVC-FALLING')
    expect(page.status).toBe(200)
    const row = (key: string) => {
      const match = new RegExp(`<tr[^>]*data-indicator="${key}"[^>]*>([\\s\\S]*?)</tr>`).exec(page.text)
      if (!match) throw new Error(`no ${key} row`)
      return match[1]!.replace(/\s+/g, ' ')
    }
    expect(row('cqc_rating')).toMatch(/Inadequate/)
    expect(row('cqc_rating')).toContain('1 October 2026')
    expect(row('cqc_rating')).toContain('CQC API')
    expect(row('food_hygiene')).toContain('20 September 2026')
    expect(row('food_hygiene')).toContain('FSA food hygiene API')
    expect(row('insolvency')).toContain('Companies House')
  })

  it('applies CQC facts: registration date, and the provider company number the council lacked', async () => {
    await refresh()
    const lucerne = await services.serviceRepository.findByRef('SVC-LUCERNE')
    expect(lucerne).toMatchObject({ registeredOn: '2011-02-15', deregisteredOn: null })
    const falling = await services.serviceRepository.findByRef('SVC-FALLING')
    expect(falling?.companiesHouseNumber).toBe('01234567')
    expect(server.requestsTo('/ch/company/01234567')).toHaveLength(1)
  })

  it('lists council identifiers the sources do not know as "not found at source"', async () => {
    const summary = await refresh()
    for (const [name, id] of [
      ['cqc', '1-404404404'],
      ['fhrs', '404404'],
      ['companies_house', '99999999'],
    ] as const) {
      const rejects = source(summary, name).result?.rejects ?? []
      expect(rejects).toContainEqual(
        expect.objectContaining({ record: id, reason: expect.stringMatching(/^not found at source.*SVC-GHOST/) }),
      )
    }
    const stored = await services.runs.listSourceRuns(summary.runId)
    expect(stored.find((s) => s.source === 'cqc')?.rejects.map((r) => r.record)).toContain('1-404404404')
  })

  it('is idempotent: a second run with the same inputs adds no observations and no RAG changes', async () => {
    await refresh()
    const observations = count('observations')
    const ragChanges = count('rag_changes')
    const snapshots = count('snapshots')

    const second = await refresh()
    expect(count('observations')).toBe(observations)
    expect(count('rag_changes')).toBe(ragChanges)
    expect(count('snapshots')).toBe(snapshots)
    expect(second.servicesChanged).toBe(0)
    for (const s of second.sources.filter((s) => s.status !== 'not_configured')) {
      expect(s.result).toMatchObject({ changed: 0 })
    }
    expect(source(second, 'companies_house').result).toMatchObject({ matched: 2, unchanged: 2 })
  })

  it('after a first full load, reads CQC through the changes feed, from where the last window ended', async () => {
    await refresh()
    const windowEnd = await services.sourceState.get(CQC_STATE.source, CQC_STATE.changesWindowEnd)
    expect(windowEnd).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
    expect(server.requestsTo('/cqc/changes')).toHaveLength(0)
    const fetchedBefore = server.requestsTo('/cqc/locations/').length

    server.cqcChanged.add('1-200000002')
    server.cqcRatings.set('1-200000002', { rating: 'Requires improvement', reportDate: '2026-11-20' })
    const second = await refresh()

    const [changes] = server.requestsTo('/cqc/changes/location')
    expect(changes?.query.get('startTimestamp')).toBe(windowEnd)
    // Only the changed location, plus the one never found (it is not yet loaded, so it is asked for every night).
    const fetched = server
      .requestsTo('/cqc/locations/')
      .slice(fetchedBefore)
      .map((r) => r.path)
    expect(fetched.sort()).toEqual(['/cqc/locations/1-200000002', '/cqc/locations/1-404404404'])
    expect(source(second, 'cqc').result).toMatchObject({ read: 1, matched: 1, changed: 1, unchanged: 1 })
    const falling = await services.runs.current(await serviceId('SVC-FALLING'))
    expect(falling?.result.indicators.find((i) => i.key === 'cqc_rating')).toMatchObject({
      level: 'amber',
      date: '2026-11-20',
    })
  })

  it('a failing source does not stop the others, is recorded failed with its error, and its data stays', async () => {
    await refresh()
    const falling = await serviceId('SVC-FALLING')
    const foodBefore = (await services.runs.current(falling))?.result.indicators.find((i) => i.key === 'food_hygiene')
    const fhrsObservations = (await services.observations.listLive(falling)).filter((o) => o.source === 'fhrs_api')
    expect(fhrsObservations).toHaveLength(1)

    server.fail('/fhrs', 500)
    server.companyStatuses.set('06070408', 'liquidation')
    const summary = await refresh()

    expect(source(summary, 'fhrs')).toMatchObject({ status: 'failed', result: null })
    expect(source(summary, 'fhrs').error).toMatch(
      /FSA food hygiene API: GET \/Establishments\/\d+ failed after 2 attempts: HTTP 500/,
    )
    expect(source(summary, 'cqc').status).toBe('succeeded')
    expect(source(summary, 'companies_house')).toMatchObject({ status: 'succeeded', result: { changed: 1 } })

    const run = await services.runs.getRun(summary.runId)
    expect(run?.status).toBe('completed')
    const stored = await services.runs.listSourceRuns(summary.runId)
    expect(stored.find((s) => s.source === 'fhrs')).toMatchObject({
      status: 'failed',
      error: source(summary, 'fhrs').error,
    })

    expect((await services.observations.listLive(falling)).filter((o) => o.source === 'fhrs_api')).toEqual(
      fhrsObservations,
    )
    const foodAfter = (await services.runs.current(falling))?.result.indicators.find((i) => i.key === 'food_hygiene')
    expect(foodAfter).toMatchObject({ value: foodBefore?.value, date: foodBefore?.date, source: 'fhrs_api' })
    const lucerne = await services.runs.current(await serviceId('SVC-LUCERNE'))
    expect(lucerne?.result.rag).toBe('red')

    const freshness = (await services.runs.sourceFreshness()).find((s) => s.source === 'fhrs')
    expect(freshness).toMatchObject({ lastAttemptStatus: 'failed', lastError: source(summary, 'fhrs').error })
    expect(freshness?.lastSuccessAt).not.toBeNull()
  })

  it('reports sources with neither a base URL nor a file as not configured', async () => {
    const bare = createTestServices()
    const summary = await new RefreshService(bare, buildSourceSteps(bare)).run({ trigger: 'test' })
    expect(summary.sources.map((s) => s.status)).toEqual(Array(4).fill('not_configured'))
    expect((await bare.runs.getRun(summary.runId))?.status).toBe('completed')
  })
})

describe('the overnight refresh from downloaded files (CQC_FILE, FHRS_XML_DIR)', () => {
  let dir: string

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'refresh-files-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reads the CQC HSCA file and the FHRS open-data folder for the council identifiers only', async () => {
    const header = (await readFile(recordedPath('cqc-hsca-active-locations-header-first36.csv'), 'utf8')).trim()
    const columns = header.split(',')
    const row = (values: Record<string, string>) => columns.map((column) => values[column] ?? '').join(',')
    const csv = [
      header,
      row({
        'Location ID': '1-111',
        'Location HSCA start date': '01/04/2015',
        'Location Name': 'Willow Court',
        'Registered manager': 'Ada Lovelace',
        'Location Latest Overall Rating': 'Inadequate',
        'Publication Date': '14/03/2026',
        'Provider Companies House Number': '7654321',
      }),
      row({ 'Location ID': '1-999', 'Location Name': 'Not ours', 'Location Latest Overall Rating': 'Good' }),
    ].join('\n')
    const cqcFile = path.join(dir, 'hsca.csv')
    await writeFile(cqcFile, csv)
    const xmlDir = path.join(dir, 'fhrs')
    await mkdir(xmlDir)
    const detail = await readFile(recordedPath('fhrs-opendata-establishmentdetail-1583332-caring-premises.xml'), 'utf8')
    await writeFile(
      path.join(xmlDir, 'barking.xml'),
      `<FHRSEstablishment><Header><ItemCount>1</ItemCount><ReturnCode>Success</ReturnCode></Header>` +
        `<EstablishmentCollection>${detail}</EstablishmentCollection></FHRSEstablishment>`,
    )

    const files = createTestServices({ env: { CQC_FILE: cqcFile, FHRS_XML_DIR: xmlDir } })
    await files.serviceRepository.upsertMany([
      {
        ref: 'SVC-WILLOW',
        name: 'Willow Court',
        providerName: 'Willow Ltd',
        cqcLocationId: '1-111',
        fhrsId: '1583332',
        serviceType: 'care_home_residential',
        area: 'East',
        contractStatus: 'contracted',
      },
      {
        ref: 'SVC-MISSING',
        name: 'Missing House',
        providerName: 'Missing Ltd',
        cqcLocationId: '1-222',
        fhrsId: '777',
        serviceType: 'care_home_residential',
        area: 'East',
        contractStatus: 'contracted',
      },
    ])
    const summary = await new RefreshService(files, buildSourceSteps(files)).run({ trigger: 'test' })

    const cqc = summary.sources.find((s) => s.source === 'cqc')
    expect(cqc).toMatchObject({ status: 'succeeded', result: { read: 2, matched: 1, changed: 1, rejected: 1 } })
    expect(cqc?.result?.rejects).toContainEqual(
      expect.objectContaining({ record: '1-222', reason: expect.stringContaining('not found at source') }),
    )
    const fhrs = summary.sources.find((s) => s.source === 'fhrs')
    expect(fhrs).toMatchObject({ status: 'succeeded', result: { read: 1, matched: 1, changed: 1, rejected: 1 } })
    expect(summary.sources.find((s) => s.source === 'companies_house')?.status).toBe('not_configured')

    const willow = await files.serviceRepository.findByRef('SVC-WILLOW')
    expect(willow).toMatchObject({ registeredOn: '2015-04-01', companiesHouseNumber: '07654321' })
    const result = (await files.runs.current(willow!.id))?.result
    expect(result?.rag).toBe('red')
    expect(result?.indicators.find((i) => i.key === 'cqc_rating')).toMatchObject({
      source: 'cqc_file',
      date: '2026-03-14',
    })
    expect(result?.indicators.find((i) => i.key === 'food_hygiene')).toMatchObject({
      source: 'fhrs_xml',
      date: '2024-03-13',
    })
  })
})

describe('npm run refresh on the demo borough', () => {
  it('updates the matching demo services from the local sources', { timeout: 45_000 }, async () => {
    const demo = createTestServices({ env: server.env() })
    await seedDemoBorough(demo)
    const all = await demo.serviceRepository.listAll()
    const target = all.find((s) => s.cqcLocationId && s.fhrsId)!
    server.cqcRatings.set(target.cqcLocationId!, { rating: 'Inadequate', reportDate: '2026-11-02' })

    const summary = await new RefreshService(demo, buildSourceSteps(demo, { concurrency: 8 })).run({ trigger: 'demo' })
    const counted = (name: string) => summary.sources.find((s) => s.source === name)
    expect(counted('cqc')).toMatchObject({
      status: 'succeeded',
      result: { matched: new Set(all.map((s) => s.cqcLocationId).filter(Boolean)).size },
    })
    expect(counted('fhrs')).toMatchObject({
      status: 'succeeded',
      result: { matched: new Set(all.map((s) => s.fhrsId).filter(Boolean)).size },
    })
    expect(counted('companies_house')?.status).toBe('succeeded')

    const { agent } = await signIn(appWithAllRoutes(demo), demo, 'assessor')
    const page = await agent.get(`/services/${target.ref}`)
    const row = /<tr[^>]*data-indicator="cqc_rating"[^>]*>([\s\S]*?)<\/tr>/.exec(page.text)?.[1]?.replace(/\s+/g, ' ')
    expect(row).toMatch(/Inadequate/)
    expect(row).toContain('2 November 2026')
    expect(row).toContain('CQC API')
  })
})
