import type { NewObservation } from '../domain/observation.js'
import type { Source } from '../domain/vocabulary.js'

/**
 * What every connector hands the refresh run: plain data, no database. The run matches each record to the
 * council's service(s) by `match`, appends the observations (deduplicated by `naturalKey`), and may use
 * `facts` to update the service or provider (registration dates, beds, company number...).
 */

/** Which council identifier a record belongs to: `services.cqc_location_id`, `services.fhrs_id` or `providers.companies_house_number`. */
export type MatchKind = 'cqc_location' | 'fhrs' | 'company'

export interface ExternalMatch {
  kind: MatchKind
  /** The identifier exactly as the council gave it in the request, so the run can look it up directly. */
  id: string
}

/** An observation before it is attached to a service. Follows the conventions in src/domain/observation.ts. */
export type SourceObservation = Omit<NewObservation, 'serviceId'>

export interface ConnectorRecord<Facts> {
  match: ExternalMatch
  observations: SourceObservation[]
  facts?: Facts
}

/** A source record (or one field of it) that could not be used, with a reason a person can act on. */
export interface RejectedRecord {
  /** The source's record id (location id, FHRSID, company number) or a file position such as "row 12". */
  record: string
  field?: string
  reason: string
}

export interface ConnectorCounts {
  /** Records read from the source (for files: every data row, matched or not). */
  read: number
  /** Records that belong to one of the council's identifiers. */
  matched: number
  rejected: number
  notFound: number
}

export interface ConnectorResult<Facts> {
  source: Source
  records: ConnectorRecord<Facts>[]
  rejects: RejectedRecord[]
  /** Council identifiers the source does not know (404, or absent from the file). */
  notFound: string[]
  counts: ConnectorCounts
  /** Things worth a line in the run log that are not rejects (e.g. "provider 1-2 not found"). */
  warnings: string[]
}

export interface ConnectorRequest {
  /** The run date (ISO YYYY-MM-DD): observedOn for facts the source does not date. */
  asOf: string
  /** The council's identifiers for this source; anything else the source holds is ignored. */
  ids: Iterable<string>
  /** Called as work proceeds, for a command-line progress bar. */
  onProgress?: (done: number, total: number) => void
  /**
   * HTTP connectors: requests in a row that may fail for good (after retries) before the whole source is given up as
   * unavailable (default DEFAULT_MAX_CONSECUTIVE_FAILURES; 0: never give up early).
   */
  maxConsecutiveFailures?: number
}

/** Ids as a de-duplicated, trimmed list (blank ids dropped). */
export function distinctIds(ids: Iterable<string>): string[] {
  const seen = new Set<string>()
  for (const id of ids) {
    const trimmed = id.trim()
    if (trimmed !== '') seen.add(trimmed)
  }
  return [...seen]
}

/** Collects records, rejects and not-found ids, and derives the counts. */
export class ResultBuilder<Facts> {
  readonly records: ConnectorRecord<Facts>[] = []
  readonly rejects: RejectedRecord[] = []
  readonly notFound: string[] = []
  readonly warnings: string[] = []
  read = 0

  constructor(private readonly source: Source) {}

  reject(record: string, reason: string, field?: string): void {
    this.rejects.push(field === undefined ? { record, reason } : { record, field, reason })
  }

  build(): ConnectorResult<Facts> {
    const rejectedRecords = new Set(this.rejects.map((reject) => reject.record)).size
    return {
      source: this.source,
      records: this.records,
      rejects: this.rejects,
      notFound: this.notFound,
      counts: {
        read: this.read,
        matched: this.records.length,
        rejected: rejectedRecords,
        notFound: this.notFound.length,
      },
      warnings: this.warnings,
    }
  }
}

/** One readable line per zod issue, with its path: `currentRatings.overall.reportDate: Invalid input...`. */
export function describeIssues(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): {
  field: string | undefined
  reason: string
} {
  const first = issues[0]
  const field = first && first.path.length > 0 ? first.path.map(String).join('.') : undefined
  const reason = issues
    .slice(0, 3)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message))
    .join('; ')
  return { field, reason: issues.length > 3 ? `${reason} (and ${issues.length - 3} more)` : reason }
}
