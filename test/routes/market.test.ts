import { parse } from 'csv-parse/sync'
import type { Express } from 'express'
import request from 'supertest'
import { beforeAll, describe, expect, it } from 'vitest'
import { addMonths } from '../../src/domain/dates.js'
import { CQC_MIX_KEYS, QUALITY_MIX_KEYS, type MarketSummary } from '../../src/domain/market.js'
import type { Services } from '../../src/services/container.js'
import { seedDemoBorough } from '../../src/services/demoSeedService.js'
import { TEST_TODAY, appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'

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

/**
 * The acceptance check's independent count, straight from the tables: contracted services operating on the date,
 * by the latest live observation of the indicator known that day.
 */
function countFromDatabase(indicator: 'cqc_rating' | 'quality_assessment', date: string): Record<string, number> {
  const rows = services.db
    .prepare(
      `WITH latest AS (
         SELECT o.service_id, o.value, o.detail,
           ROW_NUMBER() OVER (PARTITION BY o.service_id ORDER BY o.observed_on DESC, o.id DESC) AS rn
         FROM observations o
         WHERE o.indicator = @indicator AND o.observed_on <= @date
           AND NOT EXISTS (SELECT 1 FROM observations later WHERE later.supersedes_id = o.id)
           AND (@indicator <> 'quality_assessment' OR json_extract(o.detail, '$.status') IS NULL
                OR json_extract(o.detail, '$.status') = 'published')
       ),
       latest_cqc AS (
         SELECT o.service_id, o.detail,
           ROW_NUMBER() OVER (PARTITION BY o.service_id ORDER BY o.observed_on DESC, o.id DESC) AS rn
         FROM observations o
         WHERE o.indicator = 'cqc_rating' AND o.observed_on <= @date
           AND NOT EXISTS (SELECT 1 FROM observations later WHERE later.supersedes_id = o.id)
       )
       SELECT lower(replace(COALESCE(l.value, 'none'), ' ', '_')) AS value, COUNT(*) AS n
       FROM services s
       LEFT JOIN latest l ON l.service_id = s.id AND l.rn = 1
       LEFT JOIN latest_cqc c ON c.service_id = s.id AND c.rn = 1
       WHERE s.contract_status = 'contracted'
         AND (s.registered_on IS NULL OR s.registered_on <= @date)
         AND (s.deregistered_on IS NULL OR s.deregistered_on > @date)
         AND COALESCE(json_extract(c.detail, '$.registrationStatus'), '') <> 'deregistered'
       GROUP BY 1`,
    )
    .all({ indicator, date }) as Array<{ value: string; n: number }>
  const keys: readonly string[] = indicator === 'cqc_rating' ? CQC_MIX_KEYS : QUALITY_MIX_KEYS
  const other = indicator === 'cqc_rating' ? 'not_inspected' : 'not_assessed'
  const counts: Record<string, number> = Object.fromEntries(keys.map((key) => [key, 0]))
  for (const row of rows) {
    const key = keys.includes(row.value) ? row.value : other
    counts[key] = (counts[key] ?? 0) + row.n
  }
  return counts
}

function mixCounts(summary: MarketSummary, dimension: 'cqc' | 'quality' | 'rag', when: 'from' | 'to') {
  return Object.fromEntries(summary.overall.mixes[dimension].rows.map((row) => [row.key, row[when].count]))
}

describe('market summary of the demo borough, today vs 12 months ago (acceptance)', () => {
  let summary: MarketSummary

  beforeAll(async () => {
    const response = await assessor.agent.get('/api/v1/market')
    expect(response.status).toBe(200)
    summary = response.body as MarketSummary
  })

  it('defaults to today and 12 months ago', () => {
    expect(summary.to).toBe(TEST_TODAY)
    expect(summary.from).toBe(addMonths(TEST_TODAY, -12))
  })

  it('matches a count of CQC ratings and quality assessments made directly from the database', () => {
    for (const when of ['from', 'to'] as const) {
      const date = summary[when]
      expect(mixCounts(summary, 'cqc', when)).toEqual(countFromDatabase('cqc_rating', date))
      expect(mixCounts(summary, 'quality', when)).toEqual(countFromDatabase('quality_assessment', date))
    }
  })

  it('matches today’s RAG mix as published on the dashboard, by group too, with percentages of each group', () => {
    // The summary recomputes from stored history; for today that must agree with the published snapshots.
    const rows = services.db
      .prepare(
        `SELECT s.service_type AS type, s.area, c.rag, COUNT(*) AS n
         FROM services s JOIN current_snapshots c ON c.service_id = s.id
         WHERE s.contract_status = 'contracted' AND (s.registered_on IS NULL OR s.registered_on <= @date)
           AND (s.deregistered_on IS NULL OR s.deregistered_on > @date)
         GROUP BY 1, 2, 3`,
      )
      .all({ date: summary.to }) as Array<{ type: string; area: string; rag: string; n: number }>
    const tally = (keep: (r: (typeof rows)[number]) => boolean) => {
      const counts: Record<string, number> = { green: 0, amber: 0, red: 0 }
      for (const r of rows.filter(keep)) counts[r.rag] = (counts[r.rag] ?? 0) + r.n
      return counts
    }
    expect(mixCounts(summary, 'rag', 'to')).toEqual(tally(() => true))
    for (const group of summary.byType) {
      const counts = Object.fromEntries(group.mixes.rag.rows.map((row) => [row.key, row.to.count]))
      expect(counts, group.key).toEqual(tally((r) => r.type === group.key))
    }
    for (const group of summary.byArea) {
      const counts = Object.fromEntries(group.mixes.rag.rows.map((row) => [row.key, row.to.count]))
      expect(counts, group.key).toEqual(tally((r) => r.area === group.key))
    }
    for (const group of [summary.overall, ...summary.byType, ...summary.byArea, ...summary.byDps]) {
      for (const dimension of ['cqc', 'quality', 'rag'] as const) {
        for (const when of ['from', 'to'] as const) {
          const total = group.services[when]
          const shares = group.mixes[dimension].rows.map((row) => row[when])
          expect(shares.reduce((sum, share) => sum + share.count, 0)).toBe(total)
          for (const share of shares) {
            expect(share.percent).toBeCloseTo(total === 0 ? 0 : (share.count * 100) / total, 1)
          }
        }
      }
    }
  })

  it('shows a different mix at the two dates', () => {
    expect(mixCounts(summary, 'cqc', 'from')).not.toEqual(mixCounts(summary, 'cqc', 'to'))
    expect(mixCounts(summary, 'rag', 'from')).not.toEqual(mixCounts(summary, 'rag', 'to'))
  })

  it('counts only contracted services, and every group adds up to the whole', () => {
    const contracted = services.db
      .prepare(
        `SELECT COUNT(*) AS n FROM services WHERE contract_status = 'contracted' AND (registered_on IS NULL OR registered_on <= ?)`,
      )
      .get(summary.to) as { n: number }
    expect(summary.overall.services.to).toBe(contracted.n)
    const sum = (groups: MarketSummary['byType']) => groups.reduce((total, g) => total + g.services.to, 0)
    expect(sum(summary.byType)).toBe(summary.overall.services.to)
    expect(sum(summary.byArea)).toBe(summary.overall.services.to)
    expect(summary.byDps.length).toBeGreaterThan(0)
  })

  it('lists the services registered between the dates as entries', () => {
    const registered = services.db
      .prepare(
        `SELECT ref FROM services WHERE contract_status = 'contracted' AND registered_on > ? AND registered_on <= ? ORDER BY ref`,
      )
      .all(summary.from, summary.to) as Array<{ ref: string }>
    expect(registered.length).toBeGreaterThan(0)
    expect(
      summary.entries
        .filter((e) => e.kind === 'registered')
        .map((e) => e.ref)
        .sort(),
    ).toEqual(registered.map((r) => r.ref))
  })

  it('adds up capacity by RAG', () => {
    for (const row of summary.capacity) {
      expect(row.to.red + row.to.amber + row.to.green).toBe(row.to.total)
      expect(row.to.atRisk).toBe(row.to.red + row.to.amber)
    }
    expect(summary.capacity.find((row) => row.unit === 'beds')?.to.total).toBeGreaterThan(0)
  })

  it('renders the same figures on the page, each chart with its table', async () => {
    const response = await assessor.agent.get('/market')
    expect(response.status).toBe(200)
    const table = /data-testid="mix-cqc">([\s\S]*?)<\/table>/.exec(response.text)?.[1] ?? ''
    for (const row of summary.overall.mixes.cqc.rows) {
      expect(table).toContain(`${row.label}</th>`)
      expect(table).toContain(`${row.from.count} (${row.from.percent}%)`)
      expect(table).toContain(`${row.to.count} (${row.to.percent}%)`)
    }
    for (const id of [
      'market-cqc',
      'market-quality',
      'market-rag',
      'market-by-type',
      'market-by-area',
      'market-by-dps',
      'market-capacity',
    ]) {
      expect(response.text).toContain(`id="${id}-data"`)
      expect(response.text).toMatch(new RegExp(`<canvas id="${id}"[^>]*role="img" aria-label="[^"]+"`))
    }
    expect(response.text).toContain('data-testid="group-by-type"')
  })

  it('prints each group’s count and its share of the group in the by-type, by-area and by-DPS tables', async () => {
    const response = await assessor.agent.get('/market?mix=rag')
    expect(response.status).toBe(200)
    expect(response.text).not.toContain('%%')
    const tables: Array<[string, typeof summary.byType]> = [
      ['by-type', summary.byType],
      ['by-area', summary.byArea],
      ['by-dps', summary.byDps],
    ]
    for (const [id, groups] of tables) {
      const table = new RegExp(`data-testid="group-${id}">([\\s\\S]*?)</table>`).exec(response.text)?.[1] ?? ''
      const cells = [
        ...table.matchAll(
          /<td class="govuk-table__cell govuk-table__cell--numeric" data-count="\d+"[^>]*>([^<]*)<\/td>/g,
        ),
      ].map((m) => m[1])
      const expected = groups.flatMap((group) =>
        (['from', 'to'] as const).flatMap((when) =>
          group.mixes.rag.rows.map((row) => `${row[when].count} (${row[when].percent}%)`),
        ),
      )
      expect(expected.length, id).toBeGreaterThan(0)
      expect(cells, id).toEqual(expected)
    }
    // The stacked chart of shares ends its axis at 100%.
    const data = /id="market-by-type-data"[^>]*>([^<]*)</.exec(response.text)?.[1] ?? '{}'
    expect(JSON.parse(data.replaceAll('&quot;', '"'))).toMatchObject({ stacked: true, percentAxis: true })
  })

  it('shows the chosen mix by group', async () => {
    const response = await assessor.agent.get('/market?mix=rag')
    expect(response.status).toBe(200)
    expect(response.text).toContain('RAG by service type, area and DPS')
  })

  it('exports the tables as CSV with the same figures', async () => {
    const response = await assessor.agent.get('/market.csv')
    expect(response.status).toBe(200)
    expect(response.headers['content-type']).toContain('text/csv')
    expect(response.headers['content-disposition']).toContain('attachment')
    const rows = parse(response.text, { bom: true, columns: true }) as Array<Record<string, string>>
    const good = rows.find((r) => r.Table === 'Overall' && r.Category === 'CQC overall rating: Good')
    const goodRow = summary.overall.mixes.cqc.rows.find((r) => r.key === 'good')
    expect(good?.[`Count on ${summary.from}`]).toBe(String(goodRow?.from.count))
    expect(good?.[`Count on ${summary.to}`]).toBe(String(goodRow?.to.count))
    expect(rows.some((r) => r.Table === 'Entries')).toBe(true)
  })
})

describe('market summary at chosen dates', () => {
  it('accepts UK dates and any past pair', async () => {
    const response = await assessor.agent.get('/api/v1/market?from=01/06/2025&to=2025-12-01')
    expect(response.status).toBe(200)
    expect(response.body).toMatchObject({ from: '2025-06-01', to: '2025-12-01' })
  })

  it('answers bad dates with 400 and the fields named (API)', async () => {
    const response = await assessor.agent.get('/api/v1/market?from=2025-13-45&to=2030-01-01')
    expect(response.status).toBe(400)
    expect(response.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'from' })]))
    const reversed = await assessor.agent.get('/api/v1/market?from=2026-01-01&to=2025-01-01')
    expect(reversed.status).toBe(400)
    expect(reversed.body.details[0]).toMatchObject({ field: 'from' })
    const future = await assessor.agent.get('/api/v1/market?to=2099-01-01')
    expect(future.status).toBe(400)
    expect(future.body.details[0]).toMatchObject({ field: 'to' })
  })

  it('shows the form again with the GOV.UK error summary and the values kept (page)', async () => {
    const response = await assessor.agent.get('/market?from=not-a-date&to=2025-01-01')
    expect(response.status).toBe(400)
    expect(response.text).toContain('govuk-error-summary')
    expect(response.text).toContain('href="#from"')
    expect(response.text).toContain('value="not-a-date"')
    expect(response.text).toContain('govuk-input--error')
    expect(response.text).not.toContain('data-testid="mix-cqc"')
  })

  it('needs a signed-in user', async () => {
    expect((await request(app).get('/market')).status).toBe(302)
    expect((await request(app).get('/api/v1/market')).status).toBe(401)
  })
})
