import type { Role } from '../auth/roles.js'
import { sql } from 'kysely'
import { recordAuditEntry } from './audit.js'
import { inTransaction, toExecutor, type Executor, type ExecutorSource } from './executor.js'

export interface User {
  id: number
  email: string
  role: Role
  disabled: boolean
  createdAt: string
  updatedAt: string
  lastSignInAt: string | null
  /** The display name from the council's directory (single sign-on users); null for others. */
  name: string | null
  /** The OpenID Connect issuer the user signs in with; null for password users. */
  oidcIssuer: string | null
}

/** A user with the password hash, only for the sign-in check. Never render or log this. */
export interface UserCredentials extends User {
  passwordHash: string
}

export interface NewUser {
  email: string
  role: Role
  passwordHash: string
}

export class DuplicateEmailError extends Error {
  constructor(email: string) {
    super(`A user with the email address ${email} already exists`)
  }
}

export class UserNotFoundError extends Error {
  constructor(id: number) {
    super(`No user with id ${id}`)
  }
}

/** Refused: the change would leave no active admin, so nobody could manage users, tokens or the rule set. */
export class LastActiveAdminError extends Error {
  constructor(email: string) {
    super(`${email} is the last active admin: make another user an admin first`)
  }
}

interface UserRow {
  id: number
  email: string
  password_hash: string
  role: Role
  disabled: number
  created_at: string
  updated_at: string
  last_sign_in_at: string | null
  name: string | null
  oidc_issuer: string | null
  oidc_subject: string | null
}

/** Who the council's provider says is signing in (from a verified ID token), with the role their claims give. */
export interface DirectoryIdentity {
  issuer: string
  subject: string
  email: string
  name: string | null
  role: Role
}

export type DirectorySignIn =
  | { outcome: 'signed-in'; user: User }
  | { outcome: 'disabled' }
  /** The email belongs to a user linked to another directory account. */
  | { outcome: 'email-taken' }

/** Users created at single sign-on have no password; no Argon2 hash is empty, so no password matches. */
export const NO_PASSWORD = ''

/** Emails compare case-insensitively: stored trimmed and lower-cased. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase()
}

function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    disabled: row.disabled === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastSignInAt: row.last_sign_in_at,
    name: row.name,
    oidcIssuer: row.oidc_issuer,
  }
}

/** What the audit log keeps of a user: never the hash. */
function auditView(user: User): Record<string, unknown> {
  return { email: user.email, role: user.role, disabled: user.disabled }
}

function directoryAuditView(row: UserRow): Record<string, unknown> {
  return { email: row.email, name: row.name, role: row.role, issuer: row.oidc_issuer, subject: row.oidc_subject }
}

const selectUser = (db: Executor, id: number) =>
  sql<UserRow>`SELECT * FROM users WHERE id = ${id}`.execute(db).then(({ rows }) => rows[0])
const selectUserByEmail = (db: Executor, email: string) =>
  sql<UserRow>`SELECT * FROM users WHERE email = ${email}`.execute(db).then(({ rows }) => rows[0])

export class UsersRepository {
  private readonly db: Executor

  constructor(db: ExecutorSource) {
    this.db = toExecutor(db)
  }

  async findById(id: number): Promise<User | undefined> {
    const row = await selectUser(this.db, id)
    return row && toUser(row)
  }

  async findByEmail(email: string): Promise<User | undefined> {
    const row = await selectUserByEmail(this.db, normaliseEmail(email))
    return row && toUser(row)
  }

  async findCredentialsByEmail(email: string): Promise<UserCredentials | undefined> {
    const row = await selectUserByEmail(this.db, normaliseEmail(email))
    return row && { ...toUser(row), passwordHash: row.password_hash }
  }

  async list(): Promise<User[]> {
    const { rows } = await sql<UserRow>`SELECT * FROM users ORDER BY email`.execute(this.db)
    return rows.map(toUser)
  }

