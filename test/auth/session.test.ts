import express from 'express'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { setUpWebSession } from '../../src/auth/session.js'
import { setUpWebSecurity } from '../../src/auth/webSecurity.js'
import { openTestDatabase, type Db } from '../../src/data/database.js'

function counterApp(db: Db, config: Parameters<typeof setUpWebSession>[1]) {
  const app = express()
  app.set('trust proxy', 'loopback')
  app.use(setUpWebSecurity({ production: config.NODE_ENV === 'production' }))
  app.use(setUpWebSession(db, config))
  app.get('/count', (req, res) => {
    const session = req.session as unknown as { count?: number }
    session.count = (session.count ?? 0) + 1
    res.json({ count: session.count })
  })
  return app
}

describe('web session', () => {
  it('keeps sessions across a restart, with the secret generated once and kept in the database', async () => {
    const db = openTestDatabase()
    const first = await request(counterApp(db, { NODE_ENV: 'test', SESSION_SECRET: undefined })).get('/count')
    const cookie = (first.headers['set-cookie'] as unknown as string[])[0]!.split(';', 1)[0]!
    const restarted = counterApp(db, { NODE_ENV: 'test', SESSION_SECRET: undefined })
    expect((await request(restarted).get('/count').set('Cookie', cookie)).body).toEqual({ count: 2 })

    const otherSecret = counterApp(db, { NODE_ENV: 'test', SESSION_SECRET: 'a configured secret' })
    expect((await request(otherSecret).get('/count').set('Cookie', cookie)).body).toEqual({ count: 1 })
    db.close()
  })

  it('in production: Secure cookie (behind a TLS proxy), HSTS and upgrade-insecure-requests', async () => {
    const db = openTestDatabase()
    const app = counterApp(db, { NODE_ENV: 'production', SESSION_SECRET: 'a configured secret' })
    const res = await request(app).get('/count').set('X-Forwarded-Proto', 'https')
    expect((res.headers['set-cookie'] as unknown as string[])[0]).toMatch(/; Secure/)
    expect(res.headers['strict-transport-security']).toContain('max-age=')
    expect(res.headers['content-security-policy']).toContain('upgrade-insecure-requests')
    // Over plain HTTP a Secure cookie is not sent at all.
    expect((await request(app).get('/count')).headers['set-cookie']).toBeUndefined()
    db.close()
  })

  it('outside production: no Secure flag, no HSTS, no upgrade-insecure-requests (plain-HTTP localhost works)', async () => {
    const db = openTestDatabase()
    const res = await request(counterApp(db, { NODE_ENV: 'development', SESSION_SECRET: undefined })).get('/count')
    expect((res.headers['set-cookie'] as unknown as string[])[0]).not.toMatch(/Secure/)
    expect(res.headers['strict-transport-security']).toBeUndefined()
    expect(res.headers['content-security-policy']).not.toContain('upgrade-insecure-requests')
    db.close()
  })
})
