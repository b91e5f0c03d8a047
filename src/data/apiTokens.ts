import { createHash, randomBytes } from 'node:crypto'
import type { Role } from '../auth/roles.js'
import { writeIfNotBusy } from './advisoryWrite.js'
import { appendAuditEntry } from './audit.js'
import type { Db } from './database.js'

export interface ApiToken {
  id: number
  name: string
  role: Role
  createdAt: string
  createdBy: string
  lastUsedAt: string | null
  revokedAt: string | null
  revokedBy: string | null
}

export interface NewApiToken {
  name: string
  role: Role
}

/** A token as created: `secret` is the bearer token, shown once and never stored. */
export interface IssuedApiToken {
  token: ApiToken
  secret: string
}

interface ApiTokenRow {
  id: number
  name: string
  role: Role
  token_hash: string
  created_at: string
  created_by: string
  last_used_at: string | null
  revoked_at: string | null
  revoked_by: string | null
}

const TOKEN_PREFIX = 'prd_'
/** Last-used stamps are coarse, so a busy script does not turn every read into a write. */
const LAST_USED_RESOLUTION_MS = 60_000

/** 32 random bytes, base64url, with a prefix so secret scanners and people can recognise it. */
export function generateTokenSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url')
}

export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}

function toToken(row: ApiTokenRow): ApiToken {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    createdAt: row.created_at,
    createdBy: row.created_by,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
    revokedBy: row.revoked_by,
  }
}

function auditView(token: ApiToken): Record<string, unknown> {
  return { name: token.name, role: token.role, revokedAt: token.revokedAt }
}

export class ApiTokensRepository {
  private readonly statements

  constructor(private readonly db: Db) {
    this.statements = {
      byId: db.prepare('SELECT * FROM api_tokens WHERE id = ?'),
      activeByHash: db.prepare('SELECT * FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL'),
      all: db.prepare('SELECT * FROM api_tokens ORDER BY id'),
      insert: db.prepare(
        `INSERT INTO api_tokens (name, role, token_hash, created_at, created_by)
         VALUES (@name, @role, @tokenHash, @now, @actor)`,
      ),
      revoke: db.prepare('UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL'),
      touch: db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?'),
    }
  }

  /** Creates a token (audited as `api_token.created`) and returns its secret, the only time it is available. */
  async create(newToken: NewApiToken, actor: string): Promise<IssuedApiToken> {
    const secret = generateTokenSecret()
    const now = new Date().toISOString()
    const token = this.db
      .transaction(() => {
        const result = this.statements.insert.run({
          name: newToken.name,
          role: newToken.role,
          tokenHash: hashTokenSecret(secret),
          now,
          actor,
        })
        const created = toToken(this.statements.byId.get(result.lastInsertRowid) as ApiTokenRow)
        appendAuditEntry(
          this.db,
          { actor, action: 'api_token.created', entityType: 'api_token', entityId: created.id, after: auditView(created) },
          now,
        )
        return created
      })
      .immediate()
    return { token, secret }
  }

  /** The live (not revoked) token with this secret, if any. */
  async findActiveBySecret(secret: string): Promise<ApiToken | undefined> {
    const row = this.statements.activeByHash.get(hashTokenSecret(secret)) as ApiTokenRow | undefined
    return row && toToken(row)
  }

  async findById(id: number): Promise<ApiToken | undefined> {
    const row = this.statements.byId.get(id) as ApiTokenRow | undefined
    return row && toToken(row)
  }

  async list(): Promise<ApiToken[]> {
    return (this.statements.all.all() as ApiTokenRow[]).map(toToken)
  }

  /**
   * Revokes a token (audited as `api_token.revoked`). Returns the token as revoked, or undefined when there
   * is no such token. Revoking a revoked token changes nothing and is not audited again.
   */
  async revoke(id: number, actor: string): Promise<ApiToken | undefined> {
    const now = new Date().toISOString()
    return this.db
      .transaction(() => {
        const before = this.statements.byId.get(id) as ApiTokenRow | undefined
        if (before === undefined) return undefined
        if (this.statements.revoke.run(now, actor, id).changes === 0) return toToken(before)
        const after = toToken(this.statements.byId.get(id) as ApiTokenRow)
        appendAuditEntry(
          this.db,
          {
            actor,
            action: 'api_token.revoked',
            entityType: 'api_token',
            entityId: id,
            before: auditView(toToken(before)),
            after: auditView(after),
          },
          now,
        )
        return after
      })
      .immediate()
  }

  /** Records that the token was used (not audited: it is a read). */
  async markUsed(token: ApiToken, at: Date = new Date()): Promise<void> {
    const last = token.lastUsedAt === null ? 0 : Date.parse(token.lastUsedAt)
    if (at.getTime() - last < LAST_USED_RESOLUTION_MS) return
    // Advisory: when a refresh holds the write lock, the next request records it instead of this one waiting.
    writeIfNotBusy(this.db, () => this.statements.touch.run(at.toISOString(), token.id))
  }
}
