import type { Db } from './database.js'

export interface SourceStateEntry {
  source: string
  key: string
  value: string
  updatedAt: string
  runId: number | null
}

interface SourceStateRow {
  source: string
  key: string
  value: string
  updated_at: string
  run_id: number | null
}

function toEntry(row: SourceStateRow): SourceStateEntry {
  return { source: row.source, key: row.key, value: row.value, updatedAt: row.updated_at, runId: row.run_id }
}

/** Small named values a source keeps between runs (the CQC changes feed window, locations already loaded). */
export class SourceStateRepository {
  private readonly statements

  constructor(db: Db) {
    this.statements = {
      get: db.prepare<[string, string], SourceStateRow>('SELECT * FROM source_state WHERE source = ? AND key = ?'),
      list: db.prepare<[string, string], SourceStateRow>(
        `SELECT * FROM source_state WHERE (? = '' OR source = ?) ORDER BY source, key`,
      ),
      upsert: db.prepare(
        `INSERT INTO source_state (source, key, value, updated_at, run_id) VALUES (@source, @key, @value, @now, @runId)
         ON CONFLICT (source, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,
           run_id = excluded.run_id`,
      ),
      remove: db.prepare('DELETE FROM source_state WHERE source = ? AND key = ?'),
    }
  }

  async get(source: string, key: string): Promise<string | null> {
    return this.statements.get.get(source, key)?.value ?? null
  }

  /** A JSON value, or null when absent. */
  async getJson<T>(source: string, key: string): Promise<T | null> {
    const value = await this.get(source, key)
    return value === null ? null : (JSON.parse(value) as T)
  }

  async set(source: string, key: string, value: string, runId: number | null = null): Promise<void> {
    this.statements.upsert.run({ source, key, value, runId, now: new Date().toISOString() })
  }

  async setJson(source: string, key: string, value: unknown, runId: number | null = null): Promise<void> {
    await this.set(source, key, JSON.stringify(value), runId)
  }

  async remove(source: string, key: string): Promise<void> {
    this.statements.remove.run(source, key)
  }

  /** Every entry, or one source's; for the run log page. */
  async list(source?: string): Promise<SourceStateEntry[]> {
    return this.statements.list.all(source ?? '', source ?? '').map(toEntry)
  }
}
