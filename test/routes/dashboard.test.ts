import { beforeAll, describe, expect, it } from 'vitest'
import request from 'supertest'
import type { Express } from 'express'
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

describe('GET /', () => {
  it('sends anonymous visitors to sign in', async () => {
    const response = await request(app).get('/')
    expect(response.status).toBe(302)
    expect(response.headers.location).toBe('/sign-in?returnTo=%2F')
  })

  it('shows counts by RAG and every service', async () => {
    const response = await assessor.agent.get('/')
    expect(response.status).toBe(200)
    expect(response.headers['cache-control']).toContain('no-store')
    expect(response.text).toContain('Elm House')
    expect(response.text).toContain('Oak Homecare')
    expect(response.text).toContain('Ash Lodge')
    expect(response.text).toMatch(/app-rag-count__number">1<\/span>\s*<span class="app-rag-count__label">Red/)
  })

  it('escapes provider names', async () => {
    const response = await assessor.agent.get('/')
    expect(response.text).not.toContain('<script>alert(1)</script>')
    expect(response.text).toContain('Evil &lt;script&gt;alert(1)&lt;/script&gt; Care Ltd')
  })

  it('filters by RAG, area and name', async () => {
    const red = await assessor.agent.get('/?rag=red')
    expect(red.text).toContain('Elm House')
    expect(red.text).not.toContain('Ash Lodge')
    const north = await assessor.agent.get('/?area=North&type=care_home_nursing')
    expect(north.text).toContain('Ash Lodge')
    expect(north.text).not.toContain('Elm House')
    const search = await assessor.agent.get('/?q=oak')
    expect(search.text).toContain('Oak Homecare')
    expect(search.text).not.toContain('Ash Lodge')
  })

  it('sorts by a column', async () => {
    const response = await assessor.agent.get('/?sort=name&dir=asc')
    const ash = response.text.indexOf('Ash Lodge')
    const elm = response.text.indexOf('Elm House')
    const oak = response.text.indexOf('Oak Homecare')
    expect(ash).toBeLessThan(elm)
    expect(elm).toBeLessThan(oak)
  })

  it('answers bad filters with 400 and the field named', async () => {
    const response = await assessor.agent.get('/?rag=purple')
    expect(response.status).toBe(400)
    expect(response.text).toContain('rag')
  })
})

describe('GET /services/:ref', () => {
  it('shows the overall RAG, reasons and every indicator', async () => {
    const response = await assessor.agent.get('/services/SVC-RED')
    expect(response.status).toBe(200)
    expect(response.text).toContain('CQC rated Inadequate on 2026-03-14')
    expect(response.text.match(/data-indicator="/g)).toHaveLength(10)
    expect(response.text).toContain('id="rag-history-data"')
  })

  it('hides intelligence notes and references from assessors', async () => {
    const response = await assessor.agent.get('/services/SVC-AMBER')
    expect(response.status).toBe(200)
    expect(response.text).not.toContain('SG-SECRET-REF')
    expect(response.text).not.toContain('Confidential case note')
  })

  it('shows them to compliance officers', async () => {
    const compliance = await signIn(app, services, 'compliance')
    const response = await compliance.agent.get('/services/SVC-AMBER')
    expect(response.text).toContain('SG-SECRET-REF')
    expect(response.text).toContain('Confidential case note')
  })

  it('gives 404 for an unknown service', async () => {
    const response = await assessor.agent.get('/services/NOPE')
    expect(response.status).toBe(404)
  })
})

describe('DPS eligibility on the dashboard', () => {
  it('shows each service as eligible, not eligible or not on a DPS, and filters on it', async () => {
    const dps = await services.dpsRepository.createDps({
      name: 'Test DPS',
      gates: {},
      lots: [{ name: 'Tier 1', tier: 'tier1', zone: null, areas: [], serviceType: 'home_care' }],
    })
    const lot = dps.lots[0]!
    const all = await services.serviceRepository.listAll()
    for (const service of all.filter((s) => s.ref !== 'SVC-GREEN')) {
      await services.dpsRepository.admitMember({ lotId: lot.id, serviceId: service.id, on: '2026-01-01' })
    }
    await services.risk.recomputeServices(
      all.map((s) => s.id),
      'test',
    )
    const eligible = await assessor.agent.get('/?eligible=true')
    expect(eligible.text).toContain('Oak Homecare')
    expect(eligible.text).not.toContain('Elm House')
    const ineligible = await assessor.agent.get('/?eligible=false')
    expect(ineligible.text).toContain('Elm House')
    expect(ineligible.text).toContain('Ash Lodge')
    expect(ineligible.text).not.toContain('Oak Homecare')
    const api = await assessor.agent.get('/api/v1/services?eligible=true')
    expect(api.body.services.map((s: { ref: string }) => s.ref)).toEqual(['SVC-AMBER'])
    expect(api.body.services[0].eligible).toBe(true)
  })
})
