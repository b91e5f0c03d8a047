import type { Role } from '../auth/roles.js'
import { appendAuditEntry } from './audit.js'
import type { Db } from './database.js'

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

export class UsersRepository {
  private readonly statements

  constructor(private readonly db: Db) {
    this.statements = {
      byId: db.prepare('SELECT * FROM users WHERE id = ?'),
      byEmail: db.prepare('SELECT * FROM users WHERE email = ?'),
      all: db.prepare('SELECT * FROM users ORDER BY email'),
      count: db.prepare('SELECT COUNT(*) AS n FROM users'),
      activeAdmins: db.prepare("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = 0"),
      insert: db.prepare(
        `INSERT INTO users (email, password_hash, role, disabled, created_at, updated_at)
         VALUES (@email, @passwordHash, @role, 0, @now, @now)`,
      ),
      setRole: db.prepare('UPDATE users SET role = ?, updated_at = ? WHERE id = ?'),
      setDisabled: db.prepare('UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?'),
      setPasswordHash: db.prepare('UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?'),
      setLastSignIn: db.prepare('UPDATE users SET last_sign_in_at = ? WHERE id = ?'),
      byIdentity: db.prepare('SELECT * FROM users WHERE oidc_issuer = ? AND oidc_subject = ?'),
      insertFromDirectory: db.prepare(
        `INSERT INTO users (email, password_hash, role, disabled, created_at, updated_at, name, oidc_issuer, oidc_subject)
         VALUES (@email, '${NO_PASSWORD}', @role, 0, @now, @now, @name, @issuer, @subject)`,
      ),
      updateFromDirectory: db.prepare(
        `UPDATE users SET email = @email, role = @role, name = @name, oidc_issuer = @issuer, oidc_subject = @subject,
         updated_at = @now WHERE id = @id`,
      ),
    }
  }

  async findById(id: number): Promise<User | undefined> {
    const row = this.statements.byId.get(id) as UserRow | undefined
    return row && toUser(row)
  }

  async findByEmail(email: string): Promise<User | undefined> {
    const row = this.statements.byEmail.get(normaliseEmail(email)) as UserRow | undefined
    return row && toUser(row)
  }

  async findCredentialsByEmail(email: string): Promise<UserCredentials | undefined> {
    const row = this.statements.byEmail.get(normaliseEmail(email)) as UserRow | undefined
    return row && { ...toUser(row), passwordHash: row.password_hash }
  }

  async list(): Promise<User[]> {
    return (this.statements.all.all() as UserRow[]).map(toUser)
  }

  async count(): Promise<number> {
    return (this.statements.count.get() as { n: number }).n
  }

  /** Creates a user (audited as `user.created`). Throws DuplicateEmailError if the email is taken. */
  async create(newUser: NewUser, actor: string): Promise<User> {
    const email = normaliseEmail(newUser.email)
    const now = new Date().toISOString()
    return this.db
      .transaction(() => {
        if (this.statements.byEmail.get(email) !== undefined) throw new DuplicateEmailError(email)
        const result = this.statements.insert.run({ email, passwordHash: newUser.passwordHash, role: newUser.role, now })
        const user = toUser(this.statements.byId.get(result.lastInsertRowid) as UserRow)
        appendAuditEntry(
          this.db,
          { actor, action: 'user.created', entityType: 'user', entityId: user.id, after: auditView(user) },
          now,
        )
        return user
      })
      .immediate()
  }

  /** Throws LastActiveAdminError rather than demote the last active admin (checked in the write's transaction). */
  async setRole(id: number, role: Role, actor: string): Promise<User> {
    return this.update(id, actor, 'user.role_changed', (now, before) => {
      if (role !== 'admin') this.refuseLastActiveAdmin(before)
      this.statements.setRole.run(role, now, id)
    })
  }

