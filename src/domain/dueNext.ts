import { addDays, daysBetween } from './dates.js'
import type { RuleSet } from './ruleSet.js'
import { RAG_ORDER, type ContractStatus, type Rag } from './vocabulary.js'

/** What the due-next queue needs to know of a service. */
export interface DueNextInput {
  serviceId: number
  rag: Rag
  score: number
  /** ISO date of the last counted (published) quality assessment; null when never assessed. */
  lastAssessmentDate: string | null
  contractStatus: ContractStatus
}

export interface DueNextEntry extends DueNextInput {
  /** 1 = assess first. */
  rank: number
  /** ISO date the next assessment is due; null when none is scheduled (e.g. off contract). */
  dueOn: string | null
  /** Days past the due date (0 when due today, negative when not yet due); null when not scheduled. */
  daysOverdue: number | null
  neverAssessed: boolean
  reason: string
}

export type AssessmentSchedule = RuleSet['assessmentSchedule']

const RAG_LABELS: Record<Rag, string> = { red: 'Red', amber: 'Amber', green: 'Green' }
const CONTRACT_LABELS: Record<ContractStatus, string> = {
  contracted: 'contracted',
  spot: 'spot-purchased',
  off_contract: 'off-contract',
}

/** "6 months", "12 months", "2 years", "45 days". */
function describeInterval(days: number): string {
  if (days % 365 === 0) return days === 365 ? '12 months' : `${days / 365} years`
  const months = Math.round(days / 30.44)
  if (months >= 1 && Math.abs(months * 30.44 - days) <= 2) return `${months} month${months === 1 ? '' : 's'}`
  return `${days} day${days === 1 ? '' : 's'}`
}

interface Scheduled {
  entry: Omit<DueNextEntry, 'rank'>
  /** 0: never assessed, 1: scheduled by due date, 2: not scheduled. */
  group: 0 | 1 | 2
}

function schedule(service: DueNextInput, asOf: string, rules: AssessmentSchedule): Scheduled {
  const ragInterval = rules.intervalDaysByRag[service.rag]
  const contractMax = rules.maxIntervalDaysByContract[service.contractStatus]
  const neverAssessed = service.lastAssessmentDate === null
  const contract = CONTRACT_LABELS[service.contractStatus]
  if (contractMax === null) {
    const last = service.lastAssessmentDate ? `last assessed ${service.lastAssessmentDate}` : 'never assessed'
    const reason = `Not scheduled: ${contract} services have no regular assessment (${last})`
    return { entry: { ...service, dueOn: null, daysOverdue: null, neverAssessed, reason }, group: 2 }
  }
  if (service.lastAssessmentDate === null) {
    const reason = `Never assessed (${RAG_LABELS[service.rag]}, ${contract})`
    return { entry: { ...service, dueOn: asOf, daysOverdue: 0, neverAssessed, reason }, group: 0 }
  }
  const interval = Math.min(ragInterval, contractMax)
  const dueOn = addDays(service.lastAssessmentDate, interval)
  const daysOverdue = daysBetween(dueOn, asOf)
  const rule =
    ragInterval <= contractMax
      ? `${RAG_LABELS[service.rag]} services are re-assessed every ${describeInterval(ragInterval)}`
      : `${contract} services are assessed at least every ${describeInterval(contractMax)}`
  const when =
    daysOverdue > 0
      ? `Overdue by ${daysOverdue} day${daysOverdue === 1 ? '' : 's'}`
      : daysOverdue === 0
        ? 'Due today'
        : `Due ${dueOn}`
  const reason = `${when}: last assessed ${service.lastAssessmentDate}; ${rule}`
  return { entry: { ...service, dueOn, daysOverdue, neverAssessed, reason }, group: 1 }
}

function compareByRisk(a: DueNextInput, b: DueNextInput): number {
  return RAG_ORDER[b.rag] - RAG_ORDER[a.rag] || b.score - a.score
}

function compareOldestAssessmentFirst(a: DueNextInput, b: DueNextInput): number {
  if (a.lastAssessmentDate === b.lastAssessmentDate) return 0
  if (a.lastAssessmentDate === null) return -1
  if (b.lastAssessmentDate === null) return 1
  return a.lastAssessmentDate < b.lastAssessmentDate ? -1 : 1
}

function compareScheduled(a: Scheduled, b: Scheduled): number {
  if (a.group !== b.group) return a.group - b.group
  const byDueDate =
    a.group === 1 && a.entry.dueOn !== b.entry.dueOn ? ((a.entry.dueOn ?? '') < (b.entry.dueOn ?? '') ? -1 : 1) : 0
  return (
    byDueDate ||
    compareByRisk(a.entry, b.entry) ||
    compareOldestAssessmentFirst(a.entry, b.entry) ||
    a.entry.serviceId - b.entry.serviceId
  )
}

/**
 * Ranks services for their next quality assessment (SPEC §8): never-assessed services first (worst risk first),
 * then by due date, where the interval since the last assessment shortens with risk and every contracted service
 * is due at least yearly; services with no scheduled assessment (off contract by default) come last. Pure.
 */
export function rankDueNext(
  services: readonly DueNextInput[],
  asOf: string,
  rules: AssessmentSchedule,
): DueNextEntry[] {
  return services
    .map((service) => schedule(service, asOf, rules))
    .sort(compareScheduled)
    .map((scheduled, index) => ({ ...scheduled.entry, rank: index + 1 }))
}
