import { describe, expect, it } from 'vitest'
import { hashPassword, passwordSchema, verifyAgainstDummyHash, verifyPassword } from '../../src/auth/passwords.js'

describe('passwords', () => {
  it('hashes with Argon2id, salted, and verifies only the right password', async () => {
    const hash = await hashPassword('correct horse battery staple')
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=65536,p=4,t=3\$/)
    expect(await hashPassword('correct horse battery staple')).not.toBe(hash)
    expect(await verifyPassword(hash, 'correct horse battery staple')).toBe(true)
    expect(await verifyPassword(hash, 'correct horse battery stapler')).toBe(false)
  })

  it('treats an unreadable hash as a mismatch, not an error', async () => {
    expect(await verifyPassword('not-a-hash', 'whatever')).toBe(false)
    expect(await verifyAgainstDummyHash('whatever')).toBe(false)
  })

  it('requires 12 to 256 characters', () => {
    expect(passwordSchema.safeParse('x'.repeat(11)).success).toBe(false)
    expect(passwordSchema.safeParse('x'.repeat(12)).success).toBe(true)
    expect(passwordSchema.safeParse('x'.repeat(257)).success).toBe(false)
  })
})
