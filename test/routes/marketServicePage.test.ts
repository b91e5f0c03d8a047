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

function chartData(html: string, id: string): { type: string; points: Array<{ at: string; rag: string }> } {
  const json = new RegExp(`<script type="application/json" id="${id}-data">([^<]*)</script>`).exec(html)?.[1]
  if (!json) throw new Error(`No chart data ${id}`)
  return JSON.parse(json.replaceAll('\\u003c', '<')) as { type: string; points: Array<{ at: string; rag: string }> }
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
    expect(timelinePage.text).toMatch(
      /<canvas id="service-timeline"[^>]*role="img" aria-label="Timeline of Oak Homecare/,
    )
  })

  it('keeps the existing sections of the page', async () => {
    const response = await assessor.agent.get('/services/SVC-RED')
    expect(response.text).toContain('data-testid="indicators-table"')
    expect(response.text).toContain('id="rag-history-data"')
    expect(response.text).toContain('data-testid="timeline-table"')
  })
})
