import { causesFirst, type EligibilityResult, type FailingGate } from './eligibility.js'
import type { MembershipStatus } from './referral.js'

/** The service's membership of the lot, as it stands when the award is made; null when it was never admitted. */
export interface AwardMembership {
  status: MembershipStatus
  statusChangedOn: string
  reason: string | null
}

/** Everything the award decision reads, all as of one moment (the transaction that writes the award). */
export interface AwardFacts {
  lotName: string
  membership: AwardMembership | null
  /** The verdict stored for the membership by the last evaluation; null when it was never evaluated. */
  storedVerdict: EligibilityResult | null
  /** The gates evaluated now on the service's published judgement. */
  liveVerdict: EligibilityResult
}

export type AwardDecision = { eligible: true } | { eligible: false; failingGates: FailingGate[]; message: string }

const UNEXPLAINED: FailingGate = { gate: 'data', reason: 'Eligibility check failed without a recorded reason' }

function membershipFailure(membership: AwardMembership | null, lotName: string): FailingGate | null {
  if (!membership) return { gate: 'membership', reason: `Not admitted to ${lotName}` }
  if (membership.status === 'admitted') return null
  const because = membership.reason ? `: ${membership.reason}` : ''
  return {
    gate: 'membership',
    reason: `Membership of ${lotName} ${membership.status} since ${membership.statusChangedOn}${because}`,
  }
}

/** Merges failing gates, one per gate name; the earlier list wins. */
function mergeFailingGates(...lists: FailingGate[][]): FailingGate[] {
  const byGate = new Map<string, FailingGate>()
  for (const gate of lists.flat()) if (!byGate.has(gate.gate)) byGate.set(gate.gate, gate)
  return [...byGate.values()]
}

/**
 * Whether a package may be awarded (SPEC §4): the service must be an admitted member of the lot, pass the gates on its
 * published judgement now, and not hold a stored "not eligible" verdict. A stored refusal counts even when the live
 * check passes, because it may come from a judgement published since the caller's facts were read.
 */
export function decideAward(facts: AwardFacts): AwardDecision {
  const notMember = membershipFailure(facts.membership, facts.lotName)
  const stored = facts.storedVerdict
  const storedGates = stored && !stored.eligible ? stored.failingGates : []
  const failingGates = causesFirst(
    mergeFailingGates(notMember ? [notMember] : [], facts.liveVerdict.failingGates, storedGates),
  )
  if (failingGates.length === 0 && (!facts.liveVerdict.eligible || stored?.eligible === false)) {
    failingGates.push(UNEXPLAINED)
  }
  if (failingGates.length === 0) return { eligible: true }
  const message = `Not eligible for new packages: ${failingGates.map((gate) => gate.reason).join('; ')}`
  return { eligible: false, failingGates, message }
}
