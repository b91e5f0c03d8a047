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
