import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { openDatabase, type Db } from '../../src/data/database.js'
import { createLogger } from '../../src/logger.js'
import { createServices, type Services } from '../../src/services/container.js'
import { appWithAllRoutes, signIn } from '../helpers/appHarness.js'

/**
 * Issue 2's acceptance, through the command itself: `npm run import -- <kind> <file.csv>` on a database file imports
 * the good rows, reports each bad one (row, column, reason) and exits non-zero; the page and the API then show the
 * RAG the rules of SPEC §3 give, with a reason naming the indicator and its date.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const tsx = path.join(root, 'node_modules/.bin/tsx')
const BOM = '\uFEFF'

/** A calendar date some days back, far enough from midnight that the time zone cannot change it. */
function daysAgo(days: number): Date {
  return new Date(Date.now() - days * 86_400_000)
}
const iso = (date: Date) => date.toISOString().slice(0, 10)
const uk = (date: Date) => `${iso(date).slice(8, 10)}/${iso(date).slice(5, 7)}/${iso(date).slice(0, 4)}`

describe('npm run import', () => {
  let dir: string
  let databasePath: string

  function write(name: string, text: string): string {
    const file = path.join(dir, name)
    fs.writeFileSync(file, text, 'utf8')
    return file
  }

  function runImport(...args: string[]) {
    const result = spawnSync(tsx, [path.join(root, 'jobs', 'import.ts'), ...args], {
      cwd: root,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'test',
        TZ: 'Europe/London',
        DATABASE_PATH: databasePath,
        INBOX_DIR: path.join(dir, 'inbox'),
      },
      timeout: 60_000,
    })
    return { code: result.status, stdout: result.stdout, stderr: result.stderr }
  }

  function withServices<T>(fn: (services: Services, db: Db) => Promise<T>): Promise<T> {
    const db = openDatabase(databasePath)
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_PATH: databasePath, INBOX_DIR: path.join(dir, 'inbox') })
    return fn(createServices(db, config, createLogger('silent')), db).finally(() => db.close())
  }

  /** The reject report's table rows as [row, column] (the report aligns them in columns). */
  function reportedRows(stdout: string): Array<[number, string]> {
    return stdout
      .split('\n')
      .filter((line) => /^\d+ /.test(line))
      .map((line) => {
        const [row, column] = line.split(/\s{2,}/)
        return [Number(row), column?.includes(' ') ? '' : (column ?? '')]
      })
  }

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'import-cli-'))
    databasePath = path.join(dir, 'dashboard.sqlite')
  })
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

  it('imports a services CSV with a BOM, CRLF line ends and quoted commas, rejecting its bad row', async () => {
    const file = write(
      'services.csv',
      BOM +
        [
          'contract_status,service_ref,name,provider_name,cqc_location_id,cqc_provider_id,companies_house_number,fhrs_id,service_type,area,capacity',
          'contracted,HC-1,"Acorn Home Care, North",Acorn Care Ltd,1-1000210669,1-101641451,06070408,,Domiciliary care service,North,350',
          'spot,CH-2,"Birch House ""Nursing""",Birch Homes,1-125856395,,,,care_home_nursing,South,40',
          'contracted,XX-3,Nowhere,Acorn Care Ltd,,,,,castle,North,10',
        ].join('\r\n') +
        '\r\n',
    )

    const result = runImport('services', file)

    expect(result.stderr).toBe('')
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('services.csv (services): 3 rows read, 2 imported, 0 already known, 1 rejected.')
    expect(reportedRows(result.stdout)).toEqual([[4, 'service_type']])
    expect(result.stdout).toMatch(/4\s+service_type\s+"castle" is not one of/)
    await withServices(async ({ serviceRepository, runs }) => {
      expect(await serviceRepository.findByRef('HC-1')).toMatchObject({
        name: 'Acorn Home Care, North',
        serviceType: 'home_care',
        contractStatus: 'contracted',
      })
      expect((await serviceRepository.findByRef('CH-2'))?.name).toBe('Birch House "Nursing"')
      expect(await serviceRepository.findByRef('XX-3')).toBeNull()
      const hc1 = await serviceRepository.findByRef('HC-1')
      expect((await runs.current(hc1!.id))?.result.rag).toBe('green')
    })
  })

  it('imports the good intelligence rows, reports each bad one, exits non-zero, and the RAG follows SPEC §3', async () => {
    const embargoStart = daysAgo(20)
    const decision = daysAgo(40)
    const file = write(
      'intelligence.csv',
      BOM +
        [
          'service_ref,kind,date,end_date,outcome,reference,notes',
          `HC-1,embargo,${uk(embargoStart)},,,EMB-1,"Missed visits, twice"`,
          `CH-2,safeguarding_decision,${iso(decision)},,open,SG-1,"Fall, unwitnessed"`,
          `NOPE-9,embargo,${iso(decision)},,,,`,
          'CH-2,unexpected_death,2026-02-30,,,,',
          `CH-2,alien_visit,${iso(decision)},,,,`,
          'CH-2,contract_concern',
          `CH-2,default_notice,${iso(decision)},,,,,one too many`,
        ].join('\r\n') +
        '\r\n',
    )

    const result = runImport('intelligence', file)

    expect(result.stderr).toBe('')
    expect(result.code).toBe(1)
    expect(result.stdout).toContain(
      'intelligence.csv (intelligence): 7 rows read, 2 imported, 0 already known, 5 rejected.',
    )
    expect(reportedRows(result.stdout)).toEqual([
      [4, 'service_ref'],
      [5, 'date'],
      [6, 'kind'],
      [7, 'date'],
      [8, ''],
    ])
    expect(result.stdout).toContain('"NOPE-9" is not a service on the register')
    expect(result.stdout).toContain('"2026-02-30" is not a real calendar date')
    expect(result.stdout).toContain('"alien_visit" is not one of')
    expect(result.stdout).toContain('has 1 more value than the header has columns')

    await withServices(async (services) => {
      const hc1 = await services.serviceRepository.findByRef('HC-1')
      const ch2 = await services.serviceRepository.findByRef('CH-2')
      const live = await services.observations.listLive(hc1!.id)
      expect(live).toMatchObject([
        { indicator: 'embargo', observedOn: iso(embargoStart), notes: 'Missed visits, twice' },
      ])
      expect((await services.observations.listLive(ch2!.id)).map((o) => o.indicator)).toEqual(['safeguarding'])

      const app = appWithAllRoutes(services)
      const officer = await signIn(app, services, 'compliance')
      const embargoReason = `Embargo on new placements since ${iso(embargoStart)}`
      const safeguardingReason = `1 safeguarding decision in the last 12 months (latest ${iso(decision)})`

      const red = await officer.agent.get('/api/v1/services/HC-1')
      expect(red.status).toBe(200)
      expect(red.body).toMatchObject({ ref: 'HC-1', rag: 'red' })
      expect(red.body.reasons[0]).toBe(embargoReason)
      expect(red.body.indicators).toContainEqual(
        expect.objectContaining({ key: 'embargo', level: 'red', date: iso(embargoStart), reason: embargoReason }),
      )
      const amber = await officer.agent.get('/api/v1/services/CH-2')
      expect(amber.body).toMatchObject({ rag: 'amber', reasons: [safeguardingReason] })

      const page = await officer.agent.get('/services/HC-1')
      expect(page.status).toBe(200)
      expect(page.text).toContain(embargoReason)
      expect(page.text).toMatch(/govuk-tag--red[^>]*>\s*Red/)
      const amberPage = await officer.agent.get('/services/CH-2')
      expect(amberPage.text).toContain(safeguardingReason)
    })
  })

  it('re-importing the same file adds nothing and still reports the bad rows', () => {
    const result = runImport('intelligence', path.join(dir, 'intelligence.csv'))
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('7 rows read, 0 imported, 2 already known, 5 rejected.')
  })

  it('imports nothing from a file missing a required column, saying which', async () => {
    const file = write('no-date.csv', 'service_ref,kind,end_date,outcome\r\nHC-1,default_notice,,open\r\n')
    const result = runImport('intelligence', file)
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('Nothing was imported from this file.')
    expect(result.stdout).toContain('File: The file has no date column, which intelligence needs.')
    await withServices(async ({ serviceRepository, observations }) => {
      const hc1 = await serviceRepository.findByRef('HC-1')
      expect((await observations.listLive(hc1!.id)).map((o) => o.indicator)).toEqual(['embargo'])
    })
  })

  it('exits 0 when every row is imported, and 2 on a usage error', () => {
    const file = write(
      'lifted.csv',
      `service_ref,kind,date,end_date\nHC-1,embargo,${iso(daysAgo(20))},${iso(daysAgo(2))}\n`,
    )
    const ok = runImport('intelligence', file)
    expect(ok.stdout).toContain('1 imported')
    expect(ok.code).toBe(0)
    expect(runImport('castles', file).code).toBe(2)
    expect(runImport('intelligence', path.join(dir, 'missing.csv')).code).toBe(2)
  })
})
