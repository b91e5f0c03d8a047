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

interface UserRow {
  id: number
  email: string
  password_hash: string
  role: Role
  disabled: number
  created_at: string
  updated_at: string
  last_sign_in_at: string | null
}

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
  }
}

/** What the audit log keeps of a user: never the hash. */
function auditView(user: User): Record<string, unknown> {
  return { email: user.email, role: user.role, disabled: user.disabled }
}

export class UsersRepository {
  private readonly statements

  constructor(private readonly db: Db) {
    this.statements = {
      byId: db.prepare('SELECT * FROM users WHERE id = ?'),
      byEmail: db.prepare('SELECT * FROM users WHERE email = ?'),
      all: db.prepare('SELECT * FROM users ORDER BY email'),
      count: db.prepare('SELECT COUNT(*) AS n FROM users'),
      insert: db.prepare(
        `INSERT INTO users (email, password_hash, role, disabled, created_at, updated_at)
         VALUES (@email, @passwordHash, @role, 0, @now, @now)`,
      ),
      setRole: db.prepare('UPDATE users SET role = ?, updated_at = ? WHERE id = ?'),
      setDisabled: db.prepare('UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?'),
      setPasswordHash: db.prepare('UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?'),
      setLastSignIn: db.prepare('UPDATE users SET last_sign_in_at = ? WHERE id = ?'),
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

  async setRole(id: number, role: Role, actor: string): Promise<User> {
    return this.update(id, actor, 'user.role_changed', (now) => this.statements.setRole.run(role, now, id))
  }

  async setDisabled(id: number, disabled: boolean, actor: string): Promise<User> {
    return this.update(id, actor, disabled ? 'user.disabled' : 'user.enabled', (now) =>
      this.statements.setDisabled.run(disabled ? 1 : 0, now, id),
    )
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

  private update(id: number, actor: string, action: string, write: (now: string) => void): User {
    const now = new Date().toISOString()
    return this.db
      .transaction(() => {
        const before = this.statements.byId.get(id) as UserRow | undefined
        if (before === undefined) throw new UserNotFoundError(id)
        write(now)
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
