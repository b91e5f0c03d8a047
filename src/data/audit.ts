import type { Statement } from 'better-sqlite3'
import type { Db } from './database.js'

/** What an audited write says about itself. `before`/`after` are plain data (stored as JSON); null when absent. */
export interface NewAuditEntry {
  actor: string
  action: string
  entityType: string
  entityId?: string | number | null
  before?: unknown
  after?: unknown
}

export interface AuditEntry {
  id: number
  at: string
  actor: string
  action: string
  entityType: string
  entityId: string | null
  before: unknown
  after: unknown
}

export interface AuditFilter {
  entityType?: string
  entityId?: string | number
  /** Any of these entity ids (a service is audited under its id by some writes and its reference by others). */
  entityIds?: ReadonlyArray<string | number>
  actor?: string
  action?: string
  /** Inclusive lower bound: an ISO date (`2026-03-14`) or timestamp. */
  from?: string
  /** Upper bound: an ISO date includes that whole day; a timestamp is exclusive. */
  to?: string
}

export interface AuditPage extends AuditFilter {
  limit: number
  offset?: number
}

interface AuditRow {
  id: number
  at: string
  actor: string
  action: string
  entity_type: string
  entity_id: string | null
  before_json: string | null
  after_json: string | null
}

const ISO_DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/

function toJson(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value)
}

function fromJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text)
}

function nextDay(isoDate: string): string {
  const date = new Date(`${isoDate}T00:00:00Z`)
  date.setUTCDate(date.getUTCDate() + 1)
  return date.toISOString().slice(0, 10)
}

function toEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    entityType: row.entity_type,
    entityId: row.entity_id,
    before: fromJson(row.before_json),
    after: fromJson(row.after_json),
  }
}

const insertStatements = new WeakMap<Db, Statement>()

/**
 * Appends one audit entry synchronously. For other repositories to call INSIDE their own write
 * transaction, so the change and its audit entry commit (or roll back) together.
 */
export function appendAuditEntry(db: Db, entry: NewAuditEntry, at: string = new Date().toISOString()): number {
  let insert = insertStatements.get(db)
  if (insert === undefined) {
    insert = db.prepare(
      `INSERT INTO audit_log (at, actor, action, entity_type, entity_id, before_json, after_json)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    insertStatements.set(db, insert)
  }
  const result = insert.run(
      at,
      entry.actor,
      entry.action,
      entry.entityType,
      entry.entityId === undefined || entry.entityId === null ? null : String(entry.entityId),
      toJson(entry.before),
      toJson(entry.after),
    )
  return Number(result.lastInsertRowid)
}

function whereClause(filter: AuditFilter): { sql: string; params: Record<string, string> } {
  const conditions: string[] = []
  const params: Record<string, string> = {}
  if (filter.entityType !== undefined) {
    conditions.push('entity_type = @entityType')
    params.entityType = filter.entityType
  }
  if (filter.entityId !== undefined) {
    conditions.push('entity_id = @entityId')
    params.entityId = String(filter.entityId)
  }
  if (filter.entityIds !== undefined) {
    const names = filter.entityIds.map((_, i) => `@entityId${i}`)
    conditions.push(names.length === 0 ? '0' : `entity_id IN (${names.join(', ')})`)
    filter.entityIds.forEach((id, i) => (params[`entityId${i}`] = String(id)))
  }
  if (filter.actor !== undefined) {
    conditions.push('actor = @actor')
    params.actor = filter.actor
  }
  if (filter.action !== undefined) {
    conditions.push('action = @action')
    params.action = filter.action
  }
  if (filter.from !== undefined) {
    conditions.push('at >= @from')
    params.from = filter.from
  }
  if (filter.to !== undefined) {
    conditions.push('at < @to')
    params.to = ISO_DATE_ONLY.test(filter.to) ? nextDay(filter.to) : filter.to
  }
  return { sql: conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`, params }
}

/** The append-only audit log (SPEC §1: who, when, what, before, after). There is no update or delete. */
export class AuditLog {
  constructor(private readonly db: Db) {}

  /**
   * Runs `work` in one immediate transaction (joining one already open), so a write and the `recordNow` of its audit
   * entry inside it commit or roll back together. `work` must be synchronous.
   */
  inTransaction<T>(work: () => T): T {
    if (this.db.inTransaction) return work()
    return this.db.transaction(work).immediate()
  }

  /** Appends an entry at once, for use inside `inTransaction`; returns its id. */
  recordNow(entry: NewAuditEntry): number {
    return appendAuditEntry(this.db, entry)
  }

  async record(entry: NewAuditEntry): Promise<AuditEntry> {
    const at = new Date().toISOString()
    const id = appendAuditEntry(this.db, entry, at)
    return toEntry(this.db.prepare('SELECT * FROM audit_log WHERE id = ?').get(id) as AuditRow)
  }

  /** Newest first. */
  async list(page: AuditPage): Promise<AuditEntry[]> {
    const { sql, params } = whereClause(page)
    const rows = this.db
      .prepare(`SELECT * FROM audit_log ${sql} ORDER BY id DESC LIMIT @limit OFFSET @offset`)
      .all({ ...params, limit: page.limit, offset: page.offset ?? 0 }) as AuditRow[]
    return rows.map(toEntry)
  }

  async count(filter: AuditFilter = {}): Promise<number> {
    const { sql, params } = whereClause(filter)
    const row = this.db.prepare(`SELECT COUNT(*) AS n FROM audit_log ${sql}`).get(params) as { n: number }
    return row.n
  }

  /** The distinct actions recorded, for the admin filter's select. */
  async actions(): Promise<string[]> {
    const rows = this.db.prepare('SELECT DISTINCT action FROM audit_log ORDER BY action').all() as { action: string }[]
    return rows.map((row) => row.action)
  }
}
