import type { Express, Router } from 'express'
import { z } from 'zod'
import { beforeAll, describe, expect, it } from 'vitest'
import { apiRouters } from '../../src/routes/index.js'
import type { Services } from '../../src/services/container.js'
import { seedDemoBorough } from '../../src/services/demoSeedService.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'

type Json = Record<string, unknown>

let services: Services
let app: Express
let assessor: SignedInAgent
let compliance: SignedInAgent
let document: Json

beforeAll(async () => {
  services = createTestServices()
  await seedDemoBorough(services)
  const rules = await services.risk.activeRuleSet()
  const runId = await services.runs.startRun('full', { trigger: 'test' })
  await services.risk.publishFull(runId, await services.risk.stageAll(runId, rules, services.clock.today()))
  app = appWithAllRoutes(services)
  assessor = await signIn(app, services, 'assessor')
  compliance = await signIn(app, services, 'compliance')
  const response = await assessor.agent.get('/api/v1/openapi.json')
  expect(response.status).toBe(200)
  document = response.body as Json
}, 60_000)

/** The document's component schemas as `$defs`, so zod's fromJSONSchema can follow the references. */
function validatorFor(schema: Json): z.ZodType {
  const components = (document.components as { schemas: Json }).schemas
  const rewrite = (value: unknown) =>
    JSON.parse(JSON.stringify(value).replaceAll('#/components/schemas/', '#/$defs/')) as Json
  return z.fromJSONSchema({ ...rewrite(schema), $defs: rewrite(components) } as never)
}

function responseSchema(path: string, method: string, status: number): Json {
  const operation = (document.paths as Record<string, Record<string, Json>>)[path]?.[method]
  const response = (operation?.responses as Record<string, Json> | undefined)?.[String(status)]
  const schema = (response?.content as Record<string, { schema: Json }> | undefined)?.['application/json']?.schema
  if (!schema) throw new Error(`The document has no ${status} JSON answer for ${method.toUpperCase()} ${path}`)
  return schema
}

function requestSchema(path: string, method: string): Json {
  const operation = (document.paths as Record<string, Record<string, Json>>)[path]?.[method]
  const body = operation?.requestBody as { content?: Record<string, { schema: Json }> } | undefined
  const schema = body?.content?.['application/json']?.schema
  if (!schema) throw new Error(`The document has no JSON body for ${method.toUpperCase()} ${path}`)
  return schema
}

/** The component a `$ref` names, as the document has it. */
function component(schema: Json): Json {
  const name = String(schema.$ref).replace('#/components/schemas/', '')
  return (document.components as { schemas: Record<string, Json> }).schemas[name] as Json
}

/** Every documented answer a test checked against a real one: `get /market 200`. */
const checked = new Set<string>()

function expectConforms(path: string, method: string, status: number, body: unknown): void {
  checked.add(`${method} ${path} ${status}`)
  const result = validatorFor(responseSchema(path, method, status)).safeParse(body)
  if (!result.success)
    throw new Error(`${method.toUpperCase()} ${path} ${status}: ${JSON.stringify(result.error.issues.slice(0, 5))}`)
}

describe('GET /api/v1/openapi.json', () => {
  it('is an OpenAPI 3.1 document', () => {
    expect(document.openapi).toBe('3.1.0')
    expect(document.servers).toEqual([{ url: '/api/v1' }])
  })

  it('documents every route the API routers serve', () => {
    const documented = new Set(Object.keys(document.paths as Json))
    const served: string[] = []
    for (const router of apiRouters(services) as Array<
      Router & { stack: Array<{ route?: { path: string; methods: Json } }> }
    >) {
      for (const layer of router.stack) {
        if (!layer.route) continue
        for (const method of Object.keys(layer.route.methods)) {
          const path = layer.route.path.replace(/:(\w+)/g, '{$1}')
          served.push(`${method} ${path}`)
          expect(documented.has(path), `${path} is not in the document`).toBe(true)
          expect((document.paths as Record<string, Json>)[path]?.[method], `${method} ${path}`).toBeDefined()
        }
      }
    }
    expect(served).toEqual(
      expect.arrayContaining(['get /market', 'get /services', 'get /dps', 'post /dps/{id}/awards']),
    )
  })
})

