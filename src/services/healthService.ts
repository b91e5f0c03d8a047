import type { Dialect } from '../data/platform.js'
import type { SourceFreshness } from '../data/runs.js'
import type { Store } from '../data/store.js'

type PartStatus = 'UP' | 'DOWN'

export interface HealthReport {
  status: 'UP'
  database: 'UP'
  /** Which database this instance uses: the embedded SQLite file or PostgreSQL. */
  databaseType: Dialect
  lastRefresh?: PartStatus
  sources: Record<string, PartStatus>
}

/** A source is DOWN when its last attempt failed; not configured or still running is not a failure. */
function sourceStatus(source: SourceFreshness): PartStatus {
  return source.lastAttemptStatus === 'failed' ? 'DOWN' : 'UP'
}

/** What `/health` reports: UP or DOWN only, since anyone may ask. Throws when the database cannot be read. */
export class HealthService {
  constructor(private readonly store: Store) {}

  async check(): Promise<HealthReport> {
    const { dialect } = await this.store.health()
    const [lastRun, sources] = await this.store.read(({ runs }) =>
      Promise.all([runs.lastPublishedRun('full'), runs.sourceFreshness()]),
    )
    return {
      status: 'UP',
      database: 'UP',
      databaseType: dialect,
      ...(lastRun ? { lastRefresh: lastRun.status === 'completed' ? 'UP' : 'DOWN' } : {}),
      sources: Object.fromEntries(sources.map((source) => [source.source, sourceStatus(source)])),
    }
  }
}
