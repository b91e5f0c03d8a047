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

export const assessInsolvency: IndicatorAssessor = (observations, { ruleSet, asOf }) => {
  const rules = ruleSet.indicators.insolvency
  const key = 'insolvency'
  const latest = newestFirst(observations)[0]
  if (!latest) return noDataResult(key, 'No Companies House record linked')
  const statusDetail = stringField(latest.detail, 'statusDetail')
  const level = companyStatusLevel(latest.value, statusDetail, rules)
  const base = { key, date: latest.observedOn, source: latest.source } as const
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
      : `Company ${phrase}${detailNote} at Companies House since ${latest.observedOn}`
  return indicatorResult({ ...base, level, value: wordLabel(phrase) + detailNote, reason }, asOf, rules.staleAfterDays)
}