describe('real answers conform to the document', () => {
  it('GET /services and /services/{ref}', async () => {
    const list = await assessor.agent.get('/api/v1/services?rag=red&pageSize=5')
    expectConforms('/services', 'get', 200, list.body)
    const ref = list.body.services[0].ref as string
    const one = await assessor.agent.get(`/api/v1/services/${ref}`)
    expectConforms('/services/{ref}', 'get', 200, one.body)
    const missing = await assessor.agent.get('/api/v1/services/NO-SUCH')
    expect(missing.status).toBe(404)
    expectConforms('/services/{ref}', 'get', 404, missing.body)
    const bad = await assessor.agent.get('/api/v1/services?rag=purple')
    expectConforms('/services', 'get', 400, bad.body)
  })

  it('GET /refresh-runs', async () => {
    const response = await assessor.agent.get('/api/v1/refresh-runs')
    expect(response.body.runs.length).toBeGreaterThan(0)
    expectConforms('/refresh-runs', 'get', 200, response.body)
  })

  it('GET /changes', async () => {
    const response = await assessor.agent.get('/api/v1/changes?since=2020-01-01')
    expect(response.body.changes.length).toBeGreaterThan(0)
    expectConforms('/changes', 'get', 200, response.body)
    const bad = await assessor.agent.get('/api/v1/changes?since=yesterday')
    expect(bad.status).toBe(400)
    expectConforms('/changes', 'get', 400, bad.body)
  })

  it('GET /dps, /dps/{id}, /dps/{id}/referral and /dps/eligibility-events', async () => {
    const list = await assessor.agent.get('/api/v1/dps')
    expectConforms('/dps', 'get', 200, list.body)
    const id = list.body.dps[0].id as number
    expectConforms('/dps/{id}', 'get', 200, (await assessor.agent.get(`/api/v1/dps/${id}`)).body)
    const referral = await assessor.agent.get(`/api/v1/dps/${id}/referral?area=North&type=home_care`)
    expect(referral.status).toBe(200)
    expectConforms('/dps/{id}/referral', 'get', 200, referral.body)
    expectConforms(
      '/dps/eligibility-events',
      'get',
      200,
      (await assessor.agent.get('/api/v1/dps/eligibility-events')).body,
    )
  })

  it('POST /services/{ref}/actions, and the actions in GET /services/{ref}', async () => {
    const csrf = await compliance.csrf('/')
    const ref = (await assessor.agent.get('/api/v1/services?rag=green&pageSize=1')).body.services[0].ref as string
    const opened = await compliance.agent
      .post(`/api/v1/services/${ref}/actions`)
      .set('x-csrf-token', csrf)
      .send({ kind: 'default_notice', openedOn: '2026-11-01', reference: 'DN-OPENAPI-1', notes: 'n' })
    expect(opened.status).toBe(201)
    expectConforms('/services/{ref}/actions', 'post', 201, opened.body)
    const invalid = await compliance.agent
      .post(`/api/v1/services/${ref}/actions`)
      .set('x-csrf-token', csrf)
      .send({ kind: 'nonsense' })
    expect(invalid.status).toBe(400)
    expectConforms('/services/{ref}/actions', 'post', 400, invalid.body)
    const missing = await compliance.agent
      .post('/api/v1/services/NO-SUCH-SERVICE/actions')
      .set('x-csrf-token', csrf)
      .send({ kind: 'action_plan', openedOn: '2026-11-01' })
    expect(missing.status).toBe(404)
    expectConforms('/services/{ref}/actions', 'post', 404, missing.body)
    const refused = await assessor.agent
      .post(`/api/v1/services/${ref}/actions`)
      .set('x-csrf-token', await assessor.csrf('/'))
      .send({ kind: 'action_plan', openedOn: '2026-11-01' })
    expect(refused.status).toBe(403)
    expectConforms('/services/{ref}/actions', 'post', 403, refused.body)
    const service = await compliance.agent.get(`/api/v1/services/${ref}`)
    expect(service.body.actions).toHaveLength(1)
    expectConforms('/services/{ref}', 'get', 200, service.body)
  })

  it('POST /services/{ref}/intelligence and /dps/{id}/awards', async () => {
    const csrf = await compliance.csrf('/')
    const ref = (await assessor.agent.get('/api/v1/services?rag=green&pageSize=1')).body.services[0].ref as string
    const recorded = await compliance.agent
      .post(`/api/v1/services/${ref}/intelligence`)
      .set('x-csrf-token', csrf)
      .send({ kind: 'contract_concern', date: '2026-11-01', outcome: 'substantiated', reference: 'CC-OPENAPI-1' })
    expect(recorded.status).toBe(201)
    expectConforms('/services/{ref}/intelligence', 'post', 201, recorded.body)
    const invalid = await compliance.agent
      .post(`/api/v1/services/${ref}/intelligence`)
      .set('x-csrf-token', csrf)
      .send({ kind: 'nonsense', date: 'tomorrow' })
    expect(invalid.status).toBe(400)
    expectConforms('/services/{ref}/intelligence', 'post', 400, invalid.body)

    const dps = (await assessor.agent.get('/api/v1/dps')).body.dps[0]
    const lot = dps.lots.find((l: { members: Array<{ eligible: boolean }> }) => l.members.some((m) => m.eligible))
    const member = lot.members.find((m: { eligible: boolean }) => m.eligible)
    const award = await compliance.agent.post(`/api/v1/dps/${dps.id}/awards`).set('x-csrf-token', csrf).send({
      serviceRef: member.ref,
      lotId: lot.id,
      weeklyHours: 10,
      startDate: '2026-12-01',
      reference: 'PKG-OPENAPI-1',
    })
    expect(award.status).toBe(201)
    expectConforms('/dps/{id}/awards', 'post', 201, award.body)
  })

  it('GET /market, /providers and /providers/{id}', async () => {
    const market = await assessor.agent.get('/api/v1/market')
    expectConforms('/market', 'get', 200, market.body)
    const bad = await assessor.agent.get('/api/v1/market?from=nope')
    expectConforms('/market', 'get', 400, bad.body)
    const providers = await assessor.agent.get('/api/v1/providers')
    expectConforms('/providers', 'get', 200, providers.body)
    const id = providers.body.providers[0].providerId as number
    expectConforms('/providers/{id}', 'get', 200, (await assessor.agent.get(`/api/v1/providers/${id}`)).body)
  })

  it('401 answers conform too', async () => {
    const { default: request } = await import('supertest')
    const response = await request(app).get('/api/v1/market')
    expect(response.status).toBe(401)
    expectConforms('/market', 'get', 401, response.body)
  })
})

