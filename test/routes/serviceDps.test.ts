import { beforeAll, describe, expect, it } from 'vitest'
import type { Express } from 'express'
import type { Services } from '../../src/services/container.js'
import { seedDemoBorough } from '../../src/services/demoSeedService.js'
import { DEMO_DPS_NAME } from '../../src/services/dpsService.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'

let services: Services
let app: Express
let assessor: SignedInAgent
let compliance: SignedInAgent
let dpsId: number

function membershipsSection(html: string): string {
  const start = html.indexOf('id="dps-memberships"')
  if (start < 0) throw new Error('No DPS memberships section')
  return html.slice(start, html.indexOf('</table>', start) > 0 ? html.indexOf('</table>', start) : start + 800)
}

beforeAll(async () => {
  services = createTestServices()
  await seedDemoBorough(services)
  const runId = await services.runs.startRun('full', { trigger: 'test refresh' })
  const computed = await services.risk.stageAll(runId, await services.risk.activeRuleSet(), services.clock.today())
  await services.risk.publishFull(runId, computed)
  dpsId = (await services.dpsRepository.findDpsByName(DEMO_DPS_NAME))!.id
  app = appWithAllRoutes(services)
  assessor = await signIn(app, services, 'assessor')
  compliance = await signIn(app, services, 'compliance')
}, 60_000)

describe('DPS memberships on the service page', () => {
  it('shows every role the lot, membership, eligibility now and each failing gate', async () => {
    const { rows } = await services.dashboard.list({ limit: 500 })
    const withMemberships = await Promise.all(
      rows.map(async (row) => ({
        ref: row.ref,
        memberships: await services.dpsRepository.membershipsForService(row.id),
      })),
    )
    const ineligible = withMemberships.find(({ memberships }) =>
      memberships.some((m) => m.eligibility && !m.eligibility.eligible && m.eligibility.failingGates.length > 0),
    )!
    const failing = ineligible.memberships.find((m) => m.eligibility && !m.eligibility.eligible)!
    const eligible = withMemberships.find(
      ({ memberships }) =>
        memberships.length === 1 && memberships[0]!.status === 'admitted' && memberships[0]!.eligibility?.eligible,
    )!
    for (const who of [assessor, compliance]) {
      const page = await who.agent.get(`/services/${ineligible.ref}`)
      expect(page.status).toBe(200)
      const section = membershipsSection(page.text)
      expect(section).toContain(DEMO_DPS_NAME)
      expect(section).toContain(failing.lotName)
      expect(section).toContain('Not eligible')
      for (const gate of failing.eligibility!.failingGates) {
        expect(section).toContain(`<li>${gate.reason.replaceAll("'", '&#x27;')}</li>`)
      }
      expect(section).toContain(`href="/dps/${dpsId}"`)
    }
    const good = membershipsSection((await assessor.agent.get(`/services/${eligible.ref}`)).text)
    expect(good).toContain(eligible.memberships[0]!.lotName)
    expect(good).toContain('>Eligible<')
    expect(good).toContain('>Admitted<')
    expect(good).not.toContain('Failing gates')
  })

  it('says so when a service is on no DPS', async () => {
    const { rows } = await services.dashboard.list({ limit: 500 })
    let outsider: string | undefined
    for (const row of rows) {
      if ((await services.dpsRepository.membershipsForService(row.id)).length === 0) {
        outsider = row.ref
        break
      }
    }
    const page = await assessor.agent.get(`/services/${outsider!}`)
    expect(page.text).toContain('data-testid="dps-memberships-none"')
    expect(page.text).toContain('Not a member of any DPS.')
  })
})
