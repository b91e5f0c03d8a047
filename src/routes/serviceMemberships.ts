import type { ServiceMembership } from '../data/dps.js'
import { eligibilityTag, membershipTag } from './dps.js'
import { formatDate, formatDateTime } from './display.js'

export interface MembershipRow {
  dps: string
  dpsHref: string
  lot: string
  status: string
  statusTag: { text: string; classes: string }
  statusSince: string
  eligible: string
  eligibleTag: { text: string; classes: string } | null
  why: string
  failingGates: string[]
  evaluatedAt: string | null
}

/** A service's DPS memberships as every role sees them: the lot, its status, eligibility now and the failing gates. */
export function membershipRows(memberships: readonly ServiceMembership[], timeZone: string): MembershipRow[] {
  return memberships.map((m) => {
    const failingGates = m.eligibility?.failingGates.map((gate) => gate.reason) ?? []
    return {
      dps: m.dpsName,
      dpsHref: `/dps/${m.dpsId}`,
      lot: m.lotName,
      status: m.status,
      statusTag: membershipTag(m.status),
      statusSince: formatDate(m.statusChangedOn),
      eligible: m.eligibility ? (m.eligibility.eligible ? 'Eligible' : 'Not eligible') : 'Not evaluated yet',
      eligibleTag: m.eligibility ? eligibilityTag(m.eligibility.eligible) : null,
      why: failingGates.join('; '),
      failingGates,
      evaluatedAt: m.eligibility ? formatDateTime(m.eligibility.evaluatedAt, timeZone) : null,
    }
  })
}