describe('the document itself', () => {
  it('resolves every $ref, names each operation once and declares every path parameter', () => {
    const components = (document.components as { schemas: Json }).schemas
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map(
      (m) => m[1] as string,
    )
    expect(refs.length).toBeGreaterThan(20)
    for (const name of refs) expect(components[name], `$ref ${name}`).toBeDefined()
    const operationIds: string[] = []
    for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, Json>>)) {
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])
      for (const [method, operation] of Object.entries(item)) {
        operationIds.push(operation.operationId as string)
        const declared = ((operation.parameters ?? []) as Array<{ name: string; in: string; required?: boolean }>)
          .filter((p) => p.in === 'path')
          .map((p) => {
            expect(p.required, `${method} ${path} ${p.name}`).toBe(true)
            return p.name
          })
        expect(declared.sort(), `${method} ${path}`).toEqual([...templated].sort())
        const responses = operation.responses as Record<string, Json>
        expect(Object.keys(responses).length, `${method} ${path}`).toBeGreaterThan(0)
        for (const [status, response] of Object.entries(responses)) {
          expect(response.description, `${method} ${path} ${status}`).toBeTruthy()
          // Each answer's schema converts into a validator (an unsupported keyword or a bad $ref throws here).
          expect(() => validatorFor(responseSchema(path, method, Number(status)))).not.toThrow()
        }
      }
    }
    expect(new Set(operationIds).size).toBe(operationIds.length)
    expect(operationIds.every((id) => typeof id === 'string' && id.length > 0)).toBe(true)
  })

  it('documents only routes that exist', () => {
    const served = new Set<string>()
    for (const router of apiRouters(services) as Array<
      Router & { stack: Array<{ route?: { path: string; methods: Json } }> }
    >) {
      for (const layer of router.stack) {
        if (!layer.route) continue
        for (const method of Object.keys(layer.route.methods)) {
          served.add(`${method} ${layer.route.path.replace(/:(\w+)/g, '{$1}')}`)
        }
      }
    }
    for (const [path, item] of Object.entries(document.paths as Record<string, Json>)) {
      for (const method of Object.keys(item)) expect(served.has(`${method} ${path}`), `${method} ${path}`).toBe(true)
    }
  })
})

