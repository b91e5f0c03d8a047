import { createHash } from 'node:crypto'
import type { RiskResult } from '../domain/riskResult.js'
import type { Rag } from '../domain/vocabulary.js'
import type { JudgementRecheck } from './rechecks.js'

export type RunKind = 'full' | 'entry' | 'seed'

/** What started a run, as people say it. Stored with the run (the free-text trigger says more, e.g. who). */
export const RUN_CAUSES = ['scheduled', 'manual', 'rule_set', 'entry', 'override', 'seed'] as const
export type RunCause = (typeof RUN_CAUSES)[number]

export const RUN_CAUSE_LABELS: Record<RunCause, string> = {
  scheduled: 'Overnight (scheduled)',
  manual: 'Refresh by hand',
  rule_set: 'Rule set change',
  entry: 'Entry',
  override: 'Override',
  seed: 'Demo history',
}

/** The cause of a run from its kind and trigger (the schedule starts the refresh with trigger `schedule`). */
export function runCauseOf(kind: RunKind, trigger: string | null): RunCause {
  if (kind === 'seed') return 'seed'
  if (kind === 'entry') return trigger?.startsWith('override ') ? 'override' : 'entry'
  if (trigger === 'schedule') return 'scheduled'
  if (trigger?.startsWith('rule set')) return 'rule_set'
  return 'manual'
}
export type RunStatus = 'running' | 'completed' | 'failed' | 'abandoned'

export interface RefreshRun {
  id: number
  kind: RunKind
  cause: RunCause
  trigger: string | null
  startedAt: string
  finishedAt: string | null
  publishedAt: string | null
  status: RunStatus
  ruleSetVersion: number | null
  servicesComputed: number
  /** Services registered when a full run judged them (the rest were unchanged); null for entry runs and older runs. */
  servicesTotal: number | null
  servicesChanged: number
  error: string | null
}

export type SourceRunStatus = 'running' | 'succeeded' | 'failed' | 'not_configured' | 'skipped'

export interface SourceReject {
  record: string
  field?: string
  reason: string
}

export interface SourceRun {
  runId: number
  source: string
  status: SourceRunStatus
  startedAt: string
  finishedAt: string | null
  read: number
  matched: number
  changed: number
  unchanged: number
  rejected: number
  error: string | null
  rejects: SourceReject[]
}

export interface SourceFreshness {
  source: string
  lastAttemptAt: string | null
  lastAttemptStatus: SourceRunStatus | null
  lastSuccessAt: string | null
  lastError: string | null
}

export interface ComputedSnapshot {
  serviceId: number
  result: RiskResult
  /** When the judgement could next change with nothing new recorded (src/domain/recheck.ts); null: never by date. */
  recheckOn?: string | null
}

export interface PublishOutcome {
  changed: number
  ragChanges: number
  changedServiceIds: number[]
}

/** What a publish writes besides the pointers, in its transaction, and the time it publishes at. */
export interface PublishOptions {
  /** The recheck dates of the run's judgements (RecheckRepository.write). */
  rechecks?: readonly JudgementRecheck[]
  /** ISO timestamp; now unless given. */
  now?: string
}

export interface CurrentSnapshot {
  serviceId: number
  snapshotId: number
  runId: number
  changedAt: string
  /** When the service's RAG became what it is now (a new judgement of the same colour leaves it). */
  ragSince: string
  result: RiskResult
}

export interface RagChange {
  id: number
  runId: number
  serviceId: number
  fromRag: Rag | null
  toRag: Rag
  at: string
  reasons: string[]
}

/** A RAG change with the names the dashboard shows beside it, and what caused it. */
export interface NamedRagChange extends RagChange {
  ref: string
  name: string
  providerName: string
  cause: RunCause
  trigger: string | null
}

export interface HistoryPoint {
  at: string
  asOf: string
  rag: Rag
  computedRag: Rag
  score: number
  runId: number
}

export interface RunRow {
  id: number
  kind: RunKind
  cause: RunCause | null
  trigger: string | null
  started_at: string
  finished_at: string | null
  published_at: string | null
  status: RunStatus
  rule_set_version: number | null
  services_computed: number
  services_total: number | null
  services_changed: number
  error: string | null
}

export function toRun(row: RunRow): RefreshRun {
  return {
    id: row.id,
    kind: row.kind,
    cause: row.cause ?? runCauseOf(row.kind, row.trigger),
    trigger: row.trigger,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    publishedAt: row.published_at,
    status: row.status,
    ruleSetVersion: row.rule_set_version,
    servicesComputed: row.services_computed,
    servicesTotal: row.services_total,
    servicesChanged: row.services_changed,
    error: row.error,
  }
}

/** What makes two judgements the same, whatever day they were made. */
export function fingerprint(result: RiskResult): string {
  const { asOf: _asOf, ...rest } = result
  return createHash('sha256').update(JSON.stringify(rest)).digest('base64url')
}

export class AnotherRunInProgressError extends Error {}

export interface SourceRunRow {
  run_id: number
  source: string
  status: SourceRunStatus
  started_at: string
  finished_at: string | null
  read_count: number
  matched_count: number
  changed_count: number
  unchanged_count: number
  rejected_count: number
  error: string | null
  rejects: string
}

export interface FreshnessRow {
  source: string
  last_attempt_at: string | null
  last_attempt_status: SourceRunStatus | null
  last_success_at: string | null
  last_error: string | null
}

export interface CurrentRow {
  service_id: number
  snapshot_id: number
  run_id: number
  changed_at: string
  rag_since: string
  result: string
}

export interface HistoryRow {
  computed_at: string
  as_of: string
  rag: Rag
  computed_rag: Rag
  score: number
  run_id: number
}

export function toHistoryPoint(row: HistoryRow): HistoryPoint {
  return {
    at: row.computed_at,
    asOf: row.as_of,
    rag: row.rag,
    computedRag: row.computed_rag,
    score: row.score,
    runId: row.run_id,
  }
}

export interface RagChangeRow {
  id: number
  run_id: number
  service_id: number
  from_rag: Rag | null
  to_rag: Rag
  at: string
  reasons: string
}

export interface NamedRow {
  ref: string
  name: string
  provider_name: string
}

export function toSourceRun(row: SourceRunRow): SourceRun {
  return {
    runId: row.run_id,
    source: row.source,
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    read: row.read_count,
    matched: row.matched_count,
    changed: row.changed_count,
    unchanged: row.unchanged_count,
    rejected: row.rejected_count,
    error: row.error,
    rejects: JSON.parse(row.rejects) as SourceReject[],
  }
}

export function toCurrent(row: CurrentRow): CurrentSnapshot {
  return {
    serviceId: row.service_id,
    snapshotId: row.snapshot_id,
    runId: row.run_id,
    changedAt: row.changed_at,
    ragSince: row.rag_since,
    result: JSON.parse(row.result) as RiskResult,
  }
}
