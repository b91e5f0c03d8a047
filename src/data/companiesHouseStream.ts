import { sql } from 'kysely'
import { inTransaction, toExecutor, type Executor, type ExecutorSource } from './executor.js'

const SOURCE = 'companies_house'
const TIMEPOINT_KEY = 'stream_timepoint'
/** Companies marked seen per statement (two parameters each). */
const SEEN_PER_INSERT = 500

/**
 * What the Companies House source keeps between nights when it reads the streaming API: the last timepoint handled
 * and the companies already read once. A batch of stream events is stored in one `Store.write` with its
 * observations (`recordBatch`), so they and the timepoint reached are committed together or not at all.
 */
export class CompaniesHouseStreamRepository {
  private readonly db: Executor

  constructor(db: ExecutorSource) {
    this.db = toExecutor(db)
  }

  async timepoint(): Promise<number | null> {
    const { rows } = await sql<{ value: string }>`
      SELECT value FROM source_state WHERE source = ${SOURCE} AND key = ${TIMEPOINT_KEY}`.execute(this.db)
    const value = rows[0] ? Number(rows[0].value) : Number.NaN
    return Number.isSafeInteger(value) ? value : null
  }

  /** Forgets the timepoint (Companies House no longer has it): the next read starts from now. */
  async clearTimepoint(): Promise<void> {
    await sql`DELETE FROM source_state WHERE source = ${SOURCE} AND key = ${TIMEPOINT_KEY}`.execute(this.db)
  }

  async seenCompanies(): Promise<Set<string>> {
    const { rows } = await sql<{ company_number: string }>`
      SELECT company_number FROM companies_house_seen`.execute(this.db)
    return new Set(rows.map((row) => row.company_number))
  }

  /** Records the companies a batch saw and the timepoint it reached, together. */
  async recordBatch(reached: { timepoint?: number | null; seen?: Iterable<string>; seenOn: string }): Promise<void> {
    const seen = [...new Set(reached.seen ?? [])]
    await inTransaction(this.db, async (trx) => {
      for (let i = 0; i < seen.length; i += SEEN_PER_INSERT) {
        const rows = seen.slice(i, i + SEEN_PER_INSERT).map((number) => sql`(${number}, ${reached.seenOn})`)
        await sql`
          INSERT INTO companies_house_seen (company_number, first_seen_on) VALUES ${sql.join(rows)}
          ON CONFLICT DO NOTHING`.execute(trx)
      }
      if (reached.timepoint != null) {
        await sql`
          INSERT INTO source_state (source, key, value, updated_at, run_id)
          VALUES (${SOURCE}, ${TIMEPOINT_KEY}, ${String(reached.timepoint)}, ${new Date().toISOString()}, NULL)
          ON CONFLICT (source, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`.execute(trx)
      }
    })
  }
}