describe('the rarer answers conform too', () => {
  it('401 for every operation without a session or token', async () => {
    const { default: request } = await import('supertest')
    for (const [path, item] of Object.entries(document.paths as Record<string, Json>)) {
      const url = `/api/v1${path.replace('{ref}', 'SVC-NONE').replace('{id}', '1')}`
      for (const method of Object.keys(item)) {
        // A write without a session meets the CSRF check first (403); with an unknown token it reaches sign-in.
        const response =
          method === 'post'
            ? await request(app).post(url).set('Authorization', 'Bearer not-a-token').send({})
            : await request(app).get(url)
        expect(response.status, `${method} ${url}`).toBe(401)
        expectConforms(path, method, 401, response.body)
      }
    }
  })

  it('403 when an assessor writes, or a session writes without its CSRF token', async () => {
    const csrf = await assessor.csrf('/')
    const ref = (await assessor.agent.get('/api/v1/services?pageSize=1')).body.services[0].ref as string
    const intelligence = await assessor.agent
      .post(`/api/v1/services/${ref}/intelligence`)
      .set('x-csrf-token', csrf)
      .send({ kind: 'contract_concern', date: '2026-11-01', outcome: 'open' })
    expect(intelligence.status).toBe(403)
    expectConforms('/services/{ref}/intelligence', 'post', 403, intelligence.body)
    const id = (await assessor.agent.get('/api/v1/dps')).body.dps[0].id as number
    const award = await compliance.agent.post(`/api/v1/dps/${id}/awards`).send({})
    expect(award.status).toBe(403)
    expectConforms('/dps/{id}/awards', 'post', 403, award.body)
  })

  it('400, 404 and 409 answers', async () => {
    const csrf = await compliance.csrf('/')
    const dps = (await assessor.agent.get('/api/v1/dps')).body.dps[0]
    const answers: Array<[string, string, number, () => Promise<{ status: number; body: unknown }>]> = [
      ['/dps/eligibility-events', 'get', 400, () => assessor.agent.get('/api/v1/dps/eligibility-events?sinceRun=-1')],
      ['/dps/{id}', 'get', 404, () => assessor.agent.get('/api/v1/dps/999999')],
      ['/dps/{id}/referral', 'get', 400, () => assessor.agent.get(`/api/v1/dps/${dps.id}/referral?type=purple`)],
      [
        '/dps/{id}/referral',
        'get',
        404,
        () => assessor.agent.get('/api/v1/dps/999999/referral?area=North&type=home_care'),
      ],
      ['/providers/{id}', 'get', 400, () => assessor.agent.get('/api/v1/providers/x')],
      ['/providers/{id}', 'get', 404, () => assessor.agent.get('/api/v1/providers/999999')],
      [
        '/services/{ref}/intelligence',
        'post',
        404,
        () =>
          compliance.agent
            .post('/api/v1/services/NO-SUCH/intelligence')
            .set('x-csrf-token', csrf)
            .send({ kind: 'embargo', date: '2026-11-01' }),
      ],
      [
        '/dps/{id}/awards',
        'post',
        400,
        () => compliance.agent.post(`/api/v1/dps/${dps.id}/awards`).set('x-csrf-token', csrf).send({ lotId: 'x' }),
      ],
      [
        '/dps/{id}/awards',
        'post',
        404,
        () =>
          compliance.agent.post('/api/v1/dps/999999/awards').set('x-csrf-token', csrf).send({
            serviceRef: 'NO-SUCH',
            lotId: 1,
            weeklyHours: 10,
            startDate: '2026-12-01',
            reference: 'PKG-OPENAPI-404',
          }),
      ],
    ]
    type Member = { ref: string; eligible: boolean }
    const lot = (dps.lots as Array<{ id: number; members: Member[] }>).find((l) => l.members.some((m) => !m.eligible))
    const ineligible = lot?.members.find((m) => !m.eligible)
    expect(ineligible, 'an ineligible member in the demo DPS').toBeDefined()
    answers.push([
      '/dps/{id}/awards',
      'post',
      409,
      () =>
        compliance.agent.post(`/api/v1/dps/${dps.id}/awards`).set('x-csrf-token', csrf).send({
          serviceRef: ineligible?.ref,
          lotId: lot?.id,
          weeklyHours: 10,
          startDate: '2026-12-01',
          reference: 'PKG-OPENAPI-409',
        }),
    ])
    for (const [path, method, status, call] of answers) {
      const response = await call()
      expect(response.status, `${method} ${path}`).toBe(status)
      expectConforms(path, method, status, response.body)
    }
    const self = await assessor.agent.get('/api/v1/openapi.json')
    expectConforms('/openapi.json', 'get', 200, self.body)
  })
})

