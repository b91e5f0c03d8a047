import type { Executor } from './executor.js'

export type Dialect = 'sqlite' | 'postgres'

/**
 * What differs between the databases beyond SQL text, given to the repositories that need it: the full run's lock,
 * writes that may be skipped when the database is busy, and the version the page caches are keyed on.
 */
export interface Platform {
  readonly dialect: Dialect
  readonly runLock: RunLock
  /**
   * Runs a write that may be skipped (a token's last-used time, a session's rolling expiry) without waiting for a
   * lock another process holds; false when it was skipped. `write` returns the rows it changed.
   */
  writeIfNotBusy(db: Executor, write: (db: Executor) => Promise<number>): Promise<boolean>
  /**
   * Moves when this process writes (advisory writes apart) and when any process publishes a run; what is kept
   * because the data did not move is keyed on it.
   */
  dataVersion(db: Executor): Promise<string>
}

/** Held from a full run's start until it publishes or fails, or its process dies; one full run at a time. */
export interface RunLock {
  tryAcquire(): Promise<boolean>
  assign(runId: number): void
  release(runId: number | null): Promise<void>
}
