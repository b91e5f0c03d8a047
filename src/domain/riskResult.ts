import type { IndicatorKey, Level, Rag, Source } from './vocabulary.js'

/** One indicator's judgement for one service (SPEC §3, §9 `indicators`). */
export interface IndicatorResult {
  key: IndicatorKey
  level: Level
  /** Human-readable value, e.g. "Inadequate", "2 in the last 12 months"; null when no data. */
  value: string | null
  /** ISO date of the observation that decided the level; null when no data. */
  date: string | null
  source: Source | null
  /** One line a person can read: "CQC rated Inadequate on 2026-03-14". */
  reason: string
  /** The deciding input is older than the rule set's limit for this indicator. */
  stale: boolean
}

export interface ActiveOverride {
  rag: Rag
  reason: string
  /** ISO date; the override applies up to and including this day. */
  expiresOn: string
  setBy: string | null
}

export interface RiskFlags {
  multipleConcerns: boolean
  recentlyDowngraded: boolean
  /** No quality assessment on record: heads the due-next queue but is not Amber for that alone. */
  notYetAssessed: boolean
  /** Two or more new adverse observations within the rule set's window (default 90 days). */
  deteriorating: boolean
}

/** What the rules made of a service's observations as of a date (SPEC §2 "risk snapshot"). */
export interface RiskResult {
  /** Overall RAG after any active override. */
  rag: Rag
  /** Overall RAG the rules computed, before any override. */
  computedRag: Rag
  score: number
  /** Readable reasons for the overall RAG, worst first. */
  reasons: string[]
  indicators: IndicatorResult[]
  override: ActiveOverride | null
  flags: RiskFlags
  ruleSetVersion: number
  /** ISO date the judgement was made as of. */
  asOf: string
}