describe('the validator can fail', () => {
  it('rejects an answer missing a required field or with a wrong type', async () => {
    const one = (await assessor.agent.get('/api/v1/services?pageSize=1')).body.services[0] as Json
    const validate = validatorFor(responseSchema('/services/{ref}', 'get', 200))
    expect(validate.safeParse(one).success).toBe(true)
    const { rag: _rag, ...withoutRag } = one
    expect(validate.safeParse(withoutRag).success).toBe(false)
    expect(validate.safeParse({ ...one, rag: 'purple' }).success).toBe(false)
    expect(validate.safeParse({ ...one, indicators: [] }).success).toBe(false)
    const indicators = one.indicators as Json[]
    const deep = { ...one, indicators: [{ ...indicators[0], level: 'purple' }, ...indicators.slice(1)] }
    expect(validate.safeParse(deep).success).toBe(false)
  })

  it('follows references into nested schemas', async () => {
    const market = (await assessor.agent.get('/api/v1/market')).body as Json
    const validate = validatorFor(responseSchema('/market', 'get', 200))
    const broken = JSON.parse(JSON.stringify(market)) as {
      overall: { mixes: { cqc: { rows: Array<{ from: Json }> } } }
    }
    ;(broken.overall.mixes.cqc.rows[0] as { from: Json }).from = { count: 'many', percent: 1 }
    expect(validate.safeParse(market).success).toBe(true)
    expect(validate.safeParse(broken).success).toBe(false)
  })
})

describe('the request bodies are the ones the routes read', () => {
  const writes: Array<[string, Json]> = [
    [
      '/services/{ref}/intelligence',
      { kind: 'contract_concern', date: '2026-11-01', outcome: 'substantiated', reference: 'CC-OPENAPI-2' },
    ],
    ['/services/{ref}/actions', { kind: 'action_plan', openedOn: '2026-11-01', reference: 'AP-OPENAPI-2' }],
  ]

  it('a body the route accepts conforms to its documented schema, and one missing a required field does not', () => {
    for (const [path, body] of writes) {
      const validate = validatorFor(requestSchema(path, 'post'))
      expect(validate.safeParse(body).success, path).toBe(true)
      const required = (component(requestSchema(path, 'post')).required ?? []) as string[]
      expect(required.length, path).toBeGreaterThan(0)
      for (const field of required) {
        const { [field]: _left, ...without } = body
        expect(validate.safeParse(without).success, `${path} without ${field}`).toBe(false)
      }
    }
  })

  it('a closed body documents exactly the fields its route takes', async () => {
    const csrf = await compliance.csrf('/')
    const ref = (await assessor.agent.get('/api/v1/services?pageSize=1')).body.services[0].ref as string
    for (const [path] of writes) {
      const schema = component(requestSchema(path, 'post'))
      expect(schema.additionalProperties, path).toBe(false)
      const url = `/api/v1${path.replace('{ref}', ref)}`
      for (const field of Object.keys(schema.properties as Json)) {
        const response = await compliance.agent
          .post(url)
          .set('x-csrf-token', csrf)
          .send({ [field]: 'x' })
        const refused = (response.body.details as Array<{ field: string; message: string }>).filter(
          (detail) => detail.field === field && detail.message.startsWith('is not a field'),
        )
        expect(refused, `${path}: ${field} is documented but refused`).toEqual([])
      }
      const unknown = await compliance.agent.post(url).set('x-csrf-token', csrf).send({ colour: 'x' })
      expect(unknown.status, path).toBe(400)
      expect(unknown.body.details[0].field, path).toBe('colour')
      // The refusal names the fields the route takes: the documented ones, no more and no fewer.
      const taken = String(unknown.body.details[0].message)
        .replace(/^.*: use /, '')
        .split(', ')
      expect(taken.sort(), path).toEqual(Object.keys(schema.properties as Json).sort())
    }
  })

  it('the award body documents what the route reads: each field it names in a 400 is in the schema', async () => {
    const csrf = await compliance.csrf('/')
    const id = (await assessor.agent.get('/api/v1/dps')).body.dps[0].id as number
    const response = await compliance.agent.post(`/api/v1/dps/${id}/awards`).set('x-csrf-token', csrf).send({})
    expect(response.status).toBe(400)
    const schema = component(requestSchema('/dps/{id}/awards', 'post'))
    const named = (response.body.details as Array<{ field: string }>).map((detail) => detail.field)
    expect(named.length).toBeGreaterThan(0)
    expect([...named].sort()).toEqual([...(schema.required as string[])].sort())
    for (const field of named) expect(Object.keys(schema.properties as Json), field).toContain(field)
  })
})

describe('coverage', () => {
  it('checked every documented answer against a real one', () => {
    const documented: string[] = []
    for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, Json>>)) {
      for (const [method, operation] of Object.entries(item)) {
        for (const status of Object.keys(operation.responses as Json)) documented.push(`${method} ${path} ${status}`)
      }
    }
    expect(documented.filter((answer) => !checked.has(answer))).toEqual([])
  })
})
