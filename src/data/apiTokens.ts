import { createHash, randomBytes } from 'node:crypto'
import type { Role } from '../auth/roles.js'
import { sql } from 'kysely'
import { recordAuditEntry } from './audit.js'
import { changes, inTransaction, toExecutor, type Executor, type ExecutorSource } from './executor.js'
import type { Platform } from './platform.js'
import { platformFor } from './platformFor.js'

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

const selectToken = (db: Executor, id: number) =>
  sql<ApiTokenRow>`SELECT * FROM api_tokens WHERE id = ${id}`.execute(db).then(({ rows }) => rows[0])

export class ApiTokensRepository {
  private readonly db: Executor
  private readonly platform: Platform

  constructor(db: ExecutorSource, platform?: Platform) {
    this.db = toExecutor(db)
    this.platform = platformFor(db, platform)
  }

  /** Creates a token (audited as `api_token.created`) and returns its secret, the only time it is available. */
  async create(newToken: NewApiToken, actor: string): Promise<IssuedApiToken> {
    const secret = generateTokenSecret()
    const now = new Date().toISOString()
    const token = await inTransaction(this.db, async (trx) => {
      const { rows } = await sql<ApiTokenRow>`
        INSERT INTO api_tokens (name, role, token_hash, created_at, created_by)
        VALUES (${newToken.name}, ${newToken.role}, ${hashTokenSecret(secret)}, ${now}, ${actor})
        RETURNING *`.execute(trx)
      const created = toToken(rows[0] as ApiTokenRow)
      await recordAuditEntry(
        trx,
        { actor, action: 'api_token.created', entityType: 'api_token', entityId: created.id, after: auditView(created) },
        now,
      )
      return created
    })
    return { token, secret }
  }

  /** The live (not revoked) token with this secret, if any. */
  async findActiveBySecret(secret: string): Promise<ApiToken | undefined> {
    const { rows } = await sql<ApiTokenRow>`
      SELECT * FROM api_tokens WHERE token_hash = ${hashTokenSecret(secret)} AND revoked_at IS NULL`.execute(this.db)
    return rows[0] && toToken(rows[0])
  }

  async findById(id: number): Promise<ApiToken | undefined> {
    const row = await selectToken(this.db, id)
    return row && toToken(row)
  }

  async list(): Promise<ApiToken[]> {
    const { rows } = await sql<ApiTokenRow>`SELECT * FROM api_tokens ORDER BY id`.execute(this.db)
    return rows.map(toToken)
  }

  /**
   * Revokes a token (audited as `api_token.revoked`). Returns the token as revoked, or undefined when there
   * is no such token. Revoking a revoked token changes nothing and is not audited again.
   */
  async revoke(id: number, actor: string): Promise<ApiToken | undefined> {
    const now = new Date().toISOString()
    return inTransaction(this.db, async (trx) => {
      const before = await selectToken(trx, id)
      if (before === undefined) return undefined
      const revoked = await sql`
        UPDATE api_tokens SET revoked_at = ${now}, revoked_by = ${actor}
        WHERE id = ${id} AND revoked_at IS NULL`.execute(trx)
      if (changes(revoked) === 0) return toToken(before)
      const after = toToken((await selectToken(trx, id)) as ApiTokenRow)
      await recordAuditEntry(
        trx,
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
  }

  /** Records that the token was used (not audited: it is a read). */
  async markUsed(token: ApiToken, at: Date = new Date()): Promise<void> {
    const last = token.lastUsedAt === null ? 0 : Date.parse(token.lastUsedAt)
    if (at.getTime() - last < LAST_USED_RESOLUTION_MS) return
    // Advisory: when a refresh holds the write lock, the next request records it instead of this one waiting.
    await this.platform.writeIfNotBusy(this.db, async (db) =>
      changes(await sql`UPDATE api_tokens SET last_used_at = ${at.toISOString()} WHERE id = ${token.id}`.execute(db)),
    )
  }
}
