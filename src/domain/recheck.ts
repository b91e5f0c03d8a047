import { openVacancies } from './indicators/managerVacancy.js'
import type { Observation } from './observation.js'
import type { AssessRiskInput } from './risk.js'
import type { RuleSet } from './ruleSet.js'

/**
 * When a judgement could next change with nothing new recorded (the overnight refresh recomputes only services whose
 * recheck date has come, SPEC §6). assessRisk depends on the date only through rule-set day counts compared with the
 * ages of dated facts, through end dates and override expiry compared with the date, through facts dated after it
 * being ignored, and through the manager vacancy's "Vacant for N days", which changes every day. So the judgement as of
 * any day before the earliest candidate below is the one as of asOf (asOf itself aside, which `fingerprint` ignores).
 *
 * Deliberately generic rather than a copy of each indicator: every date a fact carries (observedOn, endDate, and any
 * ISO date in its detail, e.g. a safeguarding count's periodEnd) is shifted by 0, N and N+1 days for every day count N
 * anywhere in the rule set (a number under a key naming `Days`: windows, staleness, thresholds, schedules alike). The
 * rule set has no other date unit (no months or years). A rule set or indicator that compares dates in a new way
 * needs a candidate kind here (test/unit/recheck.test.ts fails when one is missing).
 */

/** The kinds of candidate, so a test can show each one is needed. */
export const RECHECK_CANDIDATE_KINDS = [
  'observedOn',
  'endDate',
  'detailDates',
  'shift0',
  'shiftN',
  'shiftN+1',
  'overrideExpiry',
  'openVacancy',
] as const
export type RecheckCandidateKind = (typeof RECHECK_CANDIDATE_KINDS)[number]

/** Every distinct day count in the rule set: numbers found under any key naming `Days`, at any depth. */
export function ruleSetDayCounts(ruleSet: RuleSet): number[] {
  const found = new Set<number>()
  const walk = (node: unknown, underDays: boolean): void => {
    if (typeof node === 'number') {
      if (underDays && Number.isInteger(node) && node >= 0) found.add(node)
      return
    }
    if (Array.isArray(node)) {
      for (const item of node) walk(item, underDays)
      return
    }
    if (typeof node === 'object' && node !== null) {
      for (const [key, value] of Object.entries(node)) walk(value, underDays || key.includes('Days'))
    }
  }
  walk(ruleSet, false)
  return [...found].sort((a, b) => a - b)
}

const dayCountsCache = new WeakMap<RuleSet, number[]>()
function dayCountsOf(ruleSet: RuleSet): number[] {
  let counts = dayCountsCache.get(ruleSet)
  if (!counts) dayCountsCache.set(ruleSet, (counts = ruleSetDayCounts(ruleSet)))
  return counts
}

const DAY_MS = 86_400_000
const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})/

/** Days since 1970-01-01 of an ISO date (a time part ignored); null when the text does not start with a real date. */
function dayNumber(text: string): number | null {
  const m = ISO_DAY.exec(text)
  if (!m) return null
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
  const back = new Date(ms)
  if (back.getUTCDate() !== Number(m[3]) || back.getUTCMonth() !== Number(m[2]) - 1) return null
  return ms / DAY_MS
}

function fromDayNumber(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10)
}

function detailDays(detail: Record<string, unknown>, into: number[]): void {
  for (const value of Object.values(detail)) {
    if (typeof value === 'string') {
      const day = value.length >= 10 ? dayNumber(value) : null
      if (day !== null) into.push(day)
    } else if (typeof value === 'object' && value !== null) detailDays(value as Record<string, unknown>, into)
  }
}

/** The dates a fact carries, as day numbers. */
function factDays(observation: Observation, omit: ReadonlySet<RecheckCandidateKind>, into: number[]): void {
  if (!omit.has('observedOn')) {
    const day = dayNumber(observation.observedOn)
    if (day !== null) into.push(day)
  }
  if (!omit.has('endDate') && observation.endDate) {
    const day = dayNumber(observation.endDate)
    if (day !== null) into.push(day)
  }
  if (!omit.has('detailDates')) detailDays(observation.detail, into)
}

/**
 * `recheckOn` with some candidate kinds left out: only for tests proving each kind is needed.
 * @internal
 */
export function recheckOnWithout(input: AssessRiskInput, omit: readonly RecheckCandidateKind[]): string | null {
  const left = new Set(omit)
  const { asOf, ruleSet } = input
  const today = dayNumber(asOf)
  if (today === null) throw new Error(`recheckOn: asOf ${asOf} is not an ISO date`)
  const shiftSet = new Set<number>()
  if (!left.has('shift0')) shiftSet.add(0)
  for (const n of dayCountsOf(ruleSet)) {
    if (!left.has('shiftN')) shiftSet.add(n)
    if (!left.has('shiftN+1')) shiftSet.add(n + 1)
  }
  const shifts = [...shiftSet].sort((a, b) => a - b)
  let earliest = Infinity
  const days: number[] = []
  for (const observation of input.observations) factDays(observation, left, days)
  for (const day of days) {
    // Shifts ascend: the first one past asOf is this date's earliest candidate.
    for (const shift of shifts) {
      if (day + shift > today) {
        if (day + shift < earliest) earliest = day + shift
        break
      }
    }
  }
  if (!left.has('overrideExpiry') && input.override) {
    const expires = dayNumber(input.override.expiresOn)
    if (expires !== null && expires + 1 > today && expires + 1 < earliest) earliest = expires + 1
  }
  if (!left.has('openVacancy') && earliest > today + 1) {
    const known = input.observations.filter(
      (observation) => observation.indicator === 'manager_vacancy' && observation.observedOn.slice(0, 10) <= asOf,
    )
    // "Vacant for N days" counts the days: the judgement changes every day while the post is vacant.
    if (known.length > 0 && openVacancies(known, asOf).length > 0) earliest = today + 1
  }
  return earliest === Infinity ? null : fromDayNumber(earliest)
}

/**
 * A conservative earliest ISO date after `input.asOf` on which assessRisk could give a different judgement from the
 * same observations and override; null when nothing date-dependent remains (the judgement stands until a new fact).
 */
export function recheckOn(input: AssessRiskInput): string | null {
  return recheckOnWithout(input, [])
}
