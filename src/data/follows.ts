import { appendAuditEntry } from './audit.js'
import type { Db } from './database.js'
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
  private readonly statements

  constructor(private readonly db: Db) {
    this.statements = {
      insert: db.prepare<{ userId: number; serviceId: number; now: string }>(
        `INSERT INTO service_follows (user_id, service_id, created_at) VALUES (@userId, @serviceId, @now)
         ON CONFLICT (user_id, service_id) DO NOTHING`,
      ),
      remove: db.prepare<[number, number]>('DELETE FROM service_follows WHERE user_id = ? AND service_id = ?'),
      isFollowing: db.prepare<[number, number], { n: number }>(
        'SELECT COUNT(*) AS n FROM service_follows WHERE user_id = ? AND service_id = ?',
      ),
      followerCount: db.prepare<[number], { n: number }>(
        'SELECT COUNT(*) AS n FROM service_follows WHERE service_id = ?',
      ),
      followedBy: db.prepare<
        [number],
        { service_id: number; ref: string; name: string; provider_name: string; created_at: string }
      >(
        `SELECT f.service_id, s.ref, s.name, p.name AS provider_name, f.created_at
         FROM service_follows f JOIN services s ON s.id = f.service_id JOIN providers p ON p.id = s.provider_id
         WHERE f.user_id = ? ORDER BY lower(s.name), s.ref`,
      ),
      followers: db.prepare<[], { user_id: number; email: string; role: string; service_id: number }>(
        `SELECT u.id AS user_id, u.email, u.role, f.service_id
         FROM service_follows f JOIN users u ON u.id = f.user_id
         WHERE u.disabled = 0 AND u.role IN (${FOLLOWER_ROLES.map((r) => `'${r}'`).join(', ')})
         ORDER BY u.id, f.service_id`,
      ),
    }
  }

  /** Follows a service; following it again changes nothing. Returns whether a follow was added. */
  async follow(userId: number, serviceId: number, actor: string): Promise<boolean> {
    return this.db
      .transaction(() => {
        const now = new Date().toISOString()
        const added = this.statements.insert.run({ userId, serviceId, now }).changes === 1
        if (added) {
          appendAuditEntry(
            this.db,
            { actor, action: 'service.follow', entityType: 'service', entityId: serviceId, after: { userId } },
            now,
          )
        }
        return added
      })
      .immediate()
  }

  /** Stops following; returns whether there was a follow to remove. */
  async unfollow(userId: number, serviceId: number, actor: string): Promise<boolean> {
    return this.db
      .transaction(() => {
        const removed = this.statements.remove.run(userId, serviceId).changes === 1
        if (removed) {
          appendAuditEntry(this.db, {
            actor,
            action: 'service.unfollow',
            entityType: 'service',
            entityId: serviceId,
            before: { userId },
          })
        }
        return removed
      })
      .immediate()
  }

  async isFollowing(userId: number, serviceId: number): Promise<boolean> {
    return (this.statements.isFollowing.get(userId, serviceId)?.n ?? 0) > 0
  }

  async followerCount(serviceId: number): Promise<number> {
    return this.statements.followerCount.get(serviceId)?.n ?? 0
  }

  async followedBy(userId: number): Promise<FollowedService[]> {
    return this.statements.followedBy.all(userId).map((row) => ({
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
    for (const row of this.statements.followers.iterate()) {
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
  private readonly statements

  constructor(private readonly db: Db) {
    this.statements = {
      claim: db.prepare<{ runId: number; userId: number; recipient: string; now: string }>(
        `INSERT INTO digest_log (run_id, user_id, recipient, status, created_at, updated_at)
         VALUES (@runId, @userId, @recipient, 'sending', @now, @now)
         ON CONFLICT (run_id, user_id) DO UPDATE SET status = 'sending', recipient = excluded.recipient,
           error = NULL, updated_at = excluded.updated_at
         WHERE digest_log.status = 'failed'`,
      ),
      finish: db.prepare<{
        runId: number
        userId: number
        status: DigestStatus
        subject: string | null
        itemCount: number
        messageId: string | null
        error: string | null
        now: string
      }>(
        `UPDATE digest_log SET status = @status, subject = @subject, item_count = @itemCount, message_id = @messageId,
           error = @error, updated_at = @now
         WHERE run_id = @runId AND user_id = @userId`,
      ),
      forRun: db.prepare<[number], DigestLogRow>('SELECT * FROM digest_log WHERE run_id = ? ORDER BY user_id'),
      previousFullRun: db.prepare<[number], { id: number }>(
        `SELECT id FROM refresh_runs WHERE kind = 'full' AND published_at IS NOT NULL AND id < ?
         ORDER BY id DESC LIMIT 1`,
      ),
      redChanges: db.prepare<
        [number, number, number, number],
        {
          service_id: number
          ref: string
          name: string
          provider_name: string
          from_rag: Rag | null
          at: string
          reasons: string
        }
      >(
        // The latest change into Red in the window, for services still Red now.
        `SELECT rc.service_id, s.ref, s.name, p.name AS provider_name, rc.from_rag, rc.at, rc.reasons
         FROM rag_changes rc
         JOIN services s ON s.id = rc.service_id
         JOIN providers p ON p.id = s.provider_id
         JOIN current_snapshots c ON c.service_id = rc.service_id AND c.rag = 'red'
         WHERE rc.run_id > ? AND rc.run_id <= ? AND rc.to_rag = 'red' AND (rc.from_rag IS NULL OR rc.from_rag <> 'red')
           AND rc.id = (SELECT MAX(rc2.id) FROM rag_changes rc2
                        WHERE rc2.service_id = rc.service_id AND rc2.run_id > ? AND rc2.run_id <= ? AND rc2.to_rag = 'red')
         ORDER BY lower(s.name), s.ref`,
      ),
    }
  }

  /**
   * Claims the digest of a run for an officer: true when this caller should send it (never claimed, or the last
   * attempt failed); false when it was already sent, is being sent, or had nothing to say.
   */
  async claim(runId: number, userId: number, recipient: string): Promise<boolean> {
    const result = this.statements.claim.run({ runId, userId, recipient, now: new Date().toISOString() })
    return result.changes === 1
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
    this.db
      .transaction(() => {
        const now = new Date().toISOString()
        this.statements.finish.run({
          runId,
          userId,
          status: outcome.status,
          subject: outcome.subject ?? null,
          itemCount: outcome.itemCount ?? 0,
          messageId: outcome.messageId ?? null,
          error: outcome.error ?? null,
          now,
        })
        if (outcome.status === 'sent') {
          appendAuditEntry(
            this.db,
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
      .immediate()
  }

  async forRun(runId: number): Promise<DigestLogEntry[]> {
    return this.statements.forRun.all(runId).map(toLogEntry)
  }

  /** The published full run before this one (0 when there is none): the digest reports what changed since. */
  async previousFullRunId(runId: number): Promise<number> {
    return this.statements.previousFullRun.get(runId)?.id ?? 0
  }

  /** Services that turned Red in runs after `afterRunId` up to `uptoRunId`, and are still Red. */
  async redChanges(afterRunId: number, uptoRunId: number): Promise<RedChange[]> {
    return this.statements.redChanges.all(afterRunId, uptoRunId, afterRunId, uptoRunId).map((row) => ({
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
