import type { Statement } from 'better-sqlite3'
import { sql, type RawBuilder } from 'kysely'
import type { Db } from './database.js'
import { toExecutor, type Executor, type ExecutorSource } from './executor.js'

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

/**
 * Appends one audit entry synchronously on a raw handle, for repositories not yet on the store seam to call inside
 * their own write transaction. Converted repositories use `recordAuditEntry`.
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
  const result = insert.run(at, entry.actor, entry.action, entry.entityType, entityIdOf(entry), toJson(entry.before), toJson(entry.after))
  return Number(result.lastInsertRowid)
}

const insertStatements = new WeakMap<Db, Statement>()

function entityIdOf(entry: NewAuditEntry): string | null {
  return entry.entityId === undefined || entry.entityId === null ? null : String(entry.entityId)
}

/**
 * Appends one audit entry on `db` and returns it. Called on a transaction (a repository's write, `Store.write`), the
 * entry commits or rolls back with the change it describes.
 */
export async function recordAuditEntry(
  db: Executor,
  entry: NewAuditEntry,
  at: string = new Date().toISOString(),
): Promise<AuditEntry> {
  const { rows } = await sql<AuditRow>`
    INSERT INTO audit_log (at, actor, action, entity_type, entity_id, before_json, after_json)
    VALUES (${at}, ${entry.actor}, ${entry.action}, ${entry.entityType}, ${entityIdOf(entry)}, ${toJson(entry.before)},
      ${toJson(entry.after)})
    RETURNING *`.execute(db)
  return toEntry(rows[0] as AuditRow)
}

function whereClause(filter: AuditFilter): RawBuilder<unknown> {
  const conditions: RawBuilder<unknown>[] = []
  if (filter.entityType !== undefined) conditions.push(sql`entity_type = ${filter.entityType}`)
  if (filter.entityId !== undefined) conditions.push(sql`entity_id = ${String(filter.entityId)}`)
  if (filter.entityIds !== undefined) {
    conditions.push(
      filter.entityIds.length === 0 ? sql`1 = 0` : sql`entity_id IN (${sql.join(filter.entityIds.map(String))})`,
    )
  }
  if (filter.actor !== undefined) conditions.push(sql`actor = ${filter.actor}`)
  if (filter.action !== undefined) conditions.push(sql`action = ${filter.action}`)
  if (filter.from !== undefined) conditions.push(sql`at >= ${filter.from}`)
  if (filter.to !== undefined) {
    conditions.push(sql`at < ${ISO_DATE_ONLY.test(filter.to) ? nextDay(filter.to) : filter.to}`)
  }
  return conditions.length === 0 ? sql`` : sql`WHERE ${sql.join(conditions, sql` AND `)}`
}

/** The append-only audit log (SPEC §1: who, when, what, before, after). There is no update or delete. */
export class AuditLog {
  private readonly db: Executor

  constructor(db: ExecutorSource) {
    this.db = toExecutor(db)
  }

  /** Appends an entry, at `at` (now unless given). Inside `Store.write` it commits with the rest of the write. */
  async record(entry: NewAuditEntry, at: string = new Date().toISOString()): Promise<AuditEntry> {
    return recordAuditEntry(this.db, entry, at)
  }

  /** Newest first. */
  async list(page: AuditPage): Promise<AuditEntry[]> {
    const { rows } = await sql<AuditRow>`
      SELECT * FROM audit_log ${whereClause(page)} ORDER BY id DESC LIMIT ${page.limit} OFFSET ${page.offset ?? 0}`.execute(
      this.db,
    )
    return rows.map(toEntry)
  }

  async count(filter: AuditFilter = {}): Promise<number> {
    const { rows } = await sql<{ n: number | string }>`
      SELECT COUNT(*) AS n FROM audit_log ${whereClause(filter)}`.execute(this.db)
    return Number(rows[0]?.n ?? 0)
  }

  /** The distinct actions recorded, for the admin filter's select. */
  async actions(): Promise<string[]> {
    const { rows } = await sql<{ action: string }>`SELECT DISTINCT action FROM audit_log ORDER BY action`.execute(
      this.db,
    )
    return rows.map((row) => row.action)
  }
}
