import type { Express } from 'express'
import request from 'supertest'
import { createApp } from '../../src/app.js'
import { hashPassword } from '../../src/auth/passwords.js'
import type { Role } from '../../src/auth/roles.js'
import { loadConfig, type Config } from '../../src/config.js'
import { openTestDatabase } from '../../src/data/database.js'
import { UsersRepository } from '../../src/data/users.js'
import { createLogger } from '../../src/logger.js'
import { createServices, type Clock, type Services } from '../../src/services/container.js'

export const TEST_TODAY = '2026-11-23'

export function fixedClock(today: string = TEST_TODAY): Clock & { set(day: string): void } {
  let current = today
  return {
    today: () => current,
    now: () => new Date(`${current}T10:00:00Z`),
    set: (day: string) => {
      current = day
    },
  }
}

/** Services over a fresh in-memory database, with a fixed clock and silent logs. */
export function createTestServices(options: { today?: string; env?: Record<string, string> } = {}): Services {
  const config: Config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_PATH: ':memory:',
    TZ: 'Europe/London',
    // No inbox unless a test makes one: the default ./data/inbox is a developer's real folder.
    INBOX_DIR: '/nonexistent/test-inbox',
    ...options.env,
  })
  return createServices(openTestDatabase(), config, createLogger('silent'), fixedClock(options.today))
}

/** The whole application, as `npm start` composes it, over the given services. */
export function appWithAllRoutes(services: Services): Express {
  return createApp(services, { requestLogging: false })
}

const passwordHashes = new Map<string, Promise<string>>()
export const TEST_PASSWORD = 'correct horse battery staple'

/** Creates (once) a user with the role and returns their email. */
export async function ensureUser(services: Services, role: Role): Promise<string> {
  const users = new UsersRepository(services.db)
  const email = `${role}@test.example`
  if ((await users.findByEmail(email)) === undefined) {
    let hash = passwordHashes.get(TEST_PASSWORD)
    if (!hash) passwordHashes.set(TEST_PASSWORD, (hash = hashPassword(TEST_PASSWORD)))
    await users.create({ email, role, passwordHash: await hash }, 'test')
  }
  return email
}

export function csrfTokenFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html)
  if (!match) throw new Error('No CSRF token in the page')
  return match[1] as string
}

export interface SignedInAgent {
  agent: ReturnType<typeof request.agent>
  /** A fresh CSRF token for this session, read from a page. */
  csrf(path?: string): Promise<string>
}

/** A supertest agent signed in through the real sign-in form (CSRF on). */
export async function signIn(app: Express, services: Services, role: Role): Promise<SignedInAgent> {
  const email = await ensureUser(services, role)
  const agent = request.agent(app)
  const form = await agent.get('/sign-in')
  const response = await agent
    .post('/sign-in')
    .type('form')
    .send({ email, password: TEST_PASSWORD, _csrf: csrfTokenFrom(form.text) })
  if (response.status !== 302 && response.status !== 303)
    throw new Error(`Sign-in as ${role} failed: ${response.status} ${response.text.slice(0, 300)}`)
  return {
    agent,
    csrf: async (path = '/') => csrfTokenFrom((await agent.get(path)).text),
  }
}
