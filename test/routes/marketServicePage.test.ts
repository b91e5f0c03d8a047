import { parse } from 'csv-parse/sync'
import type { Express } from 'express'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Services } from '../../src/services/container.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

let services: Services
let app: Express
let assessor: SignedInAgent

beforeAll(async () => {
  services = createTestServices()
  await seedSmallBorough(services)
  app = appWithAllRoutes(services)
  assessor = await signIn(app, services, 'assessor')
})

type TimelineChart = { type: string; points: Array<{ at: string; rag: string; events: string[] }> }

function chartData(html: string, id: string): TimelineChart {
  const json = new RegExp(`<script type="application/json" id="${id}-data">([^<]*)</script>`).exec(html)?.[1]
  if (!json) throw new Error(`No chart data ${id}`)
  return JSON.parse(json.replaceAll('\\u003c', '<')) as TimelineChart
}

describe('service page timeline', () => {
  it('lists every observation and RAG change, newest first, beside a chart on the same dates', async () => {
    const response = await assessor.agent.get('/services/SVC-AMBER')
    expect(response.status).toBe(200)
    const table = /data-testid="timeline-table">([\s\S]*?)<\/table>/.exec(response.text)?.[1] ?? ''
    const rows = [...table.matchAll(/<tr class="govuk-table__row"><td class="govuk-table__cell">([^<]+)<\/td>/g)].map(
      (m) => m[1],
    )
    expect(rows).toEqual(['23 November 2026', '1 October 2026', '1 June 2025'])
    expect(table).toContain('Safeguarding decisions: Decision')
    expect(table).toContain('CQC rating: Good')
    expect(table).toContain('First judged Amber')
    expect(table).toContain('Adverse')

    // The page opens with one chart (its RAG history); the timeline chart is drawn on request, beside the same list.
    expect(response.text.match(/<canvas /g)).toHaveLength(1)
    expect(response.text).toContain('href="/services/SVC-AMBER?timeline&#x3D;chart#timeline"')
    const timelinePage = await assessor.agent.get('/services/SVC-AMBER?timeline=chart')
    expect(timelinePage.status).toBe(200)
    expect(timelinePage.text).toContain(table)
    const chart = chartData(timelinePage.text, 'service-timeline')
    expect(chart.type).toBe('rag-history')
    expect(chart.points.map((p) => [p.at, p.rag])).toEqual([
      ['2025-06-01', 'green'],
      ['2026-10-01', 'amber'],
      ['2026-11-23', 'amber'],
    ])
    // Each point names the events of its date, as the list does.
    expect(chart.points.map((p) => p.events)).toEqual([
      ['CQC rating: Good'],
      ['Safeguarding decisions: Decision'],
      ['First judged Amber'],
    ])
    expect(timelinePage.text).toMatch(
      /<canvas id="service-timeline"[^>]*role="img" aria-label="Timeline of Oak Homecare/,
    )
  })

  it('exports the timeline table as CSV with the same rows', async () => {
    const page = await assessor.agent.get('/services/SVC-AMBER')
    expect(page.text).toContain('href="/services/SVC-AMBER/timeline.csv"')
    const response = await assessor.agent.get('/services/SVC-AMBER/timeline.csv')
    expect(response.status).toBe(200)
    expect(response.headers['content-type']).toContain('text/csv')
    const rows = parse(response.text, { bom: true, columns: true }) as Array<Record<string, string>>
    expect(rows.map((r) => [r.Date, r.Event, r['What happened']])).toEqual([
      ['2026-11-23', 'RAG change', 'First judged Amber'],
      ['2026-10-01', 'Observation', 'Safeguarding decisions: Decision'],
      ['2025-06-01', 'Observation', 'CQC rating: Good'],
    ])
    expect(rows.map((r) => r.Adverse)).toEqual(['no', 'yes', 'no'])
    expect((await assessor.agent.get('/services/NOPE/timeline.csv')).status).toBe(404)
  })

  it('keeps the existing sections of the page', async () => {
    const response = await assessor.agent.get('/services/SVC-RED')
    expect(response.text).toContain('data-testid="indicators-table"')
    expect(response.text).toContain('id="rag-history-data"')
    expect(response.text).toContain('data-testid="timeline-table"')
  })
})
