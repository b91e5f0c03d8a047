import type { Express } from 'express'
import request from 'supertest'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Services } from '../../src/services/container.js'
import { RefreshService, type SourceStep } from '../../src/services/refreshService.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

let services: Services
let app: Express
let admin: SignedInAgent
let fullRunId: number

/** Handlebars escapes `=` and `&` in attributes; compare links as a browser reads them. */
const links = (html: string) => html.replaceAll('&#x3D;', '=').replaceAll('&amp;', '&')

const steps: SourceStep[] = [
  {
    source: 'cqc',
    label: 'CQC',
    configured: true,
    run: async () => ({
      read: 300,
      matched: 5,
      changed: 2,
      unchanged: 3,
      rejected: 250,
      rejects: [
        { record: '1-404', reason: 'not found at source: CQC has no location with this ID (council service SVC-X)' },
        { record: '1-evil', field: 'name', reason: 'bad <script>alert(1)</script> value' },
        ...Array.from({ length: 248 }, (_, i) => ({ record: `row ${i + 3}`, reason: `reason ${i + 3}` })),
      ],
    }),
  },
  {
    source: 'fhrs',
    label: 'Food hygiene (FSA)',
    configured: true,
    run: async () => {
      throw new Error('FSA food hygiene API: GET /Establishments/1 failed after 3 attempts: HTTP 500')
    },
  },
  { source: 'companies_house', label: 'Companies House', configured: false, run: async () => Promise.reject() },
]

beforeAll(async () => {
  services = createTestServices()
  await seedSmallBorough(services)
  fullRunId = (await new RefreshService(services, steps).run({ trigger: 'nightly test' })).runId
  app = appWithAllRoutes(services)
  admin = await signIn(app, services, 'admin')
})

