import { Writable } from 'node:stream'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { openTestDatabase } from '../../src/data/database.js'
import { createLogger } from '../../src/logger.js'
import { createServices } from '../../src/services/container.js'
import { fixedClock } from '../helpers/appHarness.js'

/** An app whose log lines (JSON) are collected, at the given level. */
function appLoggingAt(level: string) {
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
  return { app: createApp(services), lines }
}

describe('request logging', () => {
  it('logs each request at info, with its id and without the credentials it sent', async () => {
    const { app, lines } = appLoggingAt('info')
    await request(app).get('/sign-in').set('Authorization', 'Bearer secret-token-value').set('x-request-id', 'abc-1')
    const line = lines.find((entry) => entry.msg === 'request completed')
    expect(line).toMatchObject({ req: { id: 'abc-1', url: '/sign-in' }, res: { statusCode: 401 } })
    expect(JSON.stringify(lines)).not.toContain('secret-token-value')
  })
})
