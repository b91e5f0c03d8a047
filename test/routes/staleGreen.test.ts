import { beforeAll, describe, expect, it } from 'vitest'
import type { Express } from 'express'
import type { Services } from '../../src/services/container.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

function dashboardRow(html: string, ref: string): string {
  const at = html.indexOf(`href="/services/${ref}"`)
  if (at < 0) throw new Error(`No row for ${ref}`)
  const start = html.lastIndexOf('<tr', at)
  return html.slice(start, html.indexOf('</tr>', at))
}

describe('a Green built on a rating older than the rule set allows is marked stale', () => {
  let services: Services
  let app: Express
  let assessor: SignedInAgent

  beforeAll(async () => {
    // SVC-GREEN's CQC rating (10 January 2025) is over the default rule set's 3 years on this day.
    services = createTestServices({ today: '2028-03-01' })
    await seedSmallBorough(services)
    app = appWithAllRoutes(services)
    assessor = await signIn(app, services, 'assessor')
  })

  it('on the dashboard row and the service page, naming the stale input', async () => {
    const detail = await services.dashboard.serviceDetail('SVC-GREEN')
    expect(detail?.risk?.rag).toBe('green')
    expect(detail?.risk?.indicators.find((i) => i.key === 'cqc_rating')?.stale).toBe(true)

    const dashboard = await assessor.agent.get('/?pageSize=100')
    expect(dashboard.status).toBe(200)
    const row = dashboardRow(dashboard.text, 'SVC-GREEN')
    expect(row).toContain('data-testid="stale-green"')
    expect(row).toContain('CQC')
    // A Red is not "stale Green", whatever the age of its inputs.
    expect(dashboardRow(dashboard.text, 'SVC-RED')).not.toContain('stale-green')

    const page = await assessor.agent.get('/services/SVC-GREEN')
    expect(page.text).toContain('data-testid="stale-green"')
    expect(page.text).toMatch(/This Green rests on data older than the rule set allows: [^<]*CQC/)
  })

  it('is not marked while the rating is within the rule set’s age', async () => {
    const fresh = createTestServices({ today: '2026-11-23' })
    await seedSmallBorough(fresh)
    const agent = await signIn(appWithAllRoutes(fresh), fresh, 'assessor')
    const dashboard = await agent.agent.get('/?pageSize=100')
    expect(dashboardRow(dashboard.text, 'SVC-GREEN')).not.toContain('stale-green')
    expect((await agent.agent.get('/services/SVC-GREEN')).text).not.toContain('data-testid="stale-green"')
  })
})
