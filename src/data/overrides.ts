import type { ActiveOverride } from '../domain/riskResult.js'
import type { Rag } from '../domain/vocabulary.js'
import { sql } from 'kysely'
import { recordAuditEntry } from './audit.js'
import { inTransaction, changes, toExecutor, type Executor, type ExecutorSource } from './executor.js'

/** A manual override of a service's overall RAG, as stored (active, expired or revoked). */
export interface RagOverride {
  id: number
  serviceId: number
  rag: Rag
  reason: string
  /** ISO date; the override applies up to and including this day. */
  expiresOn: string
  setBy: string
  setAt: string
  revokedAt: string | null
  revokedBy: string | null
  revokeReason: string | null
}

export interface NewOverride {
  serviceId: number
  rag: Rag
  reason: string
  expiresOn: string
}

/** An override with the service it is about, for lists across services (the morning page). */
export interface RagOverrideWithService extends RagOverride {
  serviceRef: string
  serviceName: string
}

export interface SetOverrideOutcome {
  override: RagOverride
  /** The service's earlier active override, revoked by this one; null when there was none. */
  replaced: RagOverride | null
}

interface OverrideRow {
  id: number
  service_id: number
  rag: Rag
  reason: string
  expires_on: string
  set_by: string
  set_at: string
  revoked_at: string | null
  revoked_by: string | null
  revoke_reason: string | null
}

interface OverrideWithServiceRow extends OverrideRow {
  service_ref: string
  service_name: string
}

const REPLACED_REASON = 'Replaced by a new override'

function toOverride(row: OverrideRow): RagOverride {
  return {
    id: row.id,
    serviceId: row.service_id,
    rag: row.rag,
    reason: row.reason,
    expiresOn: row.expires_on,
    setBy: row.set_by,
    setAt: row.set_at,
    revokedAt: row.revoked_at,
    revokedBy: row.revoked_by,
    revokeReason: row.revoke_reason,
  }
}

/** What the audit log keeps of an override. */
function auditView(override: RagOverride): Record<string, unknown> {
  return {
    overrideId: override.id,
    rag: override.rag,
    reason: override.reason,
    expiresOn: override.expiresOn,
    revokedAt: override.revokedAt,
    revokeReason: override.revokeReason,
  }
}

async function byId(db: Executor, id: number): Promise<OverrideRow | undefined> {
  return (await sql<OverrideRow>`SELECT * FROM rag_overrides WHERE id = ${id}`.execute(db)).rows[0]
}

async function activeRowForService(db: Executor, serviceId: number, asOf: string): Promise<OverrideRow | undefined> {
  const { rows } = await sql<OverrideRow>`
    SELECT * FROM rag_overrides WHERE service_id = ${serviceId} AND revoked_at IS NULL AND expires_on >= ${asOf}
    ORDER BY id DESC`.execute(db)
  return rows[0]
}

async function revokeRow(db: Executor, id: number, now: string, actor: string, reason: string | null): Promise<number> {
  return changes(
    await sql`
      UPDATE rag_overrides SET revoked_at = ${now}, revoked_by = ${actor}, revoke_reason = ${reason}
      WHERE id = ${id} AND revoked_at IS NULL`.execute(db),
  )
}

/**
 * Manual RAG overrides (SPEC §3). Every write is audited against the service (entity type 'service'), in the same
 * transaction. Implements the risk engine's OverrideLookup (`activeFor`).
 */
export class OverridesRepository {
  private readonly db: Executor

  constructor(db: ExecutorSource) {
    this.db = toExecutor(db)
  }

