import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parse } from 'csv-parse/sync'
import type { Express } from 'express'
import request from 'supertest'
import { beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error the build script is plain JavaScript, without type declarations
import { compileStylesheet } from '../../scripts/build.mjs'
import type { Services } from '../../src/services/container.js'
import { seedDemoBorough } from '../../src/services/demoSeedService.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'

let services: Services
let app: Express
let assessor: SignedInAgent
let compliance: SignedInAgent
let admin: SignedInAgent

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
  admin = await signIn(app, services, 'admin')
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

function decodeHtml(text: string): string {
  return text.replaceAll('&amp;', '&').replaceAll('&#x3D;', '=').replaceAll('&quot;', '"').replaceAll('&#x27;', "'")
}

function linkedCsv(html: string): string {
  const href = /data-testid="tables-csv"><a class="govuk-link" href="([^"]+)"/.exec(html)?.[1]
  if (!href) throw new Error('The page has no CSV link for its tables')
  return decodeHtml(href)
}

function rawRows(text: string): string[][] {
  return parse(text, { bom: true, relax_column_count: true }) as string[][]
}

describe('?format=csv: the tables of every table view, as the page shows them', () => {
  it('exports the due-next queue with the rows of the page, in order', async () => {
    const page = await compliance.agent.get('/assessments/due')
    expect(page.status).toBe(200)
    const table = /data-testid="due-next">([\s\S]*?)<\/table>/.exec(page.text)?.[1] ?? ''
    const names = [...table.matchAll(/\/assessments">([^<]+)<\/a><br><span class="govuk-body-s">([^<]*)<\/span>/g)].map(
      (m) => decodeHtml(`${m[1]} ${m[2]}`),
    )
    expect(names.length).toBeGreaterThan(5)
    expect(linkedCsv(page.text)).toBe('/assessments/due?format=csv')

    const csv = await compliance.agent.get('/assessments/due?format=csv&table=due-next')
    expect(csv.status).toBe(200)
    expect(csv.headers['content-type']).toContain('text/csv')
    expect(csv.headers['content-disposition']).toMatch(
      /attachment; filename="?assessments-due-due-next-\d{4}-\d{2}-\d{2}\.csv/,
    )
    const rows = csvRows(csv.text)
    expect(Object.keys(rows[0] ?? {})).toEqual([
      'Rank',
      'Service',
      'RAG',
      'Last assessed',
      'Next assessment due',
      'Follow-up',
    ])
    // The same names, as a spreadsheet will show them (a name starting a formula is neutralised).
    expect(rows.map((r) => r.Service)).toEqual(names.map((name) => (/^[=+\-@]/.test(name) ? `'${name}` : name)))
    expect(rows.map((r) => r.Rank)).toEqual(names.map((_, i) => String(i + 1)))
  })

  it('applies the page’s filters: a DPS referral for one pen picture', async () => {
    const dps = (await assessor.agent.get('/api/v1/dps')).body.dps[0] as { id: number }
    const query = 'area=North&type=home_care'
    const page = await assessor.agent.get(`/dps/${dps.id}/referral?${query}`)
    expect(page.status).toBe(200)
    const eligibleTable = /data-testid="referral-eligible">([\s\S]*?)<\/table>/.exec(page.text)?.[1] ?? ''
    const refs = [...eligibleTable.matchAll(/data-referral="([^"]+)"/g)].map((m) => m[1])
    expect(refs.length).toBeGreaterThan(0)
    const href = linkedCsv(page.text)
    expect(href).toBe(`/dps/${dps.id}/referral?${query}&format=csv`)
    const eligible = csvRows((await assessor.agent.get(`${href}&table=referral-eligible`)).text)
    expect(eligible.map((r) => r.Order)).toEqual(refs.map((_, i) => String(i + 1)))
    // Another pen picture, other rows: the export follows the query it is given.
    const south = csvRows(
      (await assessor.agent.get(`/dps/${dps.id}/referral?area=South&type=home_care&format=csv&table=referral-eligible`))
        .text,
    )
    const southPage = await assessor.agent.get(`/dps/${dps.id}/referral?area=South&type=home_care`)
    const southTable = /data-testid="referral-eligible">([\s\S]*?)<\/table>/.exec(southPage.text)?.[1] ?? ''
    expect(south).toHaveLength([...southTable.matchAll(/data-referral="/g)].length)
    expect(south.length).not.toBe(eligible.length)
  })

  it('puts several tables in one file, each under its title, and leaves out "nothing here" rows', async () => {
    const page = await compliance.agent.get('/services/SVC-FORMULA')
    const rows = rawRows((await compliance.agent.get(linkedCsv(page.text))).text)
    const titles = rows.filter((r) => r.length === 1 && r[0] !== '').map((r) => r[0])
    expect(titles).toEqual(
      expect.arrayContaining(['Indicators', 'RAG changes', 'Events, newest first', 'Observations']),
    )
    expect(rows.some((r) => r.some((cell) => cell.includes('Nothing recorded yet')))).toBe(false)
  })

  it('shows each role only what its page shows', async () => {
    const path = '/services/SVC-FORMULA?format=csv&table=observations-table'
    const officer = rawRows((await compliance.agent.get(path)).text)
    const reader = rawRows((await assessor.agent.get(path)).text)
    expect(officer[0]).toContain('Reference and notes')
    expect(officer.flat().join(' ')).toContain('Confidential note about a resident')
    expect(reader[0]).not.toContain('Reference and notes')
    expect(reader.flat().join(' ')).not.toContain('Confidential note')
    expect(reader.flat().join(' ')).not.toContain('EMB-SECRET-1')
    expect((await assessor.agent.get('/morning?format=csv')).status).toBe(403)
  })

  it('neutralises formulas, keeps bad filters an HTML error, and 404s for a table the page has not', async () => {
    const dashboard = rawRows((await assessor.agent.get('/?q=Plus&format=csv&table=services-table')).text)
    const evil = dashboard.find((r) => r.some((cell) => cell.includes('HYPERLINK')))
    expect(evil?.find((cell) => cell.includes('HYPERLINK'))?.startsWith('\'=HYPERLINK("http://evil.example"')).toBe(
      true,
    )
    expect(evil).toContain("'+Plus Care Ltd")
    const bad = await assessor.agent.get('/providers?show=nonsense&format=csv')
    expect(bad.status).toBe(400)
    expect(bad.headers['content-type']).toContain('text/html')
    const missing = await assessor.agent.get('/assessments/due?format=csv&table=nope')
    expect([403, 404]).toContain(missing.status)
    expect((await compliance.agent.get('/assessments/due?format=csv&table=nope')).status).toBe(404)
  })

  it('links from pages without an export of their own only', async () => {
    expect((await assessor.agent.get('/')).text).not.toContain('data-testid="tables-csv"')
    expect((await assessor.agent.get('/market')).text).not.toContain('data-testid="tables-csv"')
    expect((await compliance.agent.get('/morning')).text).toContain('data-testid="tables-csv"')
  })
})

/** A page's tables as the reader sees them: each named table's column headings and its number of rows of data. */
function tablesOnPage(html: string): Map<string, { header: string[]; rows: number }> {
  const tables = new Map<string, { header: string[]; rows: number }>()
  for (const match of html.matchAll(/<table[^>]*data-testid="([^"]+)"[^>]*>([\s\S]*?)<\/table>/g)) {
    const [, id, body] = match as unknown as [string, string, string]
    const head = /<thead[\s\S]*?<\/thead>/.exec(body)?.[0] ?? ''
    const header = [...head.matchAll(/<th[^>]*>([\s\S]*?)<\/th>/g)].map((m) =>
      decodeHtml(
        (m[1] as string).replace(/<span class="govuk-visually-hidden">[^<]*<\/span>/g, '').replace(/<[^>]+>/g, ''),
      )
        .replace(/\s+/g, ' ')
        .trim(),
    )
    const bodyRows = [...body.replace(head, '').matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)]
    // A lone cell across the table ("No entries") is no row of data.
    const rows = bodyRows.filter((m) => !/^\s*<td[^>]*colspan[^>]*>[^<]*<\/td>\s*$/.test(m[1] as string)).length
    tables.set(id, { header, rows })
  }
  return tables
}

describe('?format=csv: built from the view-model, the same tables as the page draws', () => {
  it.each([
    ['compliance', '/services/SVC-FORMULA'],
    ['assessor', '/services/SVC-FORMULA'],
    ['assessor', '/?sort=name&pageSize=100'],
    ['assessor', '/providers'],
    ['assessor', '/market'],
    ['compliance', '/morning'],
    ['compliance', '/assessments/due'],
    ['assessor', '/dps'],
    ['admin', '/admin/users'],
    ['admin', '/admin/runs'],
    ['admin', '/admin/audit'],
    ['admin', '/admin/tokens'],
    ['admin', '/admin/dps'],
    ['admin', '/admin/rules'],
    ['compliance', '/services/SVC-FORMULA/intelligence'],
    ['compliance', '/services/SVC-FORMULA/report'],
    ['compliance', '/dps/1'],
    ['compliance', '/actions'],
  ] as const)('as %s, %s', async (role, url) => {
    const agent = { assessor, compliance, admin }[role]
    const page = await agent.agent.get(url)
    expect(page.status).toBe(200)
    const tables = tablesOnPage(page.text)
    expect(tables.size).toBeGreaterThan(0)
    for (const [id, shown] of tables) {
      const csv = await agent.agent.get(`${url}${url.includes('?') ? '&' : '?'}format=csv&table=${id}`)
      expect(csv.status, id).toBe(200)
      const [header, ...rows] = rawRows(csv.text)
      expect(header, id).toEqual(shown.header)
      expect(rows.length, id).toBe(shown.rows)
    }
  })
})

describe('the print stylesheet', () => {
  it('is compiled into the application stylesheet: navigation and forms hidden, tags kept legible', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'css-'))
    compileStylesheet(dir)
    const css = readFileSync(path.join(dir, 'application.css'), 'utf8')
    const print = [...css.matchAll(/@media print\{([\s\S]*?)\}\}/g)].map((m) => m[1]).join('\n')
    expect(print).toMatch(
      /\.govuk-header[^{]*\.govuk-service-navigation[^{]*\.app-no-print[^{]*form\{display:none ?!important/,
    )
    expect(print).toContain('.govuk-tag{border:1px solid')
    expect(css).toContain('.app-market-dates__fields')
  })
})