  async count(): Promise<number> {
    const { rows } = await sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM users`.execute(this.db)
    return Number(rows[0]?.n ?? 0)
  }

  /** Creates a user (audited as `user.created`). Throws DuplicateEmailError if the email is taken. */
  async create(newUser: NewUser, actor: string): Promise<User> {
    const email = normaliseEmail(newUser.email)
    const now = new Date().toISOString()
    return inTransaction(this.db, async (trx) => {
      if ((await selectUserByEmail(trx, email)) !== undefined) throw new DuplicateEmailError(email)
      const { rows } = await sql<UserRow>`
        INSERT INTO users (email, password_hash, role, disabled, created_at, updated_at)
        VALUES (${email}, ${newUser.passwordHash}, ${newUser.role}, 0, ${now}, ${now})
        RETURNING *`.execute(trx)
      const user = toUser(rows[0] as UserRow)
      await recordAuditEntry(
        trx,
        { actor, action: 'user.created', entityType: 'user', entityId: user.id, after: auditView(user) },
        now,
      )
      return user
    })
  }

  /** Throws LastActiveAdminError rather than demote the last active admin (checked in the write's transaction). */
  async setRole(id: number, role: Role, actor: string): Promise<User> {
    return this.update(id, actor, 'user.role_changed', async (trx, now, before) => {
      if (role !== 'admin') await this.refuseLastActiveAdmin(trx, before)
      await sql`UPDATE users SET role = ${role}, updated_at = ${now} WHERE id = ${id}`.execute(trx)
    })
  }

  /**
   * Throws LastActiveAdminError rather than disable the last active admin (checked in the write's transaction), unless
   * `evenTheLastAdmin` (a demo admin whose password is published must go, admin or not).
   */
  async setDisabled(id: number, disabled: boolean, actor: string, options: { evenTheLastAdmin?: boolean } = {}) {
    return this.update(id, actor, disabled ? 'user.disabled' : 'user.enabled', async (trx, now, before) => {
      if (disabled && options.evenTheLastAdmin !== true) await this.refuseLastActiveAdmin(trx, before)
      await sql`UPDATE users SET disabled = ${disabled ? 1 : 0}, updated_at = ${now} WHERE id = ${id}`.execute(trx)
    })
  }

  private async refuseLastActiveAdmin(trx: Executor, user: UserRow): Promise<void> {
    if (user.role !== 'admin' || user.disabled === 1) return
    const { rows } = await sql<{ n: number | string }>`
      SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = 0`.execute(trx)
    if (Number(rows[0]?.n ?? 0) <= 1) throw new LastActiveAdminError(user.email)
  }

  async setPasswordHash(id: number, passwordHash: string, actor: string): Promise<User> {
    return this.update(id, actor, 'user.password_changed', async (trx, now) => {
      await sql`UPDATE users SET password_hash = ${passwordHash}, updated_at = ${now} WHERE id = ${id}`.execute(trx)
    })
  }

  /** Stamps the sign-in time and audits it as `user.signed_in`. */
  async recordSignIn(id: number, via: string = 'password'): Promise<void> {
    const now = new Date().toISOString()
    await inTransaction(this.db, async (trx) => {
      const row = await selectUser(trx, id)
      if (row === undefined) throw new UserNotFoundError(id)
      await sql`UPDATE users SET last_sign_in_at = ${now} WHERE id = ${id}`.execute(trx)
      await recordAuditEntry(
        trx,
        { actor: row.email, action: 'user.signed_in', entityType: 'user', entityId: id, after: { via } },
        now,
      )
    })
  }

  /**
   * Audits a refused sign-in as `user.sign_in_failed`, with the address typed (the actor) and the account when one
   * has it; never the password.
   */
  async recordFailedSignIn(email: string, details: { ip?: string; reason: string }): Promise<void> {
    const typed = normaliseEmail(email).slice(0, 254)
    await inTransaction(this.db, async (trx) => {
      const row = await selectUserByEmail(trx, typed)
      await recordAuditEntry(trx, {
        actor: typed,
        action: 'user.sign_in_failed',
        entityType: 'user',
        entityId: row?.id ?? null,
        after: details,
      })
    })
  }

  /**
   * Single sign-on: creates the user of a directory account at its first sign-in, or brings the record up to date
   * (email, name and role as the directory says now), links a password user with the same email at their first
   * single sign-on, stamps the sign-in; each change audited. Refuses a disabled user, and an email already linked to
   * another directory account.
   */
  async signInFromDirectory(identity: DirectoryIdentity): Promise<DirectorySignIn> {
    const email = normaliseEmail(identity.email)
    const now = new Date().toISOString()
    return inTransaction(this.db, async (trx): Promise<DirectorySignIn> => {
      const { rows: linkedRows } = await sql<UserRow>`
        SELECT * FROM users WHERE oidc_issuer = ${identity.issuer} AND oidc_subject = ${identity.subject}`.execute(trx)
      const linked = linkedRows[0]
      const sameEmail = await selectUserByEmail(trx, email)
      if (sameEmail !== undefined && sameEmail.id !== linked?.id && sameEmail.oidc_subject !== null) {
        return { outcome: 'email-taken' }
      }
      const before = linked ?? sameEmail
      if (before?.disabled === 1) return { outcome: 'disabled' }
      if (linked !== undefined && sameEmail !== undefined && sameEmail.id !== linked.id) {
        return { outcome: 'email-taken' }
      }

      let id: number
      if (before === undefined) {
        const { rows } = await sql<{ id: number }>`
          INSERT INTO users (email, password_hash, role, disabled, created_at, updated_at, name, oidc_issuer, oidc_subject)
          VALUES (${email}, ${NO_PASSWORD}, ${identity.role}, 0, ${now}, ${now}, ${identity.name}, ${identity.issuer},
            ${identity.subject})
          RETURNING id`.execute(trx)
        id = Number((rows[0] as { id: number }).id)
      } else {
        id = before.id
        await sql`
          UPDATE users SET email = ${email}, role = ${identity.role}, name = ${identity.name},
            oidc_issuer = ${identity.issuer}, oidc_subject = ${identity.subject}, updated_at = ${now}
          WHERE id = ${id}`.execute(trx)
      }
      const after = (await selectUser(trx, id)) as UserRow
      const changed = JSON.stringify(before && directoryAuditView(before)) !== JSON.stringify(directoryAuditView(after))
      if (changed) {
        await recordAuditEntry(
          trx,
          {
            actor: email,
            action: before === undefined ? 'user.created' : 'user.updated_from_directory',
            entityType: 'user',
            entityId: id,
            before: before && directoryAuditView(before),
            after: directoryAuditView(after),
          },
          now,
        )
      }
      await sql`UPDATE users SET last_sign_in_at = ${now} WHERE id = ${id}`.execute(trx)
      await recordAuditEntry(
        trx,
        { actor: email, action: 'user.signed_in', entityType: 'user', entityId: id, after: { via: 'single sign-on' } },
        now,
      )
      return { outcome: 'signed-in', user: toUser((await selectUser(trx, id)) as UserRow) }
    })
  }

  private async update(
    id: number,
    actor: string,
    action: string,
    write: (trx: Executor, now: string, before: UserRow) => Promise<void>,
  ): Promise<User> {
    const now = new Date().toISOString()
    return inTransaction(this.db, async (trx) => {
      const before = await selectUser(trx, id)
      if (before === undefined) throw new UserNotFoundError(id)
      await write(trx, now, before)
      const after = toUser((await selectUser(trx, id)) as UserRow)
      await recordAuditEntry(
        trx,
        { actor, action, entityType: 'user', entityId: id, before: auditView(toUser(before)), after: auditView(after) },
        now,
      )
      return after
    })
  }
}
