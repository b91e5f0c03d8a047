import type { Express } from 'express'
import type { Role } from '../../src/auth/roles.js'

/**
 * The authorisation matrix (issue 4): every route the application registers, with the roles allowed to use it.
 * test/routes/authorisationMatrix.test.ts reads the routes from the app's router and fails for any route missing
 * here, so a new route cannot ship without a decision about who may use it.
 *
 * To add a route: one line with its method and its path exactly as registered (`/dps/:id/lots`), and `access`:
 * 'public' (anyone, signed in or not), or the roles allowed. Anonymous visitors are expected to be sent to sign in
 * (pages) or to get 401 (paths under /api); signed-in users without the role to get 403.
 */

export type Access = 'public' | readonly Role[]

export interface RouteExpectation {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** The path as registered, parameters and all. */
  path: string
  access: Access
  /** Values for the path's parameters, when the defaults in SAMPLE_PARAMS do not fit. */
  params?: Record<string, string>
  /** The request ends the session (sign-out): the test uses a session of its own for it. */
  endsSession?: boolean
}

const ALL: readonly Role[] = ['admin', 'compliance', 'assessor']
const STAFF: readonly Role[] = ['admin', 'compliance']
const ADMIN: readonly Role[] = ['admin']

/**
 * Path parameter values by name. A value that names nothing (999999) still proves the refusals, since every route
 * checks the role before it looks anything up; an allowed role then gets a 404, which the matrix accepts.
 */
export const SAMPLE_PARAMS: Record<string, string> = {
  ref: 'SVC-RED',
  version: '1',
  id: '999999',
  taskId: '999999',
  membershipId: '999999',
  lotId: '999999',
}

