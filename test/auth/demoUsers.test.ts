import { describe, expect, it } from 'vitest'
import { checkCredentials } from '../../src/auth/credentials.js'
import { createDemoUsers, DEMO_USERS } from '../../src/auth/demoUsers.js'
import { openTestDatabase } from '../../src/data/database.js'
import { UsersRepository } from '../../src/data/users.js'

describe('createDemoUsers', () => {
  it('creates one user per role with the printed passwords, once', async () => {
    const db = openTestDatabase()
    const users = new UsersRepository(db)
    const created = await createDemoUsers(users, 'development')
    expect(created.map((c) => [c.email, c.role])).toEqual([
      ['admin@example.org', 'admin'],
      ['compliance@example.org', 'compliance'],
      ['assessor@example.org', 'assessor'],
    ])
    for (const demo of created) {
      expect(demo.password.length).toBeGreaterThanOrEqual(12)
      expect(await checkCredentials(users, demo.email, demo.password)).toMatchObject({
        email: demo.email,
        role: demo.role,
      })
    }
    expect(await createDemoUsers(users, 'development')).toEqual([])
    expect(await users.count()).toBe(3)
    db.close()
  })

  it('creates nothing in production', async () => {
    const db = openTestDatabase()
    const users = new UsersRepository(db)
    expect(await createDemoUsers(users, 'production')).toEqual([])
    expect(await users.count()).toBe(0)
    expect(DEMO_USERS).toHaveLength(3)
    db.close()
  })
})
