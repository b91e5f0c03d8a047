import { sql } from 'kysely'
import { recordAuditEntry } from './audit.js'
import { changes, inTransaction, toExecutor, type Executor, type ExecutorSource } from './executor.js'
import type { Rag } from '../domain/vocabulary.js'

/** Roles that may follow services and receive the morning digest. */
export const FOLLOWER_ROLES = ['compliance', 'admin'] as const

export interface Follower {
  userId: number
  email: string
  role: string
  serviceIds: number[]
}

export interface FollowedService {
  serviceId: number
  ref: string
  name: string
  providerName: string
  followedAt: string
}

/** Who follows which services (the morning digest's subscriptions). Every change is audited. */
export class FollowRepository {
  private readonly db: Executor

  constructor(db: ExecutorSource) {
    this.db = toExecutor(db)
  }

  /** Follows a service; following it again changes nothing. Returns whether a follow was added. */
  async follow(userId: number, serviceId: number, actor: string): Promise<boolean> {
    return inTransaction(this.db, async (trx) => {
      const now = new Date().toISOString()
      const inserted = await sql`
        INSERT INTO service_follows (user_id, service_id, created_at) VALUES (${userId}, ${serviceId}, ${now})
        ON CONFLICT (user_id, service_id) DO NOTHING`.execute(trx)
      const added = changes(inserted) === 1
      if (added) {
        await recordAuditEntry(
          trx,
          { actor, action: 'service.follow', entityType: 'service', entityId: serviceId, after: { userId } },
          now,
        )
      }
      return added
    })
  }

  /** Stops following; returns whether there was a follow to remove. */
  async unfollow(userId: number, serviceId: number, actor: string): Promise<boolean> {
    return inTransaction(this.db, async (trx) => {
      const deleted = await sql`
        DELETE FROM service_follows WHERE user_id = ${userId} AND service_id = ${serviceId}`.execute(trx)
      const removed = changes(deleted) === 1
      if (removed) {
        await recordAuditEntry(trx, {
          actor,
          action: 'service.unfollow',
          entityType: 'service',
          entityId: serviceId,
          before: { userId },
        })
      }
      return removed
    })
  }

  async isFollowing(userId: number, serviceId: number): Promise<boolean> {
    const { rows } = await sql<{ n: number | string }>`
      SELECT COUNT(*) AS n FROM service_follows WHERE user_id = ${userId} AND service_id = ${serviceId}`.execute(this.db)
    return Number(rows[0]?.n ?? 0) > 0
  }

  async followerCount(serviceId: number): Promise<number> {
    const { rows } = await sql<{ n: number | string }>`
      SELECT COUNT(*) AS n FROM service_follows WHERE service_id = ${serviceId}`.execute(this.db)
    return Number(rows[0]?.n ?? 0)
  }

  async followedBy(userId: number): Promise<FollowedService[]> {
    const { rows } = await sql<{ service_id: number; ref: string; name: string; provider_name: string; created_at: string }>`
      SELECT f.service_id, s.ref, s.name, p.name AS provider_name, f.created_at
      FROM service_follows f JOIN services s ON s.id = f.service_id JOIN providers p ON p.id = s.provider_id
      WHERE f.user_id = ${userId} ORDER BY LOWER(s.name), s.ref`.execute(this.db)
    return rows.map((row) => ({
      serviceId: row.service_id,
      ref: row.ref,
      name: row.name,
      providerName: row.provider_name,
      followedAt: row.created_at,
    }))
  }

  /** Enabled users of a follower role with the services they follow. */
  async followers(): Promise<Follower[]> {
    const byUser = new Map<number, Follower>()
    const { rows } = await sql<{ user_id: number; email: string; role: string; service_id: number }>`
      SELECT u.id AS user_id, u.email, u.role, f.service_id
      FROM service_follows f JOIN users u ON u.id = f.user_id
      WHERE u.disabled = 0 AND u.role IN (${sql.join([...FOLLOWER_ROLES])})
      ORDER BY u.id, f.service_id`.execute(this.db)
    for (const row of rows) {
      let follower = byUser.get(row.user_id)
      if (!follower) {
        follower = { userId: row.user_id, email: row.email, role: row.role, serviceIds: [] }
        byUser.set(row.user_id, follower)
      }
      follower.serviceIds.push(row.service_id)
    }
    return [...byUser.values()]
  }
}

export type DigestStatus = 'sending' | 'sent' | 'failed' | 'empty'

export interface DigestLogEntry {
  runId: number
  userId: number
  recipient: string
  status: DigestStatus
  subject: string | null
  itemCount: number
  messageId: string | null
  error: string | null
  createdAt: string
  updatedAt: string
}

export interface RedChange {
  serviceId: number
  ref: string
  name: string
  providerName: string
  fromRag: Rag | null
  at: string
  reasons: string[]
}

