import type { IndicatorResult } from '../riskResult.js'
import type { IndicatorKey, Rag, Source } from '../vocabulary.js'
import { describePeriod, indicatorResult, isWithinWindow, noDataResult, plural } from './common.js'

/** One dated contribution to a windowed count: an event (1) or a count of events over a period (n). */
export interface CountedEntry {
  date: string
  count: number
  source: Source
}

export interface WindowedCountRules {
  windowDays: number
  amberFrom: number
  redFrom: number
  staleAfterDays: number | null
  whenNoEntries: 'green' | 'none'
}

export interface WindowedCountInput {
  key: IndicatorKey
  /** Every recognised entry on record up to asOf, in or out of the window. */
  entries: readonly CountedEntry[]
  rules: WindowedCountRules
  asOf: string
  /** Singular and plural nouns: ['safeguarding decision', 'safeguarding decisions']. */
  noun: [string, string]
}

export function levelForCount(count: number, rules: { amberFrom: number; redFrom: number }): Rag {
  if (count >= rules.redFrom) return 'red'
  if (count >= rules.amberFrom) return 'amber'
  return 'green'
}

/** Counts entries dated within the window: "2 safeguarding decisions in the last 12 months (latest 2026-05-02)". */
export function assessWindowedCount({ key, entries, rules, asOf, noun }: WindowedCountInput): IndicatorResult {
  const [singular, pluralNoun] = noun
  const windowText = `in the last ${describePeriod(rules.windowDays)}`
  if (entries.length === 0) {
    if (rules.whenNoEntries === 'none') return noDataResult(key, `No ${pluralNoun} recorded`)
    return {
      key,
      level: 'green',
      value: '0',
      date: null,
      source: null,
      reason: `No ${pluralNoun} recorded`,
      stale: false,
    }
  }
  const inWindow = entries.filter((entry) => entry.count > 0 && isWithinWindow(entry.date, asOf, rules.windowDays))
  const total = inWindow.reduce((sum, entry) => sum + entry.count, 0)
  const latest = inWindow.reduce<CountedEntry | null>(
    (best, entry) => (!best || entry.date > best.date ? entry : best),
    null,
  )
  const level = levelForCount(total, rules)
  const reason =
    total === 0
      ? `No ${pluralNoun} ${windowText}`
      : `${plural(total, singular, pluralNoun)} ${windowText} (latest ${latest?.date})`
  return indicatorResult(
    { key, level, value: `${total} ${windowText}`, date: latest?.date ?? null, source: latest?.source ?? null, reason },
    asOf,
    rules.staleAfterDays,
  )
}