  /**
   * Throws LastActiveAdminError rather than disable the last active admin (checked in the write's transaction), unless
   * `evenTheLastAdmin` (a demo admin whose password is published must go, admin or not).
   */
  async setDisabled(id: number, disabled: boolean, actor: string, options: { evenTheLastAdmin?: boolean } = {}) {
    return this.update(id, actor, disabled ? 'user.disabled' : 'user.enabled', (now, before) => {
      if (disabled && options.evenTheLastAdmin !== true) this.refuseLastActiveAdmin(before)
      this.statements.setDisabled.run(disabled ? 1 : 0, now, id)
    })
  }

  private refuseLastActiveAdmin(user: UserRow): void {
    if (user.role !== 'admin' || user.disabled === 1) return
    if ((this.statements.activeAdmins.get() as { n: number }).n <= 1) throw new LastActiveAdminError(user.email)
  }

  async setPasswordHash(id: number, passwordHash: string, actor: string): Promise<User> {
    return this.update(id, actor, 'user.password_changed', (now) =>
      this.statements.setPasswordHash.run(passwordHash, now, id),
    )
  }

  /** Stamps the sign-in time and audits it as `user.signed_in`. */
  async recordSignIn(id: number, via: string = 'password'): Promise<void> {
    const now = new Date().toISOString()
    this.db
      .transaction(() => {
        const row = this.statements.byId.get(id) as UserRow | undefined
        if (row === undefined) throw new UserNotFoundError(id)
        this.statements.setLastSignIn.run(now, id)
        appendAuditEntry(
          this.db,
          { actor: row.email, action: 'user.signed_in', entityType: 'user', entityId: id, after: { via } },
          now,
        )
      })
      .immediate()
  }

  /**
   * Audits a refused sign-in as `user.sign_in_failed`, with the address typed (the actor) and the account when one
   * has it; never the password.
   */
  async recordFailedSignIn(email: string, details: { ip?: string; reason: string }): Promise<void> {
    const typed = normaliseEmail(email).slice(0, 254)
    const row = this.statements.byEmail.get(typed) as UserRow | undefined
    appendAuditEntry(this.db, {
      actor: typed,
      action: 'user.sign_in_failed',
      entityType: 'user',
      entityId: row?.id ?? null,
      after: details,
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
    const values = { ...identity, email, now }
    return this.db
      .transaction((): DirectorySignIn => {
        const linked = this.statements.byIdentity.get(identity.issuer, identity.subject) as UserRow | undefined
        const sameEmail = this.statements.byEmail.get(email) as UserRow | undefined
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
          id = Number(this.statements.insertFromDirectory.run(values).lastInsertRowid)
        } else {
          id = before.id
          this.statements.updateFromDirectory.run({ ...values, id })
        }
        const after = this.statements.byId.get(id) as UserRow
        const changed = JSON.stringify(before && directoryAuditView(before)) !== JSON.stringify(directoryAuditView(after))
        if (changed) {
          appendAuditEntry(
            this.db,
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
        this.statements.setLastSignIn.run(now, id)
        appendAuditEntry(
          this.db,
          { actor: email, action: 'user.signed_in', entityType: 'user', entityId: id, after: { via: 'single sign-on' } },
          now,
        )
        return { outcome: 'signed-in', user: toUser(this.statements.byId.get(id) as UserRow) }
      })
      .immediate()
  }

  private update(id: number, actor: string, action: string, write: (now: string, before: UserRow) => void): User {
    const now = new Date().toISOString()
    return this.db
      .transaction(() => {
        const before = this.statements.byId.get(id) as UserRow | undefined
        if (before === undefined) throw new UserNotFoundError(id)
        write(now, before)
        const after = toUser(this.statements.byId.get(id) as UserRow)
        appendAuditEntry(
          this.db,
          { actor, action, entityType: 'user', entityId: id, before: auditView(toUser(before)), after: auditView(after) },
          now,
        )
        return after
      })
      .immediate()
  }
}