interface DigestLogRow {
  run_id: number
  user_id: number
  recipient: string
  status: DigestStatus
  subject: string | null
  item_count: number
  message_id: string | null
  error: string | null
  created_at: string
  updated_at: string
}

function toLogEntry(row: DigestLogRow): DigestLogEntry {
  return {
    runId: row.run_id,
    userId: row.user_id,
    recipient: row.recipient,
    status: row.status,
    subject: row.subject,
    itemCount: row.item_count,
    messageId: row.message_id,
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

/** The digest's log (one row per officer per run) and the run-window queries it reports from. */
export class DigestRepository {
  private readonly db: Executor

  constructor(db: ExecutorSource) {
    this.db = toExecutor(db)
  }

  /**
   * Claims the digest of a run for an officer: true when this caller should send it (never claimed, or the last
   * attempt failed); false when it was already sent, is being sent, or had nothing to say.
   */
  async claim(runId: number, userId: number, recipient: string): Promise<boolean> {
    const now = new Date().toISOString()
    const result = await sql`
      INSERT INTO digest_log (run_id, user_id, recipient, status, created_at, updated_at)
      VALUES (${runId}, ${userId}, ${recipient}, 'sending', ${now}, ${now})
      ON CONFLICT (run_id, user_id) DO UPDATE SET status = 'sending', recipient = excluded.recipient,
        error = NULL, updated_at = excluded.updated_at
      WHERE digest_log.status = 'failed'`.execute(this.db)
    return changes(result) === 1
  }

  async finish(
    runId: number,
    userId: number,
    outcome: {
      status: Exclude<DigestStatus, 'sending'>
      subject?: string | null
      itemCount?: number
      messageId?: string | null
      error?: string | null
    },
  ): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      const now = new Date().toISOString()
      await sql`
        UPDATE digest_log SET status = ${outcome.status}, subject = ${outcome.subject ?? null},
          item_count = ${outcome.itemCount ?? 0}, message_id = ${outcome.messageId ?? null},
          error = ${outcome.error ?? null}, updated_at = ${now}
        WHERE run_id = ${runId} AND user_id = ${userId}`.execute(trx)
      if (outcome.status === 'sent') {
        await recordAuditEntry(
          trx,
          {
            actor: 'system:digest',
            action: 'digest.send',
            entityType: 'user',
            entityId: userId,
            after: { runId, subject: outcome.subject ?? null, items: outcome.itemCount ?? 0 },
          },
          now,
        )
      }
    })
  }

  async forRun(runId: number): Promise<DigestLogEntry[]> {
    const { rows } = await sql<DigestLogRow>`
      SELECT * FROM digest_log WHERE run_id = ${runId} ORDER BY user_id`.execute(this.db)
    return rows.map(toLogEntry)
  }

  /** The published full run before this one (0 when there is none): the digest reports what changed since. */
  async previousFullRunId(runId: number): Promise<number> {
    const { rows } = await sql<{ id: number }>`
      SELECT id FROM refresh_runs WHERE kind = 'full' AND published_at IS NOT NULL AND id < ${runId}
      ORDER BY id DESC LIMIT 1`.execute(this.db)
    return rows[0]?.id ?? 0
  }

  /** Services that turned Red in runs after `afterRunId` up to `uptoRunId`, and are still Red. */
  async redChanges(afterRunId: number, uptoRunId: number): Promise<RedChange[]> {
    // The latest change into Red in the window, for services still Red now.
    const { rows } = await sql<{
      service_id: number
      ref: string
      name: string
      provider_name: string
      from_rag: Rag | null
      at: string
      reasons: string
    }>`
      SELECT rc.service_id, s.ref, s.name, p.name AS provider_name, rc.from_rag, rc.at, rc.reasons
      FROM rag_changes rc
      JOIN services s ON s.id = rc.service_id
      JOIN providers p ON p.id = s.provider_id
      JOIN current_snapshots c ON c.service_id = rc.service_id AND c.rag = 'red'
      WHERE rc.run_id > ${afterRunId} AND rc.run_id <= ${uptoRunId} AND rc.to_rag = 'red'
        AND (rc.from_rag IS NULL OR rc.from_rag <> 'red')
        AND rc.id = (SELECT MAX(rc2.id) FROM rag_changes rc2
                     WHERE rc2.service_id = rc.service_id AND rc2.run_id > ${afterRunId} AND rc2.run_id <= ${uptoRunId}
                       AND rc2.to_rag = 'red')
      ORDER BY LOWER(s.name), s.ref`.execute(this.db)
    return rows.map((row) => ({
      serviceId: row.service_id,
      ref: row.ref,
      name: row.name,
      providerName: row.provider_name,
      fromRag: row.from_rag,
      at: row.at,
      reasons: JSON.parse(row.reasons) as string[],
    }))
  }
}
