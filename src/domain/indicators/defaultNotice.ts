import type { Observation } from '../observation.js'
import {
  compactWord,
  describePeriod,
  indicatorResult,
  isWithinWindow,
  noDataResult,
  plural,
  stringField,
  type IndicatorAssessor,
} from './common.js'

/**
 * Open as of `asOf`: not resolved by then. A resolved date after `asOf` means it was still open on that day, so
 * history recomputed as of a past date sees it open. An outcome of "resolved" with no date counts as resolved.
 */
export function isNoticeOpen(notice: Observation, asOf: string): boolean {
  if (notice.endDate !== null) return notice.endDate > asOf
  return compactWord(stringField(notice.detail, 'outcome') ?? '') !== 'resolved'
}

function latestIssued(notices: readonly Observation[]): Observation | undefined {
  return notices.reduce<Observation | undefined>(
    (best, n) => (!best || n.observedOn > best.observedOn ? n : best),
    undefined,
  )
}

export const assessDefaultNotice: IndicatorAssessor = (notices, { ruleSet, asOf }) => {
  const rules = ruleSet.indicators.default_notice
  const key = 'default_notice'
  if (notices.length === 0) {
    if (rules.whenNoEntries === 'none') return noDataResult(key, 'No default notices recorded')
    return {
      key,
      level: 'green',
      value: 'None open',
      date: null,
      source: null,
      reason: 'No default notices recorded',
      stale: false,
    }
  }
  const open = notices.filter((notice) => isNoticeOpen(notice, asOf))
  const issuedInWindow = notices.filter((notice) => isWithinWindow(notice.observedOn, asOf, rules.windowDays))
  const windowText = `in the last ${describePeriod(rules.windowDays)}`
  const result = (level: 'red' | 'amber' | 'green', value: string, decider: Observation | undefined, reason: string) =>
    indicatorResult(
      { key, level, value, date: decider?.observedOn ?? null, source: decider?.source ?? null, reason },
      asOf,
      rules.staleAfterDays,
    )

  if (open.length >= rules.redWhenOpen) {
    const latest = latestIssued(open)
    return result(
      'red',
      `${open.length} open`,
      latest,
      `${plural(open.length, 'default notice')} open (latest issued ${latest?.observedOn})`,
    )
  }
  if (issuedInWindow.length >= rules.redWhenIssuedInWindow) {
    const latest = latestIssued(issuedInWindow)
    return result(
      'red',
      `${issuedInWindow.length} issued ${windowText}`,
      latest,
      `${plural(issuedInWindow.length, 'default notice')} issued ${windowText} (latest ${latest?.observedOn})`,
    )
  }
  if (open.length >= rules.amberWhenOpen) {
    const latest = latestIssued(open)
    const reason =
      open.length === 1
        ? `Default notice open (issued ${latest?.observedOn})`
        : `${plural(open.length, 'default notice')} open (latest issued ${latest?.observedOn})`
    return result('amber', `${open.length} open`, latest, reason)
  }
  const latest = latestIssued(notices)
  const issuedNote = issuedInWindow.length > 0 ? `; ${issuedInWindow.length} issued ${windowText}, since resolved` : ''
  return result('green', 'None open', latest, `No default notice open${issuedNote}`)
}
