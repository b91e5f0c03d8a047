import { parse } from 'csv-parse/sync'
import type { Express } from 'express'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Services } from '../../src/services/container.js'
import { seedDemoBorough } from '../../src/services/demoSeedService.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'

/** Early warning (SPEC §3): the "deteriorating" flag on the dashboard, its filter, its CSV and its API. */

let services: Services
let app: Express
let assessor: SignedInAgent

beforeAll(async () => {
  services = createTestServices()
  await seedDemoBorough(services)
  const rules = await services.risk.activeRuleSet()
  const runId = await services.runs.startRun('full', { trigger: 'test' })
  await services.risk.publishFull(runId, await services.risk.stageAll(runId, rules, services.clock.today()))
  app = appWithAllRoutes(services)
  assessor = await signIn(app, services, 'assessor')
}, 60_000)

/** The published judgements flagged deteriorating, straight from the tables, with their RAG. */
function flaggedInDatabase(): Map<string, string> {
  const rows = services.db
    .prepare(
      `SELECT s.ref, c.rag FROM services s
       JOIN current_snapshots c ON c.service_id = s.id JOIN snapshots sn ON sn.id = c.snapshot_id
       WHERE json_extract(sn.result, '$.flags.deteriorating') = 1`,
    )
    .all() as Array<{ ref: string; rag: string }>
  return new Map(rows.map((r) => [r.ref, r.rag]))
}

/** Adverse-looking council entries per service in the 90 days to today, counted from the observations table. */
function recentCouncilEntries(ref: string): number {
  const row = services.db
    .prepare(
      `SELECT COUNT(*) AS n FROM observations o JOIN services s ON s.id = o.service_id
       WHERE s.ref = ? AND o.observed_on > date(?, '-90 days') AND o.observed_on <= ?
         AND NOT EXISTS (SELECT 1 FROM observations later WHERE later.supersedes_id = o.id)`,
    )
    .get(ref, services.clock.today(), services.clock.today()) as { n: number }
  return row.n
}

function rowsOfTable(html: string): Array<{ ref: string; deteriorating: boolean; rag: string }> {
  const table = /data-testid="services-table">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? ''
  return [...table.matchAll(/<tr class="govuk-table__row">([\s\S]*?)<\/tr>/g)].flatMap((m) => {
    const row = m[1] as string
    const ref = /href="\/services\/([^"/]+)"/.exec(row)?.[1]
    if (!ref) return []
    const rag = /<strong class="govuk-tag[^"]*">([^<]+)<\/strong>/.exec(row)?.[1] ?? ''
    return [{ ref: decodeURIComponent(ref), deteriorating: row.includes('>Deteriorating<'), rag }]
  })
}

describe('the deteriorating flag (SPEC §3 early warning)', () => {
  it('is shown on the dashboard for exactly the services whose judgement carries it', async () => {
    const flagged = flaggedInDatabase()
    expect(flagged.size).toBeGreaterThan(0)
    const page = await assessor.agent.get('/?pageSize=500')
    expect(page.status).toBe(200)
    // The count above the table, whatever the filters, links to the filtered view.
    expect(page.text).toMatch(
      new RegExp(
        `data-testid="deteriorating-count"><a class="govuk-link" href="/\\?deteriorating&#x3D;true">${flagged.size} services are deteriorating</a>: 2 or more adverse observations in 90 days`,
      ),
    )
    expect((await assessor.agent.get('/?rag=red')).text).toContain(`${flagged.size} services are deteriorating`)
    const rows = rowsOfTable(page.text)
    expect(rows.length).toBeGreaterThan(flagged.size)
    expect(
      rows
        .filter((r) => r.deteriorating)
        .map((r) => r.ref)
        .sort(),
    ).toEqual([...flagged.keys()].sort())
  })

  it('flags services while still Green, each with two or more entries in the last 90 days', async () => {
    const flagged = flaggedInDatabase()
    const green = [...flagged].filter(([, rag]) => rag === 'green').map(([ref]) => ref)
    expect(green.length).toBeGreaterThan(0)
    for (const ref of flagged.keys()) expect(recentCouncilEntries(ref)).toBeGreaterThanOrEqual(2)
  })

  it('filters the dashboard, its CSV and the API to the deteriorating services', async () => {
    const flagged = [...flaggedInDatabase().keys()].sort()
    const page = await assessor.agent.get('/?deteriorating=true&pageSize=500')
    expect(page.status).toBe(200)
    expect(page.text).toMatch(/id="deteriorating" name="deteriorating" type="checkbox" value="true" checked/)
    const rows = rowsOfTable(page.text)
    expect(rows.every((r) => r.deteriorating)).toBe(true)
    expect(rows.map((r) => r.ref).sort()).toEqual(flagged)
    expect(new Set(rows.map((r) => r.rag)).has('Green')).toBe(true)

    const href = /href="(\/services\.csv\?[^"]*)"/
      .exec(page.text)?.[1]
      ?.replaceAll('&amp;', '&')
      .replaceAll('&#x3D;', '=')
    expect(href).toContain('deteriorating=true')
    const csv = parse((await assessor.agent.get(href as string)).text, { bom: true, columns: true }) as Array<
      Record<string, string>
    >
    expect(csv.map((r) => r.Reference)).toEqual(rows.map((r) => r.ref))
    expect(csv.every((r) => r.Deteriorating === 'yes')).toBe(true)

    const api = await assessor.agent.get('/api/v1/services?deteriorating=true&pageSize=500')
    expect(api.status).toBe(200)
    expect((api.body.services as Array<{ ref: string }>).map((s) => s.ref).sort()).toEqual(flagged)
  })

  it('rolls up into the providers list', async () => {
    const page = await assessor.agent.get('/providers?show=deteriorating')
    expect(page.status).toBe(200)
    expect(page.text).toMatch(/\d+ services? deteriorating/)
  })
})
