import type { Rag } from '../vocabulary.js'
import {
  compactWord,
  indicatorResult,
  isListed,
  levelOfValue,
  newestFirst,
  noDataResult,
  quoted,
  stringField,
  wordLabel,
  worseLevel,
  type IndicatorAssessor,
} from './common.js'

/** How a Companies House company_status reads in a sentence: "Company in administration". */
const STATUS_PHRASES: Record<string, string> = {
  active: 'active',
  dissolved: 'dissolved',
  liquidation: 'in liquidation',
  receivership: 'in receivership',
  convertedclosed: 'converted or closed',
  voluntaryarrangement: 'in a voluntary arrangement',
  insolvencyproceedings: 'in insolvency proceedings',
  administration: 'in administration',
  open: 'open',
  closed: 'closed',
  registered: 'registered',
  removed: 'removed from the register',
}

export function companyStatusPhrase(status: string): string {
  return STATUS_PHRASES[compactWord(status)] ?? wordLabel(status).toLowerCase()
}

/** The level the latest company status (and its status detail, e.g. a proposal to strike off) gives. */
export function companyStatusLevel(status: string, statusDetail: string | null, rules: CompanyRules): Rag | null {
  const level = levelOfValue(status, rules.statuses)
  if (level === null) return null
  if (statusDetail === null) return level
  const detailLevel = isListed(statusDetail, rules.statusDetails.red)
    ? 'red'
    : isListed(statusDetail, rules.statusDetails.amber)
      ? 'amber'
      : 'green'
  return worseLevel(level, detailLevel) as Rag
}

interface CompanyRules {
  statuses: { green: string[]; amber: string[]; red: string[] }
  statusDetails: { amber: string[]; red: string[] }
}

/** Statuses dated by the company's date_of_cessation (also read from rows stored before statusSince existed). */
const CESSATION_STATUSES = ['dissolved', 'converted-closed', 'closed', 'removed']

/**
 * The latest company status, dated from the company's own date (detail.statusSince: its date of cessation or the
 * start of its insolvency case) when Companies House gives one, else from the date the status was first seen.
 */
export const assessInsolvency: IndicatorAssessor = (observations, { ruleSet, asOf }) => {
  const rules = ruleSet.indicators.insolvency
  const key = 'insolvency'
  const latest = newestFirst(observations)[0]
  if (!latest) return noDataResult(key, 'No Companies House record linked')
  const companyNumber = stringField(latest.detail, 'companyNumber')
  if (latest.detail.missingStatus === true) {
    const type = stringField(latest.detail, 'companyType')
    return {
      key,
      level: 'none',
      value: null,
      date: latest.observedOn,
      source: latest.source,
      reason: `Companies House gives no status for ${type ? `this ${wordLabel(type).toLowerCase()}` : 'this company'}${companyNumber ? ` (${companyNumber})` : ''}: check it with the register of its home country`,
      stale: false,
    }
  }
  const statusDetail = stringField(latest.detail, 'statusDetail')
  const level = companyStatusLevel(latest.value, statusDetail, rules)
  const ownDate =
    stringField(latest.detail, 'statusSince') ??
    (isListed(latest.value, CESSATION_STATUSES) ? stringField(latest.detail, 'dateOfCessation') : null)
  const dateFrom = ownDate ? (stringField(latest.detail, 'statusDateFrom') ?? 'date of cessation') : null
  const date = ownDate ?? latest.observedOn
  const base = { key, date, source: latest.source } as const
  if (level === null) {
    return {
      ...base,
      level: 'none',
      value: latest.value,
      reason: `Company status ${quoted(latest.value)} is not recognised`,
      stale: false,
    }
  }
  const phrase = companyStatusPhrase(latest.value)
  const detailNote = statusDetail ? ` (${wordLabel(statusDetail).toLowerCase()})` : ''
  const reason =
    level === 'green' && !detailNote
      ? `Company ${phrase} at Companies House`
      : `Company ${phrase}${detailNote} at Companies House since ${date}${dateFrom ? ` (${dateFrom})` : ''}`
  return indicatorResult({ ...base, level, value: wordLabel(phrase) + detailNote, reason }, asOf, rules.staleAfterDays)
}