describe('GET /admin/runs', () => {
  it('is for admins only', async () => {
    const anonymous = await request(app).get('/admin/runs')
    expect(anonymous.status).toBe(302)
    expect(anonymous.headers.location).toBe('/sign-in?returnTo=%2Fadmin%2Fruns')
    for (const role of ['compliance', 'assessor'] as const) {
      const { agent } = await signIn(app, services, role)
      expect((await agent.get('/admin/runs')).status).toBe(403)
      expect((await agent.get(`/admin/runs/${fullRunId}`)).status).toBe(403)
    }
  })

  it('lists runs newest first with kind, trigger, status, services and per-source counts', async () => {
    const response = await admin.agent.get('/admin/runs')
    expect(response.status).toBe(200)
    const row = new RegExp(`<tr[^>]*data-run="${fullRunId}"[^>]*>([\\s\\S]*?)</tr>`).exec(response.text)?.[1] ?? ''
    const text = row.replace(/\s+/g, ' ')
    expect(text).toContain(`href="/admin/runs/${fullRunId}"`)
    // Started by hand (not the schedule): never labelled as the overnight run.
    expect(text).toContain('Refresh by hand')
    expect(text).toContain('Full refresh')
    expect(text).not.toContain('Overnight')
    expect(text).toContain('nightly test')
    expect(text).toContain('Completed')
    expect(text).toMatch(/CQC: <strong[^>]*>Succeeded<\/strong> read 300, matched 5, changed 2, rejected 250/)
    expect(text).toContain('Food hygiene (FSA): <strong class="govuk-tag govuk-tag--red">Failed</strong>')
    expect(text).toContain('HTTP 500')
    expect(text).toContain('Companies House: <strong class="govuk-tag govuk-tag--grey">Not configured</strong>')
    // The seed's entry run is listed too, below the full run.
    expect(response.text).toContain('Entry')
    expect(response.text.indexOf(`data-run="${fullRunId}"`)).toBeLessThan(response.text.indexOf(`data-run="1"`))
  })

  it('filters by kind and pages', async () => {
    for (let i = 0; i < 26; i++) await services.runs.startRun('entry', { trigger: `entry ${i}` })
    const entries = await admin.agent.get('/admin/runs?kind=entry')
    expect(entries.status).toBe(200)
    expect(entries.text).not.toContain(`data-run="${fullRunId}"`)
    expect(links(entries.text)).toContain('href="/admin/runs?kind=entry&page=2"')
    const second = await admin.agent.get('/admin/runs?kind=entry&page=2')
    expect(links(second.text)).toContain('href="/admin/runs?kind=entry&page=1"')
    expect(second.text.match(/data-run="/g)?.length).toBeGreaterThan(0)
  })

  it('answers bad filters with 400 naming the field', async () => {
    const response = await admin.agent.get('/admin/runs?kind=weekly&page=0')
    expect(response.status).toBe(400)
    expect(response.text).toContain('kind')
    expect(response.text).toContain('page')
  })
})

describe('GET /admin/runs/:id', () => {
  it("shows each source's counts and error", async () => {
    const response = await admin.agent.get(`/admin/runs/${fullRunId}`)
    expect(response.status).toBe(200)
    const cqc = /<tr[^>]*data-source="cqc"[^>]*>([\s\S]*?)<\/tr>/.exec(response.text)?.[1]?.replace(/\s+/g, ' ') ?? ''
    expect(cqc).toMatch(/>300<.*>5<.*>2<.*>3<.*250/)
    const fhrs = /<tr[^>]*data-source="fhrs"[^>]*>([\s\S]*?)<\/tr>/.exec(response.text)?.[1] ?? ''
    expect(fhrs).toContain('Failed')
    expect(fhrs).toContain('GET /Establishments/1 failed after 3 attempts: HTTP 500')
  })

  it('lists rejected rows with reasons, escaped, 100 a page', async () => {
    const first = await admin.agent.get(`/admin/runs/${fullRunId}`)
    expect(first.text).toContain('Showing 1 to 100 of 250')
    expect(first.text).toContain('not found at source: CQC has no location with this ID (council service SVC-X)')
    expect(first.text).toContain('bad &lt;script&gt;alert(1)&lt;/script&gt; value')
    expect(first.text).not.toContain('<script>alert(1)')
    expect(first.text).toContain('>reason 100<')
    expect(first.text).not.toContain('>reason 101<')
    expect(links(first.text)).toContain(`href="/admin/runs/${fullRunId}?page=2#rejects"`)

    const third = await admin.agent.get(`/admin/runs/${fullRunId}?page=3`)
    expect(third.text).toContain('Showing 201 to 250 of 250')
    expect(third.text).toContain('>reason 250<')
    expect(third.text).not.toContain('>reason 200<')
  })

  it('filters rejected rows by source', async () => {
    const response = await admin.agent.get(`/admin/runs/${fullRunId}?source=fhrs`)
    expect(response.status).toBe(200)
    expect(response.text).toContain('No rejected rows.')
    const cqc = await admin.agent.get(`/admin/runs/${fullRunId}?source=cqc&page=2`)
    expect(cqc.text).toContain('Showing 101 to 200 of 250')
  })

  it('gives 404 for an unknown run and 400 for a bad query', async () => {
    expect((await admin.agent.get('/admin/runs/99999')).status).toBe(404)
    expect((await admin.agent.get('/admin/runs/abc')).status).toBe(404)
    expect((await admin.agent.get(`/admin/runs/${fullRunId}?source=<x>`)).status).toBe(400)
  })
})

describe('a night that judged only the services due', () => {
  it('says how many services it judged of how many, and that the others stand', async () => {
    const own = createTestServices()
    await seedSmallBorough(own)
    await new RefreshService(own, []).run({ trigger: 'first night' })
    const second = await new RefreshService(own, []).run({ trigger: 'second night' })
    const total = await own.serviceRepository.count()
    expect(second).toMatchObject({ servicesComputed: 0, servicesTotal: total })
    const ownAdmin = await signIn(appWithAllRoutes(own), own, 'admin')
    const page = (await ownAdmin.agent.get(`/admin/runs/${second.runId}`)).text.replace(/\s+/g, ' ')
    expect(page).toContain(`0 of ${total}: the other ${total} had nothing new and no date in their judgement reached`)
    const list = (await ownAdmin.agent.get('/admin/runs')).text.replace(/\s+/g, ' ')
    expect(list).toMatch(
      new RegExp(`data-run="${second.runId}"[\\s\\S]*?0<span class="govuk-body-s"> of ${total}</span>`),
    )
    const api = await ownAdmin.agent.get('/api/v1/refresh-runs')
    expect(api.status).toBe(200)
    const run = (api.body as { runs: Array<{ id: number; servicesTotal: number | null }> }).runs.find(
      (r) => r.id === second.runId,
    )
    expect(run?.servicesTotal).toBe(total)
  })
})
