import { parse } from 'csv-parse/sync'
import type { Express } from 'express'
import request from 'supertest'
import { beforeAll, describe, expect, it } from 'vitest'
import type { NewObservation } from '../../src/domain/observation.js'
import type { Services } from '../../src/services/container.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'

let services: Services
let app: Express
let assessor: SignedInAgent
let clusterProviderId: number
let calmProviderId: number

/** Three Amber home care services of one provider in North (none Red), and a provider with one Amber service. */
beforeAll(async () => {
  services = createTestServices()
  const input = (ref: string, providerName: string, area: string) => ({
    ref,
    name: `${ref} Care`,
    providerName,
    cqcProviderId: providerName === 'Cluster Care Ltd' ? '1-900000001' : '1-900000002',
    serviceType: 'home_care' as const,
    area,
    capacity: 200,
    contractStatus: 'contracted' as const,
  })
  const upserted = await services.serviceRepository.upsertMany([
    input('CL-1', 'Cluster Care Ltd', 'North'),
    input('CL-2', 'Cluster Care Ltd', 'North'),
    input('CL-3', 'Cluster Care Ltd', 'North'),
    input('CL-4', 'Cluster Care Ltd', 'South'),
    input('CALM-1', 'Calm Care Ltd', 'North'),
  ])
  const observations: NewObservation[] = upserted.flatMap(({ id, ref }) => [
    {
      serviceId: id,
      indicator: 'cqc_rating',
      source: 'cqc_api',
      observedOn: '2025-01-10',
      value: 'good',
      detail: { keyQuestions: {} },
      naturalKey: `cqc:${ref}`,
    },
    ...(ref === 'CL-4'
      ? []
      : [
          {
            serviceId: id,
            indicator: 'safeguarding' as const,
            source: 'council_csv' as const,
            observedOn: '2026-09-01',
            value: 'decision',
            naturalKey: `council:sg:${ref}`,
          },
        ]),
  ])
  await services.observations.append(observations)
  await services.risk.recomputeServices(
    upserted.map((u) => u.id),
    'test',
  )
  const cluster = await services.serviceRepository.findByRef('CL-1')
  const calm = await services.serviceRepository.findByRef('CALM-1')
  clusterProviderId = cluster!.providerId
  calmProviderId = calm!.providerId
  app = appWithAllRoutes(services)
  assessor = await signIn(app, services, 'assessor')
})

describe('GET /providers/:id', () => {
  it('flags three Amber services in one area as a market risk, though none is Red', async () => {
    const response = await assessor.agent.get(`/providers/${clusterProviderId}`)
    expect(response.status).toBe(200)
    expect(response.text).toContain('Cluster Care Ltd')
    expect(response.text).toContain('data-testid="market-risk"')
    expect(response.text).toContain('3 services Amber or Red in North')
    for (const ref of ['CL-1', 'CL-2', 'CL-3', 'CL-4']) expect(response.text).toContain(`href="/services/${ref}"`)
  })

  it('does not flag a provider with one Amber service', async () => {
    const response = await assessor.agent.get(`/providers/${calmProviderId}`)
    expect(response.status).toBe(200)
    expect(response.text).not.toContain('data-testid="market-risk"')
  })

  it('is linked from the service page', async () => {
    const response = await assessor.agent.get('/services/CL-1')
    expect(response.text).toContain(`href="/providers/${clusterProviderId}"`)
  })

  it('404s for an unknown or malformed id', async () => {
    expect((await assessor.agent.get('/providers/999999')).status).toBe(404)
    expect((await assessor.agent.get('/providers/abc')).status).toBe(404)
  })
})

describe('GET /providers', () => {
  it('lists providers by concern, market risks first', async () => {
    const response = await assessor.agent.get('/providers')
    expect(response.status).toBe(200)
    const cluster = response.text.indexOf('Cluster Care Ltd')
    const calm = response.text.indexOf('Calm Care Ltd')
    expect(cluster).toBeGreaterThan(0)
    expect(calm).toBeGreaterThan(cluster)
  })
})

function providerNamesOnPage(html: string): string[] {
  const table = /data-testid="providers-table">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? ''
  return [...table.matchAll(/href="\/providers\/\d+">([^<]+)<\/a>/g)].map((m) => m[1] as string)
}

