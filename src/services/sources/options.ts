import type { HttpClientOptions } from '../../ingest/http.js'

/** How the source steps reach their connectors; the defaults suit production, tests shorten the waits. */
export interface SourceStepOptions {
  http?: Partial<Pick<HttpClientOptions, 'timeoutMs' | 'maxAttempts' | 'backoffMs' | 'maxBackoffMs' | 'sleep'>>
  /** Requests in flight per source. */
  concurrency?: number
  /** Requests in a row that may fail before a source is given up as unavailable (see FailureStreak). */
  maxConsecutiveFailures?: number
  /** The Companies House stream read (see readCompanyStream); tests shorten the idle stop and the backoff. */
  companiesHouseStream?: { idleMs?: number; batchSize?: number; backoffMs?: number; stopAt?: () => Date }
}
