import { Writable } from 'node:stream'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { openTestDatabase } from '../../src/data/database.js'
import { createLogger } from '../../src/logger.js'
import { createServices } from '../../src/services/container.js'
import { csrfTokenFrom, ensureUser, fixedClock, TEST_PASSWORD } from '../helpers/appHarness.js'

/** An app whose log lines (JSON) are collected, at the given level. */
function appLoggingAt(level: string, requestLogging = true) {
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      done()
    },
  })
  const logger = createLogger(level, sink)
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_PATH: ':memory:', INBOX_DIR: '/nonexistent/test-inbox' })
  const services = createServices(openTestDatabase(), config, logger, fixedClock())
  return { app: createApp(services, { requestLogging }), lines, services }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('request logging', () => {
  it('logs each request at info, with its id and without the credentials it sent', async () => {
    const { app, lines } = appLoggingAt('info')
    const response = await request(app)
      .get('/sign-in')
      .set('Authorization', 'Bearer secret-token-value')
      .set('x-request-id', 'abc-1')
    const line = lines.find((entry) => entry.msg === 'request completed')
    expect(line).toMatchObject({ req: { id: 'abc-1', url: '/sign-in' }, res: { statusCode: 401 } })
    expect(line?.reqId).toBe('abc-1')
    expect(response.headers['x-request-id']).toBe('abc-1')
    expect(JSON.stringify(lines)).not.toContain('secret-token-value')
  })

  it('gives a request without a sane id a random one, and answers it in X-Request-Id', async () => {
    const { app, lines } = appLoggingAt('info')
    const none = await request(app).get('/sign-in')
    expect(none.headers['x-request-id']).toMatch(UUID)
    for (const insane of ['has spaces in it', 'x'.repeat(200), 'quote"s', '']) {
      const response = await request(app).get('/sign-in').set('x-request-id', insane)
      expect(response.headers['x-request-id']).toMatch(UUID)
    }
    const another = await request(app).get('/sign-in')
    expect(another.headers['x-request-id']).not.toBe(none.headers['x-request-id'])
    const completed = lines.filter((entry) => entry.msg === 'request completed')
    expect(completed).toHaveLength(6)
    for (const line of completed) expect(line.reqId).toMatch(UUID)
  })

  for (const requestLogging of [true, false]) {
    it(`puts the id in every line a route logs (request lines ${requestLogging ? 'on' : 'off'})`, async () => {
      const { app, lines, services } = appLoggingAt('info', requestLogging)
      const email = await ensureUser(services, 'compliance')
      const agent = request.agent(app)
      const form = await agent.get('/sign-in')
      const refused = await agent
        .post('/sign-in')
        .set('x-request-id', 'refused-1')
        .type('form')
        .send({ email, password: 'wrong password', _csrf: csrfTokenFrom(form.text) })
      expect(refused.headers['x-request-id']).toBe('refused-1')
      const signedIn = await agent
        .post('/sign-in')
        .set('x-request-id', 'sign-in-1')
        .type('form')
        .send({ email, password: TEST_PASSWORD, _csrf: csrfTokenFrom(form.text) })
      expect(signedIn.status).toBe(303)
      expect(lines.find((entry) => entry.msg === 'sign-in refused')?.reqId).toBe('refused-1')
      expect(lines.find((entry) => entry.msg === 'signed in')?.reqId).toBe('sign-in-1')
      const ofSignIn = lines.filter((entry) => entry.reqId === 'sign-in-1').map((entry) => entry.msg)
      expect(ofSignIn).toEqual(requestLogging ? ['signed in', 'request completed'] : ['signed in'])
    })
  }

  it('logs a failure with its request id below info too, where no request line is written', async () => {
    const { app, lines, services } = appLoggingAt('warn')
    services.db.close()
    const response = await request(app).get('/health').set('x-request-id', 'probe-7')
    expect(response.status).toBe(503)
    expect(response.headers['x-request-id']).toBe('probe-7')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ msg: 'health check failed', reqId: 'probe-7', level: 50 })
  })
})
