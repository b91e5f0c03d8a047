import { sql } from 'kysely'
import { inTransaction, toExecutor, type Executor, type ExecutorSource } from './executor.js'

export interface StoredRuleSet {
  version: number
  document: unknown
  createdAt: string
  createdBy: string | null
  note: string | null
}

interface RuleSetRow {
  version: number
  document: string
  created_at: string
  created_by: string | null
  note: string | null
}

function toStored(row: RuleSetRow): StoredRuleSet {
  return {
    version: row.version,
    document: JSON.parse(row.document) as unknown,
    createdAt: row.created_at,
    createdBy: row.created_by,
    note: row.note,
  }
}

/** Versioned rule set documents. The newest version is the one in force; older ones stay for history. */
export class RuleSetRepository {
  private readonly db: Executor

  constructor(db: ExecutorSource) {
    this.db = toExecutor(db)
  }

  async current(): Promise<StoredRuleSet | null> {
    const { rows } = await sql<RuleSetRow>`SELECT * FROM rule_sets ORDER BY version DESC LIMIT 1`.execute(this.db)
    return rows[0] ? toStored(rows[0]) : null
  }

  async byVersion(version: number): Promise<StoredRuleSet | null> {
    const { rows } = await sql<RuleSetRow>`SELECT * FROM rule_sets WHERE version = ${version}`.execute(this.db)
    return rows[0] ? toStored(rows[0]) : null
  }

  async list(): Promise<StoredRuleSet[]> {
    const { rows } = await sql<RuleSetRow>`SELECT * FROM rule_sets ORDER BY version DESC`.execute(this.db)
    return rows.map(toStored)
  }

  /** Saves a new version (the caller has validated the document) and returns its number. */
  async save(document: unknown, createdBy: string | null, note: string | null = null): Promise<number> {
    return inTransaction(this.db, async (trx) => {
      const { rows } = await sql<{ v: number | null }>`SELECT MAX(version) AS v FROM rule_sets`.execute(trx)
      const version = (rows[0]?.v ?? 0) + 1
      await sql`
        INSERT INTO rule_sets (version, document, created_at, created_by, note)
        VALUES (${version}, ${JSON.stringify(document)}, ${new Date().toISOString()}, ${createdBy}, ${note})`.execute(
        trx,
      )
      return version
    })
  }

  /** Stores `document` as version 1 when no rule set exists yet. */
  async ensureInitial(document: unknown): Promise<void> {
    if (!(await this.current())) await this.save(document, 'system', 'Default rule set (SPEC §3)')
  }
}