  /**
   * Sets an override (audited as `override.set`), revoking the service's earlier active one as of `asOf` in the same
   * transaction. Validation (reason, expiry window) is the caller's; the table only refuses an unknown RAG.
   */
  async set(input: NewOverride, actor: string, asOf: string): Promise<SetOverrideOutcome> {
    const now = new Date().toISOString()
    return inTransaction(this.db, async (trx): Promise<SetOverrideOutcome> => {
      const previous = await activeRowForService(trx, input.serviceId, asOf)
      let replaced: RagOverride | null = null
      if (previous) {
        await revokeRow(trx, previous.id, now, actor, REPLACED_REASON)
        replaced = toOverride((await byId(trx, previous.id)) as OverrideRow)
      }
      const { rows } = await sql<OverrideRow>`
        INSERT INTO rag_overrides (service_id, rag, reason, expires_on, set_by, set_at)
        VALUES (${input.serviceId}, ${input.rag}, ${input.reason}, ${input.expiresOn}, ${actor}, ${now})
        RETURNING *`.execute(trx)
      const override = toOverride(rows[0] as OverrideRow)
      await recordAuditEntry(
        trx,
        {
          actor,
          action: 'override.set',
          entityType: 'service',
          entityId: input.serviceId,
          before: replaced ? auditView(replaced) : null,
          after: auditView(override),
        },
        now,
      )
      return { override, replaced }
    })
  }

  /**
   * Revokes an override early (audited as `override.revoked`). Returns the override as revoked, the override unchanged
   * when it was already revoked (not audited again), or undefined when there is no such override.
   */
  async revoke(id: number, actor: string, reason: string | null = null): Promise<RagOverride | undefined> {
    const now = new Date().toISOString()
    return inTransaction(this.db, async (trx): Promise<RagOverride | undefined> => {
      const before = await byId(trx, id)
      if (!before) return undefined
      if ((await revokeRow(trx, id, now, actor, reason)) === 0) return toOverride(before)
      const after = toOverride((await byId(trx, id)) as OverrideRow)
      await recordAuditEntry(
        trx,
        {
          actor,
          action: 'override.revoked',
          entityType: 'service',
          entityId: before.service_id,
          before: auditView(toOverride(before)),
          after: auditView(after),
        },
        now,
      )
      return after
    })
  }

  async findById(id: number): Promise<RagOverride | undefined> {
    const row = await byId(this.db, id)
    return row && toOverride(row)
  }

  /** The risk engine's lookup: each service's newest override not revoked and not expired as of `asOf`. */
  async activeFor(serviceIds: number[], asOf: string): Promise<Map<number, ActiveOverride>> {
    const wanted = new Set(serviceIds)
    const active = new Map<number, ActiveOverride>()
    // Few overrides are active at once, so reading them all beats a long IN list for a batch of a thousand services.
    const { rows } = await sql<OverrideRow>`
      SELECT * FROM rag_overrides WHERE revoked_at IS NULL AND expires_on >= ${asOf} ORDER BY id`.execute(this.db)
    for (const row of rows) {
      if (!wanted.has(row.service_id)) continue
      active.set(row.service_id, { rag: row.rag, reason: row.reason, expiresOn: row.expires_on, setBy: row.set_by })
    }
    return active
  }

  /** The service's override in force as of `asOf`, if any. */
  async activeForService(serviceId: number, asOf: string): Promise<RagOverride | undefined> {
    const row = await activeRowForService(this.db, serviceId, asOf)
    return row && toOverride(row)
  }

  /** Every override of the service, newest first. */
  async listForService(serviceId: number): Promise<RagOverride[]> {
    const { rows } = await sql<OverrideRow>`
      SELECT * FROM rag_overrides WHERE service_id = ${serviceId} ORDER BY id DESC`.execute(this.db)
    return rows.map(toOverride)
  }

  /** Overrides in force that expire between the two ISO dates (inclusive), soonest first. */
  async expiringBetween(from: string, to: string): Promise<RagOverrideWithService[]> {
    const { rows } = await sql<OverrideWithServiceRow>`
      SELECT o.*, s.ref AS service_ref, s.name AS service_name
      FROM rag_overrides o JOIN services s ON s.id = o.service_id
      WHERE o.revoked_at IS NULL AND o.expires_on >= ${from} AND o.expires_on <= ${to}
      ORDER BY o.expires_on, s.name, o.id`.execute(this.db)
    return rows.map((row) => ({ ...toOverride(row), serviceRef: row.service_ref, serviceName: row.service_name }))
  }
}
