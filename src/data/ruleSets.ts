import type { Db } from './database.js'

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
  private readonly statements

  constructor(private readonly db: Db) {
    this.statements = {
      latest: db.prepare<[], RuleSetRow>('SELECT * FROM rule_sets ORDER BY version DESC LIMIT 1'),
      byVersion: db.prepare<[number], RuleSetRow>('SELECT * FROM rule_sets WHERE version = ?'),
      list: db.prepare<[], RuleSetRow>('SELECT * FROM rule_sets ORDER BY version DESC'),
      insert: db.prepare(
        `INSERT INTO rule_sets (version, document, created_at, created_by, note)
         VALUES (@version, @document, @now, @createdBy, @note)`,
      ),
      maxVersion: db.prepare<[], { v: number | null }>('SELECT MAX(version) AS v FROM rule_sets'),
    }
  }

  async current(): Promise<StoredRuleSet | null> {
    const row = this.statements.latest.get()
    return row ? toStored(row) : null
  }

  async byVersion(version: number): Promise<StoredRuleSet | null> {
    const row = this.statements.byVersion.get(version)
    return row ? toStored(row) : null
  }

  async list(): Promise<StoredRuleSet[]> {
    return this.statements.list.all().map(toStored)
  }

  /** Saves a new version (the caller has validated the document) and returns its number. */
  async save(document: unknown, createdBy: string | null, note: string | null = null): Promise<number> {
    return this.db
      .transaction(() => {
        const version = (this.statements.maxVersion.get()?.v ?? 0) + 1
        this.statements.insert.run({
          version,
          document: JSON.stringify(document),
          now: new Date().toISOString(),
          createdBy,
          note,
        })
        return version
      })
      .immediate()
  }

  /** Stores `document` as version 1 when no rule set exists yet. */
  async ensureInitial(document: unknown): Promise<void> {
    if (!this.statements.latest.get()) await this.save(document, 'system', 'Default rule set (SPEC §3)')
  }
}
