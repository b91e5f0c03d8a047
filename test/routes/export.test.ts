import { parse } from 'csv-parse/sync'
import type { Express } from 'express'
import request from 'supertest'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Services } from '../../src/services/container.js'
import { seedDemoBorough } from '../../src/services/demoSeedService.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'

let services: Services
let app: Express
let assessor: SignedInAgent
let compliance: SignedInAgent

beforeAll(async () => {
  services = createTestServices()
  await seedDemoBorough(services)
  // A name a spreadsheet would run as a formula, and a case note only compliance may read.
  const [evil] = await services.serviceRepository.upsertMany([
    {
      ref: 'SVC-FORMULA',
      name: '=HYPERLINK("http://evil.example","Click")',
      providerName: '+Plus Care Ltd',
      serviceType: 'home_care',
      area: 'North',
      capacity: 10,
      contractStatus: 'contracted',
    },
  ])
  await services.observations.append([
    {
      serviceId: evil!.id,
      indicator: 'embargo',
      source: 'council_form',
      observedOn: '2026-10-01',
      value: 'embargo',
      reference: 'EMB-SECRET-1',
      notes: 'Confidential note about a resident',
      naturalKey: 'council:embargo:EMB-SECRET-1',
    },
  ])
  const rules = await services.risk.activeRuleSet()
  const runId = await services.runs.startRun('full', { trigger: 'test' })
  await services.risk.publishFull(runId, await services.risk.stageAll(runId, rules, services.clock.today()))
  app = appWithAllRoutes(services)
  assessor = await signIn(app, services, 'assessor')
  compliance = await signIn(app, services, 'compliance')
}, 60_000)

function refsOnPage(html: string): string[] {
  const table = /data-testid="services-table">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? ''
  return [...table.matchAll(/href="\/services\/([^"/]+)"/g)].map((m) => decodeURIComponent(m[1] as string))
}

function csvRows(text: string): Array<Record<string, string>> {
  return parse(text, { bom: true, columns: true }) as Array<Record<string, string>>
}

describe('GET /services.csv (acceptance: the same rows as the filtered page)', () => {
  it('has the rows of the filtered, sorted dashboard, in the same order', async () => {
    const query = 'area=North&area=South&rag=amber&rag=red&sort=name&dir=desc'
    const page = await assessor.agent.get(`/?${query}&pageSize=500`)
    expect(page.status).toBe(200)
    const pageRefs = refsOnPage(page.text)
    expect(pageRefs.length).toBeGreaterThan(5)
    // The page links to the export with its own query.
    expect(page.text).toContain('href="/services.csv?')

    const csv = await assessor.agent.get(`/services.csv?${query}`)
    expect(csv.status).toBe(200)
    expect(csv.headers['content-type']).toContain('text/csv')
    expect(csv.headers['content-disposition']).toMatch(/attachment; filename="?services-\d{4}-\d{2}-\d{2}\.csv"?/)
    const rows = csvRows(csv.text)
    expect(rows.map((r) => r.Reference)).toEqual(pageRefs)
    for (const row of rows) {
      expect(['North', 'South']).toContain(row.Area)
      expect(['Amber', 'Red']).toContain(row.RAG)
    }
  })

  it('follows the link the dashboard gives, and is not limited to one page', async () => {
    const page = await assessor.agent.get('/?type=home_care')
    const href = /href="(\/services\.csv\?[^"]*)"/
      .exec(page.text)?.[1]
      ?.replaceAll('&amp;', '&')
      .replaceAll('&#x3D;', '=')
    expect(href).toBeDefined()
    const rows = csvRows((await assessor.agent.get(href as string)).text)
    const total = Number(/of (\d+) services/.exec(page.text)?.[1])
    expect(total).toBeGreaterThan(50)
    expect(rows).toHaveLength(total)
    expect(new Set(rows.map((r) => r['Service type']))).toEqual(new Set(['Home care']))
  })

  it('neutralises cells a spreadsheet would run as formulas', async () => {
    const rows = csvRows((await assessor.agent.get('/services.csv?q=Plus')).text)
    expect(rows).toHaveLength(1)
    expect(rows[0]?.Service).toBe('\'=HYPERLINK("http://evil.example","Click")')
    expect(rows[0]?.Provider).toBe("'+Plus Care Ltd")
  })

  it('answers bad filters with 400', async () => {
    const response = await assessor.agent.get('/services.csv?rag=purple')
    expect(response.status).toBe(400)
    expect(response.text).toContain('rag')
  })

  it('needs a signed-in user', async () => {
    expect((await request(app).get('/services.csv')).status).toBe(302)
  })
})

describe('GET /services/:ref/report', () => {
  it('prints the service with its reasons, indicators, history and observations', async () => {
    const response = await compliance.agent.get('/services/SVC-FORMULA/report')
    expect(response.status).toBe(200)
    expect(response.text).toContain('app-report')
    expect(response.text).toContain('data-testid="report-reasons"')
    expect(response.text).toMatch(/Embargo on new placements/)
    expect(response.text).toContain('data-testid="report-history"')
    expect(response.text).toContain('EMB-SECRET-1')
    expect(response.text).toContain('Confidential note about a resident')
    expect(response.text).toContain('data-testid="report-actions"')
    expect(response.text).toContain('Generated')
  })

  it('hides intelligence notes and references from assessors', async () => {
    const response = await assessor.agent.get('/services/SVC-FORMULA/report')
    expect(response.status).toBe(200)
    expect(response.text).not.toContain('EMB-SECRET-1')
    expect(response.text).not.toContain('Confidential note')
    expect(response.text).not.toContain('data-testid="report-actions"')
  })

  it('is linked from the service page, and 404s for an unknown service', async () => {
    const page = await assessor.agent.get('/services/SVC-FORMULA')
    expect(page.text).toContain('href="/services/SVC-FORMULA/report"')
    expect((await assessor.agent.get('/services/NOPE/report')).status).toBe(404)
  })
})