export const ROUTE_TABLE: RouteExpectation[] = [
  // Sign-in and health
  { method: 'GET', path: '/health', access: 'public' },
  { method: 'GET', path: '/sign-in', access: 'public' },
  { method: 'POST', path: '/sign-in', access: 'public' },
  { method: 'POST', path: '/sign-out', access: 'public', endsSession: true },
  // Single sign-on (issue 18): 404 when it is not configured, as in this table's app
  { method: 'GET', path: '/auth/login', access: 'public' },
  { method: 'GET', path: '/auth/callback', access: 'public' },
  { method: 'GET', path: '/auth/signed-out', access: 'public' },

  // Dashboard and service page
  { method: 'GET', path: '/', access: ALL },
  { method: 'GET', path: '/services/:ref', access: ALL },
  { method: 'GET', path: '/services.csv', access: ALL },
  { method: 'GET', path: '/services/:ref/report', access: ALL },
  { method: 'POST', path: '/services/:ref/follow', access: STAFF },
  { method: 'POST', path: '/services/:ref/unfollow', access: STAFF },

  // Market summary and providers (SPEC §7)
  { method: 'GET', path: '/market', access: ALL },
  { method: 'GET', path: '/market.csv', access: ALL },
  { method: 'GET', path: '/providers', access: ALL },
  { method: 'GET', path: '/providers/:id', access: ALL },
  { method: 'GET', path: '/providers.csv', access: ALL },
  { method: 'GET', path: '/providers/:id/services.csv', access: ALL },
  { method: 'GET', path: '/services/:ref/timeline.csv', access: ALL },

  // Intelligence entries (SPEC §1: compliance officers record them; assessors never see the forms or the notes)
  { method: 'GET', path: '/intelligence', access: STAFF },
  { method: 'GET', path: '/services/:ref/intelligence', access: STAFF },
  { method: 'GET', path: '/services/:ref/intelligence/new', access: STAFF },
  { method: 'POST', path: '/services/:ref/intelligence', access: STAFF },
  { method: 'GET', path: '/services/:ref/intelligence/:id', access: STAFF },
  { method: 'GET', path: '/services/:ref/intelligence/:id/edit', access: STAFF },
  { method: 'POST', path: '/services/:ref/intelligence/:id/edit', access: STAFF },

  // Quality assessments (SPEC §8) and CSV import
  { method: 'GET', path: '/assessments', access: STAFF },
  { method: 'GET', path: '/assessments/due', access: STAFF },
  { method: 'GET', path: '/services/:ref/assessments', access: STAFF },
  { method: 'GET', path: '/services/:ref/assessments/new', access: STAFF },
  { method: 'POST', path: '/services/:ref/assessments', access: STAFF },
  { method: 'GET', path: '/services/:ref/assessments/:id', access: STAFF },
  { method: 'GET', path: '/services/:ref/assessments/:id/edit', access: STAFF },
  { method: 'POST', path: '/services/:ref/assessments/:id/edit', access: STAFF },
  { method: 'POST', path: '/services/:ref/assessments/:id/status', access: STAFF },
  { method: 'GET', path: '/import', access: STAFF },
  { method: 'POST', path: '/import', access: STAFF },
  { method: 'GET', path: '/import/result', access: STAFF },

  // Overrides, compliance actions and the morning page
  { method: 'GET', path: '/services/:ref/override', access: STAFF },
  { method: 'POST', path: '/services/:ref/override', access: STAFF },
  { method: 'GET', path: '/services/:ref/override/:id/revoke', access: STAFF },
  { method: 'POST', path: '/services/:ref/override/:id/revoke', access: STAFF },
  { method: 'GET', path: '/services/:ref/actions/new', access: STAFF },
  { method: 'POST', path: '/services/:ref/actions', access: STAFF },
  { method: 'GET', path: '/services/:ref/actions/:id', access: STAFF },
  { method: 'POST', path: '/services/:ref/actions/:id/close', access: STAFF },
  { method: 'GET', path: '/morning', access: STAFF },
  { method: 'GET', path: '/actions', access: STAFF },
  { method: 'GET', path: '/actions.csv', access: STAFF },

  // DPS (SPEC §4, §7): everyone reads and matches referrals; compliance and admin award and close tasks
  { method: 'GET', path: '/dps', access: ALL },
  { method: 'GET', path: '/dps/:id', access: ALL },
  { method: 'GET', path: '/dps/:id/referral', access: ALL },
  { method: 'GET', path: '/dps/:id/awards/new', access: STAFF },
  { method: 'POST', path: '/dps/:id/awards', access: STAFF },
  { method: 'GET', path: '/dps/tasks/:taskId', access: STAFF },
  { method: 'POST', path: '/dps/tasks/:taskId/close', access: STAFF },

  // Admin: DPS frameworks, lots, gates and members
  { method: 'GET', path: '/admin/dps', access: ADMIN },
  { method: 'GET', path: '/admin/dps/new', access: ADMIN },
  { method: 'POST', path: '/admin/dps/new', access: ADMIN },
  { method: 'GET', path: '/admin/dps/:id', access: ADMIN },
  { method: 'GET', path: '/admin/dps/:id/gates', access: ADMIN },
  { method: 'POST', path: '/admin/dps/:id/gates', access: ADMIN },
  { method: 'GET', path: '/admin/dps/:id/lots/new', access: ADMIN },
  { method: 'POST', path: '/admin/dps/:id/lots/new', access: ADMIN },
  { method: 'GET', path: '/admin/dps/:id/lots/:lotId', access: ADMIN },
  { method: 'POST', path: '/admin/dps/:id/lots/:lotId', access: ADMIN },
  { method: 'GET', path: '/admin/dps/:id/members/new', access: ADMIN },
  { method: 'POST', path: '/admin/dps/:id/members/new', access: ADMIN },
  { method: 'GET', path: '/admin/dps/:id/members/:membershipId', access: ADMIN },
  { method: 'POST', path: '/admin/dps/:id/members/:membershipId', access: ADMIN },

  // Admin: users, API tokens, audit log
  { method: 'GET', path: '/admin', access: ADMIN },
  { method: 'GET', path: '/admin/users', access: ADMIN },
  { method: 'GET', path: '/admin/users/new', access: ADMIN },
  { method: 'POST', path: '/admin/users', access: ADMIN },
  { method: 'GET', path: '/admin/users/:id', access: ADMIN },
  { method: 'POST', path: '/admin/users/:id/role', access: ADMIN },
  { method: 'POST', path: '/admin/users/:id/disabled', access: ADMIN },
  { method: 'GET', path: '/admin/tokens', access: ADMIN },
  { method: 'POST', path: '/admin/tokens', access: ADMIN },
  { method: 'POST', path: '/admin/tokens/:id/revoke', access: ADMIN },
  { method: 'GET', path: '/admin/audit', access: ADMIN },

  // Admin: refresh runs
  { method: 'GET', path: '/admin/runs', access: ADMIN },
  { method: 'GET', path: '/admin/runs/:id', access: ADMIN },

  // Admin: rule set
  { method: 'GET', path: '/admin/rules', access: ADMIN },
  { method: 'GET', path: '/admin/rules/versions/:version', access: ADMIN },
  { method: 'GET', path: '/admin/rules/edit', access: ADMIN },
  { method: 'POST', path: '/admin/rules/preview', access: ADMIN },
  { method: 'POST', path: '/admin/rules', access: ADMIN },

  // JSON API
  { method: 'GET', path: '/api/v1/services', access: ALL },
  { method: 'GET', path: '/api/v1/services/:ref', access: ALL },
  { method: 'GET', path: '/api/v1/refresh-runs', access: ALL },
  { method: 'GET', path: '/api/v1/changes', access: ALL },
  { method: 'POST', path: '/api/v1/services/:ref/intelligence', access: STAFF },
  { method: 'POST', path: '/api/v1/services/:ref/actions', access: STAFF },
  { method: 'GET', path: '/api/v1/market', access: ALL },
  { method: 'GET', path: '/api/v1/providers', access: ALL },
  { method: 'GET', path: '/api/v1/providers/:id', access: ALL },
  { method: 'GET', path: '/api/v1/openapi.json', access: ALL },
  { method: 'GET', path: '/api/v1/dps', access: ALL },
  { method: 'GET', path: '/api/v1/dps/eligibility-events', access: ALL },
  { method: 'GET', path: '/api/v1/dps/:id', access: ALL },
  { method: 'GET', path: '/api/v1/dps/:id/referral', access: ALL },
  { method: 'POST', path: '/api/v1/dps/:id/awards', access: STAFF },
]

