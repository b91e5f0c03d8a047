import { sql } from 'kysely'
import { toExecutor, type Executor, type ExecutorSource } from './executor.js'

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
  private readonly db: Executor

  constructor(db: ExecutorSource) {
    this.db = toExecutor(db)
  }

  async get(source: string, key: string): Promise<string | null> {
    const { rows } = await sql<SourceStateRow>`
      SELECT * FROM source_state WHERE source = ${source} AND key = ${key}`.execute(this.db)
    return rows[0]?.value ?? null
  }

  /** A JSON value, or null when absent. */
  async getJson<T>(source: string, key: string): Promise<T | null> {
    const value = await this.get(source, key)
    return value === null ? null : (JSON.parse(value) as T)
  }

  async set(source: string, key: string, value: string, runId: number | null = null): Promise<void> {
    await sql`
      INSERT INTO source_state (source, key, value, updated_at, run_id)
      VALUES (${source}, ${key}, ${value}, ${new Date().toISOString()}, ${runId})
      ON CONFLICT (source, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,
        run_id = excluded.run_id`.execute(this.db)
  }

  async setJson(source: string, key: string, value: unknown, runId: number | null = null): Promise<void> {
    await this.set(source, key, JSON.stringify(value), runId)
  }

  async remove(source: string, key: string): Promise<void> {
    await sql`DELETE FROM source_state WHERE source = ${source} AND key = ${key}`.execute(this.db)
  }

  /** Every entry, or one source's; for the run log page. */
  async list(source?: string): Promise<SourceStateEntry[]> {
    const { rows } = source
      ? await sql<SourceStateRow>`
          SELECT * FROM source_state WHERE source = ${source} ORDER BY source, key`.execute(this.db)
      : await sql<SourceStateRow>`SELECT * FROM source_state ORDER BY source, key`.execute(this.db)
    return rows.map(toEntry)
  }
}
