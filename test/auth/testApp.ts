import path from 'node:path'
import { fileURLToPath } from 'node:url'
import express, { type Express, type NextFunction, type Request, type Response } from 'express'
import { engine } from 'express-handlebars'
import type { Agent } from 'supertest'
import { requireApiRole, requireRole, setUpAuthentication } from '../../src/auth/authentication.js'
import { setUpCsrf } from '../../src/auth/csrf.js'
import { hashPassword } from '../../src/auth/passwords.js'
import type { SignInRateLimitOptions } from '../../src/auth/rateLimit.js'
import type { Role } from '../../src/auth/roles.js'
import { setUpWebSession } from '../../src/auth/session.js'
import { setUpWebSecurity } from '../../src/auth/webSecurity.js'
import { ApiTokensRepository } from '../../src/data/apiTokens.js'
import { openTestDatabase, type Db } from '../../src/data/database.js'
import { UsersRepository } from '../../src/data/users.js'
import { createLogger } from '../../src/logger.js'
import { setUpRequestLog } from '../../src/requestLog.js'
import { signInRoutes } from '../../src/routes/signIn.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const projectRoot = path.resolve(here, '../..')

export interface TestAppOptions {
  rateLimit?: SignInRateLimitOptions
  absoluteTimeoutMs?: number
  now?: () => Date
}

export interface TestApp {
  app: Express
  db: Db
  users: UsersRepository
  apiTokens: ApiTokensRepository
}

/**
 * The auth factories composed in the order src/app.ts uses, with a minimal layout of our own and a few dummy
 * routes: a compliance/admin page and form, a page for everyone signed in, and a read and a write API route.
 */
export function createTestApp(options: TestAppOptions = {}): TestApp {
  const db = openTestDatabase()
  const users = new UsersRepository(db)
  const apiTokens = new ApiTokensRepository(db)
  const app = express()
  app.engine('hbs', engine({ extname: '.hbs', defaultLayout: 'main', layoutsDir: path.join(here, 'fixtures/layouts') }))
  app.set('view engine', 'hbs')
  app.set('views', path.join(projectRoot, 'views'))

  app.use(setUpRequestLog(createLogger('silent'), { logRequests: false }))
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' })
  })
  app.use(setUpWebSecurity())
  app.get('/assets/app.css', (_req, res) => {
    res.type('css').send('body {}')
  })
  app.use(setUpWebSession(db, { NODE_ENV: 'test', SESSION_SECRET: undefined }))
  app.use(setUpAuthentication({ users, apiTokens, absoluteTimeoutMs: options.absoluteTimeoutMs, now: options.now }))
  app.use(setUpCsrf())
  app.use(signInRoutes({ users, rateLimit: options.rateLimit }))

  app.get('/', requireRole('admin', 'compliance', 'assessor'), (req, res) => {
    res.send(`<p>Home for ${req.user?.email}</p>`)
  })
  app.get('/intelligence', requireRole('admin', 'compliance'), (_req, res) => {
    res.send(
      `<p>Intelligence</p><form method="post"><input type="hidden" name="_csrf" value="${res.locals.csrfToken}"></form>`,
    )
  })
  app.post('/intelligence', requireRole('admin', 'compliance'), (req, res) => {
    res.status(201).send(`saved by ${req.user?.email}: ${(req.body as Record<string, string>).note}`)
  })
  app.get('/api/v1/things', requireApiRole('admin', 'compliance', 'assessor'), (req, res) => {
    res.json({ things: [], user: req.user })
  })
  app.post('/api/v1/things', requireApiRole('admin', 'compliance'), express.json(), (req, res) => {
    res.status(201).json({ created: req.body as unknown, by: req.user?.email })
  })

  app.use((_req, res) => {
    res.status(404).send('Not found')
  })
  app.use((error: Error & { status?: number; code?: string }, req: Request, res: Response, _next: NextFunction) => {
    const status = error.status ?? 500
    if (req.path.startsWith('/api/')) res.status(status).json({ error: error.message, details: [] })
    else res.status(status).send(`<h1>Error ${status}</h1><p>${error.code ?? ''} ${error.message}</p>`)
  })
  return { app, db, users, apiTokens }
}

/** Creates a user with a real Argon2id hash. */
export async function addUser(users: UsersRepository, email: string, role: Role, password: string): Promise<number> {
  return (await users.create({ email, role, passwordHash: await hashPassword(password) }, 'test')).id
}

export function csrfTokenIn(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html)
  if (!match?.[1]) throw new Error(`No CSRF token in the page:\n${html}`)
  return match[1]
}

/** The session cookie value from a response's Set-Cookie header, if any. */
export function sessionCookie(setCookie: string[] | string | undefined): string | undefined {
  const cookies = Array.isArray(setCookie) ? setCookie : setCookie === undefined ? [] : [setCookie]
  return cookies.find((cookie) => cookie.startsWith('prd.sid='))?.split(';', 1)[0]
}

/** Signs in the way a browser does: fetch the form (cookie + token), then post it. Returns the POST response. */
export async function signIn(agent: Agent, email: string, password: string, returnTo = '/') {
  const form = await agent.get('/sign-in').expect(200)
  return agent
    .post('/sign-in')
    .type('form')
    .send({ email, password, returnTo, _csrf: csrfTokenIn(form.text) })
}