export interface RegisteredRoute {
  method: string
  path: string
}

interface ListedRoute {
  path: string | RegExp
  methods: string[] | undefined
  router: RouterLike | undefined
}

interface RouterLike {
  listRoutes(): ListedRoute[]
}

function joinPaths(prefix: string, path: string): string {
  const joined = `${prefix}/${path}`.replace(/\/{2,}/g, '/')
  return joined.length > 1 ? joined.replace(/\/$/, '') : joined
}

/**
 * Every route registered on the app, read from its router (router 2's `listRoutes`, recursing into mounted routers),
 * as `{ method, path }` with the mount paths joined. HEAD, which Express answers for every GET, is left out.
 */
export function listRegisteredRoutes(app: Express): RegisteredRoute[] {
  const routes: RegisteredRoute[] = []
  const walk = (router: RouterLike, prefix: string) => {
    for (const listed of router.listRoutes()) {
      if (typeof listed.path !== 'string') {
        throw new Error(`A route under ${prefix || '/'} is registered with a regular expression: name it with a path`)
      }
      const path = joinPaths(prefix, listed.path)
      if (listed.router) walk(listed.router, path === '/' ? '' : path)
      for (const method of listed.methods ?? []) {
        if (method === 'HEAD') continue
        routes.push({ method: method === '*' ? 'ALL' : method, path })
      }
    }
  }
  walk(app.router as unknown as RouterLike, '')
  const unique = new Map(routes.map((route) => [`${route.method} ${route.path}`, route]))
  return [...unique.values()]
}

/**
 * Plain middleware mounted on a path with `use` (not a route, so `listRoutes` leaves it out), as `<path> <function
 * name>`. The matrix test compares the app's list with this one, so a handler that answers requests without being a
 * route (a static folder, a catch-all) cannot slip past it either. Each is either public or checks a role itself.
 */
export const MOUNTED_MIDDLEWARE: readonly string[] = [
  '/admin/dps <anonymous>', // requireRole('admin') for everything under it
  '/admin/runs <anonymous>', // requireRole('admin') for everything under it
  '/api <anonymous>', // the JSON 404 for unknown API paths
  '/api jsonParser',
  '/api/v1 <anonymous>', // requireApiRole(every role) before the API routers
  '/assets serveStatic', // public: CSS, JavaScript, fonts and images
]

interface StackLayer {
  route?: unknown
  rawPath?: unknown
  name?: string
  handle?: { stack?: unknown }
}

/** Every plain middleware mounted on a path other than `/`, in the app and the routers it mounts. */
export function listMountedMiddleware(app: Express): string[] {
  const found: string[] = []
  const walk = (stack: StackLayer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) continue
      const path = typeof layer.rawPath === 'string' ? layer.rawPath : String(layer.rawPath)
      const full = path === '/' ? prefix : joinPaths(prefix, path)
      if (Array.isArray(layer.handle?.stack)) walk(layer.handle.stack as StackLayer[], full)
      else if (path !== '/') found.push(`${full} ${layer.name ?? '<anonymous>'}`)
    }
  }
  walk((app.router as unknown as { stack: StackLayer[] }).stack, '')
  return [...new Set(found)].sort()
}

export function expectationFor(route: RegisteredRoute): RouteExpectation | undefined {
  return ROUTE_TABLE.find((entry) => entry.method === route.method && entry.path === route.path)
}

/** The URL to request for a route: its parameters filled in from the entry, then from SAMPLE_PARAMS. */
export function concretePath(expectation: RouteExpectation): string {
  return expectation.path.replace(/:(\w+)/g, (_match, name: string) => {
    const value = expectation.params?.[name] ?? SAMPLE_PARAMS[name]
    if (value === undefined) {
      throw new Error(`No sample value for :${name} in ${expectation.path}: add one to SAMPLE_PARAMS or to the entry`)
    }
    return encodeURIComponent(value)
  })
}