function csvRows(text: string): Array<Record<string, string>> {
  return parse(text, { bom: true, columns: true }) as Array<Record<string, string>>
}

describe('GET /providers filters and CSV', () => {
  it('filters to market risks, or to an area, and the CSV has the same rows in the same order', async () => {
    for (const [query, expected] of [
      ['', ['Cluster Care Ltd', 'Calm Care Ltd']],
      ['show=market_risk', ['Cluster Care Ltd']],
      ['show=all&area=South', ['Cluster Care Ltd']],
      ['show=all', ['Cluster Care Ltd', 'Calm Care Ltd']],
    ] as const) {
      const page = await assessor.agent.get(`/providers?${query}`)
      expect(page.status).toBe(200)
      expect(providerNamesOnPage(page.text)).toEqual(expected)
      const href = /href="(\/providers\.csv[^"]*)"/
        .exec(page.text)?.[1]
        ?.replaceAll('&amp;', '&')
        .replaceAll('&#x3D;', '=')
      expect(href).toBe(query ? `/providers.csv?${query}` : '/providers.csv')
      const csv = await assessor.agent.get(href as string)
      expect(csv.status).toBe(200)
      expect(csv.headers['content-type']).toContain('text/csv')
      expect(csv.headers['content-disposition']).toContain('attachment')
      expect(csvRows(csv.text).map((r) => r.Provider)).toEqual(expected)
    }
    const cluster = csvRows((await assessor.agent.get('/providers.csv?show=market_risk')).text)[0]
    expect(cluster).toMatchObject({ 'Market risk': 'yes', Services: '4', Amber: '3', Green: '1', Red: '0' })
    expect(cluster?.Flags).toContain('3 services Amber or Red in North')
  })

  it('answers bad filters with 400 naming the field', async () => {
    for (const path of ['/providers?show=everything', '/providers.csv?show=everything']) {
      const response = await assessor.agent.get(path)
      expect(response.status).toBe(400)
      expect(response.text).toContain('show: must be one of')
    }
    expect((await assessor.agent.get(`/providers?area=${'x'.repeat(101)}`)).status).toBe(400)
  })

  it('exports a provider’s services table as CSV, with the same rows as its page', async () => {
    const page = await assessor.agent.get(`/providers/${clusterProviderId}`)
    expect(page.text).toContain(`href="/providers/${clusterProviderId}/services.csv"`)
    const table = /data-testid="provider-services">([\s\S]*?)<\/table>/.exec(page.text)?.[1] ?? ''
    const pageRefs = [...table.matchAll(/href="\/services\/([^"]+)"/g)].map((m) => m[1])
    const csv = await assessor.agent.get(`/providers/${clusterProviderId}/services.csv`)
    expect(csv.status).toBe(200)
    const rows = csvRows(csv.text)
    expect(rows.map((r) => r.Reference)).toEqual(pageRefs)
    expect(rows.map((r) => r.RAG)).toEqual(['Amber', 'Amber', 'Amber', 'Green'])
    expect((await assessor.agent.get('/providers/999999/services.csv')).status).toBe(404)
  })

  it('needs a signed-in user', async () => {
    expect((await request(app).get('/providers.csv')).status).toBe(302)
  })
})

describe('provider API', () => {
  it('gives the roll-up and the services', async () => {
    const response = await assessor.agent.get(`/api/v1/providers/${clusterProviderId}`)
    expect(response.status).toBe(200)
    expect(response.body.rollup).toMatchObject({
      marketRisk: true,
      counts: { red: 0, amber: 3, green: 1 },
    })
    expect(response.body.services).toHaveLength(4)
    const list = await assessor.agent.get('/api/v1/providers')
    expect(list.body.providers[0].providerName).toBe('Cluster Care Ltd')
  })

  it('answers 404 and 400 as JSON', async () => {
    expect((await assessor.agent.get('/api/v1/providers/999999')).body).toMatchObject({ error: 'Provider not found' })
    expect((await assessor.agent.get('/api/v1/providers/x')).status).toBe(400)
    expect((await request(app).get('/api/v1/providers')).status).toBe(401)
  })
})
