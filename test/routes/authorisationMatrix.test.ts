import request from 'supertest'
import type { Response } from 'supertest'
import { beforeAll, describe, expect, it } from 'vitest'
import { ROLES, type Role } from '../../src/auth/roles.js'
import { ApiTokensRepository } from '../../src/data/apiTokens.js'
import { appWithAllRoutes, createTestServices, csrfTokenFrom, signIn } from '../helpers/appHarness.js'
import {
  concretePath,
  expectationFor,
  listMountedMiddleware,
  listRegisteredRoutes,
  MOUNTED_MIDDLEWARE,
  ROUTE_TABLE,
  type RouteExpectation,
} from '../helpers/routeTable.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

/**
 * Issue 4: every registered route, read from the app's router, requested as an anonymous visitor and as each role,
 * against the expectations in test/helpers/routeTable.ts. Writes carry a valid CSRF token, so the role check is
 * what decides.
 */

type Visitor = 'anonymous' | Role
const VISITORS: readonly Visitor[] = ['anonymous', ...ROLES]

const services = createTestServices()
const app = appWithAllRoutes(services)
const registered = listRegisteredRoutes(app)

interface Session {
  agent: ReturnType<typeof request.agent>
  csrf: string
}

const sessions = new Map<Visitor, Session>()

async function anonymousSession(): Promise<Session> {
  const agent = request.agent(app)
  return { agent, csrf: csrfTokenFrom((await agent.get('/sign-in')).text) }
}

async function newSession(visitor: Visitor): Promise<Session> {
  if (visitor === 'anonymous') return anonymousSession()
  const signedIn = await signIn(app, services, visitor)
  return { agent: signedIn.agent, csrf: await signedIn.csrf('/') }
}

function isApi(path: string): boolean {
  return path.startsWith('/api/')
}

async function send(session: Session, expectation: RouteExpectation): Promise<Response> {
  const url = concretePath(expectation)
  const method = expectation.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete'
  const pending = session.agent[method](url).redirects(0)
  if (method === 'get') return pending
  if (isApi(url)) return pending.set('x-csrf-token', session.csrf).send({})
  return pending.type('form').send({ _csrf: session.csrf })
}

function refusalOf(response: Response): string | null {
  if (response.status === 401 || response.status === 403) return `${response.status}`
  const location = response.headers.location as string | undefined
  if (
    response.status >= 300 &&
    response.status < 400 &&
    location?.startsWith('/sign-in') &&
    !location.includes('signedOut')
  )
    return `redirect to ${location}`
  return null
}

function describeResponse(response: Response): string {
  const location = response.headers.location ? ` to ${response.headers.location}` : ''
  return `${response.status}${location}`
}

function mayUse(expectation: RouteExpectation, visitor: Visitor): boolean {
  if (expectation.access === 'public') return true
  return visitor !== 'anonymous' && expectation.access.includes(visitor)
}

const tokens = new Map<Role, string>()

beforeAll(async () => {
  await seedSmallBorough(services)
  for (const visitor of VISITORS) sessions.set(visitor, await newSession(visitor))
  const repository = new ApiTokensRepository(services.db)
  for (const role of ROLES) tokens.set(role, (await repository.create({ name: `matrix ${role}`, role }, 'test')).secret)
}, 60_000)

describe('the route table', () => {
  it('finds the routes in the router', () => {
    expect(registered.length).toBeGreaterThan(10)
    expect(registered).toContainEqual({ method: 'GET', path: '/services/:ref' })
    expect(registered).toContainEqual({ method: 'GET', path: '/api/v1/services' })
  })

  it('has expected roles for every registered route', () => {
    const missing = registered.filter((route) => !expectationFor(route)).map((r) => `${r.method} ${r.path}`)
    expect(
      missing,
      `new route(s) with no expected roles: ${missing.join(', ')}. Add each to ROUTE_TABLE in test/helpers/routeTable.ts`,
    ).toEqual([])
  })

  it('knows every handler mounted on a path with use(), which is not a route', () => {
    expect(
      listMountedMiddleware(app),
      'middleware mounted on a path is not in the route list: make it a route (get, post...) so the matrix checks it, or add it to MOUNTED_MIDDLEWARE in test/helpers/routeTable.ts',
    ).toEqual([...MOUNTED_MIDDLEWARE].sort())
  })

  it('lists each route once', () => {
    const keys = ROUTE_TABLE.map((entry) => `${entry.method} ${entry.path}`)
    expect(keys.filter((key, i) => keys.indexOf(key) !== i)).toEqual([])
  })
})

describe.each(registered.map((route) => [`${route.method} ${route.path}`, route] as const))('%s', (name, route) => {
  const expectation = expectationFor(route)
  if (!expectation) {
    it('has expected roles', () => {
      throw new Error(`new route ${name} has no expected roles: add it to ROUTE_TABLE in test/helpers/routeTable.ts`)
    })
    return
  }

  it.each(VISITORS)('as %s', async (visitor) => {
    const session = expectation.endsSession ? await newSession(visitor) : sessions.get(visitor)!
    const response = await send(session, expectation)
    const what = `${expectation.method} ${concretePath(expectation)} as ${visitor} gave ${describeResponse(response)}`

    if (mayUse(expectation, visitor)) {
      expect(refusalOf(response), `${what}: expected to be allowed`).toBeNull()
      expect(response.status, `${what}: a server error`).toBeLessThan(500)
    } else if (visitor === 'anonymous') {
      if (isApi(expectation.path)) expect(response.status, what).toBe(401)
      else {
        expect(response.status, what).toBe(302)
        expect(response.headers.location, what).toMatch(/^\/sign-in(\?|$)/)
      }
    } else {
      expect(response.status, `${what}: expected 403`).toBe(403)
    }
  })
})

/** The JSON API again with an API token of each role (SPEC §9: same roles as the pages), and no CSRF token. */
describe.each(
  registered.filter((route) => isApi(route.path)).map((route) => [`${route.method} ${route.path}`, route] as const),
)('%s with an API token', (_name, route) => {
  const expectation = expectationFor(route)
  if (!expectation) return
  it.each(ROLES)('of the role %s', async (role) => {
    const url = concretePath(expectation)
    const method = expectation.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete'
    const pending = request(app)
      [method](url)
      .set('Authorization', `Bearer ${tokens.get(role)!}`)
    const response = method === 'get' ? await pending : await pending.send({})
    const what = `${expectation.method} ${url} with a ${role} token gave ${response.status}`
    if (mayUse(expectation, role)) {
      expect(refusalOf(response), `${what}: expected to be allowed`).toBeNull()
      expect(response.status, `${what}: a server error`).toBeLessThan(500)
    } else {
      expect(response.status, what).toBe(403)
    }
  })
})

it('has no entry for a route that is not registered (a typo, or a route removed)', () => {
  const known = new Set(registered.map((route) => `${route.method} ${route.path}`))
  const stale = ROUTE_TABLE.map((entry) => `${entry.method} ${entry.path}`).filter((key) => !known.has(key))
  expect(stale, `ROUTE_TABLE entries matching no registered route: ${stale.join(', ')}`).toEqual([])
})
