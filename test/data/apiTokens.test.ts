import { beforeEach, describe, expect, it } from 'vitest'
import { ApiTokensRepository, generateTokenSecret, hashTokenSecret } from '../../src/data/apiTokens.js'
import { openTestDatabase } from '../../src/data/database.js'
import type { Repositories } from '../../src/data/store.js'
import { describeEachStore } from '../helpers/stores.js'

describe('ApiTokensRepository on a SQLite handle', () => {
  it('stores only the hash of a secret', async () => {
    const db = openTestDatabase()
    const { secret } = await new ApiTokensRepository(db).create({ name: 'BI export', role: 'assessor' }, 'admin@example.org')
    const stored = db.prepare('SELECT * FROM api_tokens').all()
    expect(JSON.stringify(stored)).not.toContain(secret)
    expect(stored).toMatchObject([{ token_hash: hashTokenSecret(secret) }])
    db.close()
  })
})

describeEachStore('ApiTokensRepository', (openStore) => {
  let tokens: Repositories['apiTokens']
  let audit: Repositories['audit']

  beforeEach(async () => {
    const store = await openStore()
    tokens = store.repositories.apiTokens
    audit = store.repositories.audit
  })

  it('generates 32 random bytes with a recognisable prefix, hashed with SHA-256', () => {
    const secret = generateTokenSecret()
    expect(secret).toMatch(/^prd_[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(secret.slice(4), 'base64url')).toHaveLength(32)
    expect(generateTokenSecret()).not.toBe(secret)
    expect(hashTokenSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })

  it('creates a token, returns its secret once and stores only the hash', async () => {
    const { token, secret } = await tokens.create({ name: 'BI export', role: 'assessor' }, 'admin@example.org')
    expect(token).toMatchObject({ name: 'BI export', role: 'assessor', createdBy: 'admin@example.org', lastUsedAt: null, revokedAt: null })
    expect(JSON.stringify(await tokens.list())).not.toContain(secret)
    expect(JSON.stringify(await audit.list({ limit: 10 }))).not.toContain(secret)
    expect(await tokens.findActiveBySecret(secret)).toEqual(token)
    expect(await tokens.findActiveBySecret(secret + 'x')).toBeUndefined()
    expect(await tokens.findActiveBySecret(generateTokenSecret())).toBeUndefined()
  })

  it('revokes a token: it no longer authenticates, and revoking again changes nothing', async () => {
    const { token, secret } = await tokens.create({ name: 'script', role: 'compliance' }, 'cli:root')
    const revoked = await tokens.revoke(token.id, 'admin@example.org')
    expect(revoked).toMatchObject({ id: token.id, revokedBy: 'admin@example.org' })
    expect(revoked?.revokedAt).not.toBeNull()
    expect(await tokens.findActiveBySecret(secret)).toBeUndefined()
    expect(await tokens.revoke(token.id, 'someone@example.org')).toEqual(revoked)
    expect(await tokens.revoke(999, 'x')).toBeUndefined()
    expect((await tokens.list()).map((t) => t.revokedBy)).toEqual(['admin@example.org'])
  })

  it('audits creation and revocation, without the secret or its hash', async () => {
    const { token, secret } = await tokens.create({ name: 'script', role: 'compliance' }, 'cli:root')
    await tokens.revoke(token.id, 'admin@example.org')
    await tokens.revoke(token.id, 'admin@example.org')
    const entries = (await audit.list({ entityType: 'api_token', limit: 10 })).reverse()
    expect(entries.map((e) => [e.action, e.actor])).toEqual([
      ['api_token.created', 'cli:root'],
      ['api_token.revoked', 'admin@example.org'],
    ])
    expect(entries[1]?.before).toMatchObject({ revokedAt: null })
    const text = JSON.stringify(entries)
    expect(text).not.toContain(secret)
    expect(text).not.toContain(hashTokenSecret(secret))
  })

  it('stamps last use, at most once a minute', async () => {
    const { token } = await tokens.create({ name: 'script', role: 'assessor' }, 'x')
    await tokens.markUsed(token, new Date('2026-03-14T10:00:00Z'))
    const used = (await tokens.findById(token.id))!
    expect(used.lastUsedAt).toBe('2026-03-14T10:00:00.000Z')
    await tokens.markUsed(used, new Date('2026-03-14T10:00:30Z'))
    expect((await tokens.findById(token.id))?.lastUsedAt).toBe('2026-03-14T10:00:00.000Z')
    await tokens.markUsed(used, new Date('2026-03-14T10:01:00Z'))
    expect((await tokens.findById(token.id))?.lastUsedAt).toBe('2026-03-14T10:01:00.000Z')
  })
})
