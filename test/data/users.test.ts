import { beforeEach, expect, it } from 'vitest'
import type { Repositories, Store } from '../../src/data/store.js'
import { DuplicateEmailError, LastActiveAdminError, UserNotFoundError } from '../../src/data/users.js'
import { describeEachStore } from '../helpers/stores.js'

describeEachStore('UsersRepository', (openStore) => {
  let store: Store
  let users: Repositories['users']
  let audit: Repositories['audit']

  beforeEach(async () => {
    store = await openStore()
    users = store.repositories.users
    audit = store.repositories.audit
  })

  it('creates a user with a normalised email and finds it by id and by email, case-insensitively', async () => {
    const created = await users.create({ email: '  Jo.Bloggs@Example.ORG ', role: 'compliance', passwordHash: 'hash-1' }, 'admin@example.org')
    expect(created).toMatchObject({ email: 'jo.bloggs@example.org', role: 'compliance', disabled: false, lastSignInAt: null })
    expect(await users.findById(created.id)).toEqual(created)
    expect(await users.findByEmail('JO.BLOGGS@example.org')).toEqual(created)
    expect(await users.findCredentialsByEmail('jo.bloggs@example.org')).toEqual({ ...created, passwordHash: 'hash-1' })
    expect(created).not.toHaveProperty('passwordHash')
    expect(await users.findByEmail('nobody@example.org')).toBeUndefined()
    expect(await users.findById(999)).toBeUndefined()
    expect(await users.count()).toBe(1)
  })

  it('refuses a second user with the same email in any case', async () => {
    await users.create({ email: 'a@example.org', role: 'admin', passwordHash: 'h' }, 'system')
    await expect(users.create({ email: 'A@EXAMPLE.ORG', role: 'assessor', passwordHash: 'h' }, 'system')).rejects.toThrow(
      DuplicateEmailError,
    )
    expect(await users.count()).toBe(1)
  })

  it('rejects an unknown role at the database', async () => {
    await expect(
      users.create({ email: 'a@example.org', role: 'superuser' as never, passwordHash: 'h' }, 'system'),
    ).rejects.toThrow(/check/i)
  })

  it('lists users by email', async () => {
    await users.create({ email: 'b@example.org', role: 'admin', passwordHash: 'h' }, 'system')
    await users.create({ email: 'a@example.org', role: 'assessor', passwordHash: 'h' }, 'system')
    expect((await users.list()).map((u) => u.email)).toEqual(['a@example.org', 'b@example.org'])
  })

  it('audits every change with before and after, never the password hash', async () => {
    const user = await users.create({ email: 'a@example.org', role: 'assessor', passwordHash: 'secret-hash' }, 'admin@example.org')
    await users.setRole(user.id, 'compliance', 'admin@example.org')
    await users.setDisabled(user.id, true, 'admin@example.org')
    await users.setDisabled(user.id, false, 'admin@example.org')
    await users.setPasswordHash(user.id, 'new-hash', 'cli:root')

    expect((await users.findCredentialsByEmail('a@example.org'))?.passwordHash).toBe('new-hash')
    const entries = (await audit.list({ entityType: 'user', entityId: user.id, limit: 10 })).reverse()
    expect(entries.map((e) => [e.action, e.actor])).toEqual([
      ['user.created', 'admin@example.org'],
      ['user.role_changed', 'admin@example.org'],
      ['user.disabled', 'admin@example.org'],
      ['user.enabled', 'admin@example.org'],
      ['user.password_changed', 'cli:root'],
    ])
    expect(entries[1]).toMatchObject({
      before: { email: 'a@example.org', role: 'assessor', disabled: false },
      after: { email: 'a@example.org', role: 'compliance', disabled: false },
    })
    expect(entries[2]).toMatchObject({ before: { disabled: false }, after: { disabled: true } })
    expect(JSON.stringify(entries)).not.toMatch(/hash/)
  })

  it('records a sign-in: the time on the user and an audit entry by the user', async () => {
    const user = await users.create({ email: 'a@example.org', role: 'assessor', passwordHash: 'h' }, 'system')
    await users.recordSignIn(user.id)
    const after = await users.findById(user.id)
    expect(Date.parse(after?.lastSignInAt ?? '')).not.toBeNaN()
    expect(await audit.list({ action: 'user.signed_in', limit: 5 })).toMatchObject([
      { actor: 'a@example.org', entityId: String(user.id) },
    ])
  })

  it('fails on an unknown user without writing anything', async () => {
    await expect(users.setRole(42, 'admin', 'x')).rejects.toThrow(UserNotFoundError)
    await expect(users.recordSignIn(42)).rejects.toThrow(UserNotFoundError)
    expect(await audit.count()).toBe(0)
  })

  it('a change that fails half way inside a write leaves neither it nor its audit entry', async () => {
    const admin = await users.create({ email: 'admin@example.org', role: 'admin', passwordHash: 'h' }, 'system')
    const entriesBefore = await audit.count()
    await expect(
      store.write(async (r) => {
        await r.users.create({ email: 'b@example.org', role: 'assessor', passwordHash: 'h' }, 'admin@example.org')
        await r.users.setRole(admin.id, 'assessor', 'admin@example.org')
      }),
    ).rejects.toThrow(LastActiveAdminError)
    expect(await users.findByEmail('b@example.org')).toBeUndefined()
    expect(await audit.count()).toBe(entriesBefore)
    expect((await users.findById(admin.id))?.role).toBe('admin')
  })
})
