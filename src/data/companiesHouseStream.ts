import { inWriteBatches, type Db } from './database.js'

const SOURCE = 'companies_house'
const TIMEPOINT_KEY = 'stream_timepoint'

/**
 * What the Companies House source keeps between nights when it reads the streaming API: the last timepoint handled
 * and the companies already read once. A batch of stream events is stored by `commitBatch`, so its observations,
 * the companies it saw and the timepoint it reached are committed together or not at all.
 */
export class CompaniesHouseStreamRepository {
  private readonly statements

  constructor(private readonly db: Db) {
    this.statements = {
      timepoint: db.prepare<[string, string], { value: string }>(
        'SELECT value FROM source_state WHERE source = ? AND key = ?',
      ),
      setTimepoint: db.prepare(
        `INSERT INTO source_state (source, key, value, updated_at, run_id) VALUES (?, ?, ?, ?, NULL)
         ON CONFLICT (source, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      ),
      clearTimepoint: db.prepare('DELETE FROM source_state WHERE source = ? AND key = ?'),
      seen: db.prepare<[], { company_number: string }>('SELECT company_number FROM companies_house_seen'),
      markSeen: db.prepare(
        'INSERT INTO companies_house_seen (company_number, first_seen_on) VALUES (?, ?) ON CONFLICT DO NOTHING',
      ),
    }
  }

  async timepoint(): Promise<number | null> {
    const row = this.statements.timepoint.get(SOURCE, TIMEPOINT_KEY)
    const value = row ? Number(row.value) : Number.NaN
    return Number.isSafeInteger(value) ? value : null
  }

  /** Forgets the timepoint (Companies House no longer has it): the next read starts from now. */
  async clearTimepoint(): Promise<void> {
    this.statements.clearTimepoint.run(SOURCE, TIMEPOINT_KEY)
  }

  async seenCompanies(): Promise<Set<string>> {
    return new Set(this.statements.seen.all().map((row) => row.company_number))
  }

  /**
   * Runs `work` (which appends the batch's observations through the repositories) and records the companies seen and
   * the timepoint reached, in one write transaction: a crash leaves all of it or none.
   */
  async commitBatch<T>(
    work: () => Promise<T>,
    reached: { timepoint?: number | null; seen?: Iterable<string>; seenOn: string },
  ): Promise<T> {
    let result: T | undefined
    await inWriteBatches(this.db, [reached], 1, async () => {
      result = await work()
      for (const number of reached.seen ?? []) this.statements.markSeen.run(number, reached.seenOn)
      if (reached.timepoint != null) {
        this.statements.setTimepoint.run(SOURCE, TIMEPOINT_KEY, String(reached.timepoint), new Date().toISOString())
      }
    })
    return result as T
  }
}
