import { describeAge } from './dates.js'
import { causesFirst, type FailingGate } from './eligibility.js'
import { normaliseWord, RAG_ORDER, type CqcRating, type Rag, type ServiceType } from './vocabulary.js'

/** Lot tiers in allocation order (SPEC §4): zone leads, then borough-wide, then specialist, then reserve. */
export const LOT_TIERS = ['tier1', 'tier2', 'specialist', 'reserve'] as const
export type LotTier = (typeof LOT_TIERS)[number]
export const LOT_TIER_LABELS: Record<LotTier, string> = {
  tier1: 'Tier 1 (zone lead)',
  tier2: 'Tier 2 (borough-wide)',
  specialist: 'Specialist',
  reserve: 'Reserve',
}

export const MEMBERSHIP_STATUSES = ['admitted', 'suspended', 'removed'] as const
export type MembershipStatus = (typeof MEMBERSHIP_STATUSES)[number]

export interface ReferralLot {
  id: number
  name: string
  tier: LotTier
  /** Display name of the zone, e.g. "South and Central"; null for a borough-wide lot. */
  zone: string | null
  /** Areas the lot covers. Empty: the zone name itself is the area, or (no zone) the whole borough. */
  areas: string[]
  serviceType: ServiceType
  /** e.g. 'learning_disability' for a specialist lot. */
  specialism: string | null
}

/** One service's membership of one lot, with what we know of it now. */
export interface ReferralCandidate {
  lotId: number
  serviceId: number
  serviceRef: string
  serviceName: string
  providerName: string | null
  status: MembershipStatus
  statusChangedOn: string | null
  statusReason: string | null
  /** The gate verdict for the service now (membership status aside). */
  eligible: boolean
  failingGates: FailingGate[]
  rag: Rag | null
  score: number | null
  reasons: string[]
  cqcRating: CqcRating | null
  cqcRatedOn: string | null
}

export interface PenPicture {
  area: string
  serviceType: ServiceType
  weeklyHours?: number | null
  startDate?: string | null
  /** Specialist needs, matched against a specialist lot's specialism or name, e.g. ['learning disability']. */
  needs?: string[]
}

export interface ReferralEntry {
  serviceId: number
  serviceRef: string
  serviceName: string
  providerName: string | null
  lotId: number
  lotName: string
  tier: LotTier
  zone: string | null
  rag: Rag | null
  score: number | null
  reasons: string[]
  cqcRating: CqcRating | null
  cqcRatedOn: string | null
  /** "3 years, 2 months"; null when there is no rating date. */
  cqcAge: string | null
  eligible: boolean
  failingGates: FailingGate[]
  /**
   * For an ineligible entry, one line to read to a person: "not eligible: embargo on new placements since ...", the
   * overall RAG last (see causesFirst).
   */
  why: string | null
}

export interface ReferralResult {
  eligible: ReferralEntry[]
  ineligible: ReferralEntry[]
}

function sameWord(a: string, b: string): boolean {
  return normaliseWord(a) === normaliseWord(b)
}

/** Whether a lot covers an area: its listed areas, else its zone name, else (borough-wide) everywhere. */
export function lotCoversArea(lot: ReferralLot, area: string): boolean {
  if (lot.areas.length > 0) return lot.areas.some((covered) => sameWord(covered, area))
  if (lot.zone !== null) return sameWord(lot.zone, area)
  return true
}

/** Specialist lots apply when the pen picture names no needs, or names this lot's specialism (or name). */
function specialismMatches(lot: ReferralLot, needs: string[]): boolean {
  if (needs.length === 0) return true
  return needs.some((need) => (lot.specialism !== null && sameWord(need, lot.specialism)) || sameWord(need, lot.name))
}

export function lotApplies(lot: ReferralLot, pen: PenPicture): boolean {
  if (lot.serviceType !== pen.serviceType) return false
  if (!lotCoversArea(lot, pen.area)) return false
  return lot.tier !== 'specialist' || specialismMatches(lot, pen.needs ?? [])
}

function lowerFirst(text: string): string {
  // Keep acronyms such as "CQC" and "RAG" as written.
  return /^[A-Z][a-z]/.test(text) ? text.charAt(0).toLowerCase() + text.slice(1) : text
}

/** Why a member that is not admitted may not receive packages; null when admitted. */
export function membershipFailure(
  candidate: Pick<ReferralCandidate, 'status' | 'statusChangedOn' | 'statusReason'>,
): FailingGate | null {
  if (candidate.status === 'admitted') return null
  const since = candidate.statusChangedOn ? ` since ${candidate.statusChangedOn}` : ''
  const because = candidate.statusReason ? `: ${candidate.statusReason}` : ''
  return { gate: 'membership', reason: `Membership ${candidate.status}${since}${because}` }
}

const TIER_RANK: Record<LotTier, number> = { tier1: 0, tier2: 1, specialist: 2, reserve: 3 }

function ragRank(rag: Rag | null): number {
  return rag === null ? 3 : RAG_ORDER[rag]
}

function byAllocationOrder(a: ReferralEntry, b: ReferralEntry): number {
  return (
    TIER_RANK[a.tier] - TIER_RANK[b.tier] ||
    ragRank(a.rag) - ragRank(b.rag) ||
    (a.score ?? Number.POSITIVE_INFINITY) - (b.score ?? Number.POSITIVE_INFINITY) ||
    a.serviceName.localeCompare(b.serviceName) ||
    a.serviceId - b.serviceId
  )
}

/**
 * Referral matching (SPEC §4): the eligible services for a pen picture in allocation order (Tier 1 lots of that
 * zone, then Tier 2, then specialist, then reserve; within a tier Green before Amber, then lower score), then the
 * ineligible ones with why. A service in several lots appears once, at its first place. Removed members are left out.
 * Weekly hours and start date are carried for the record; lots hold no capacity to match them against.
 */
export function referralOrder(
  lots: ReferralLot[],
  candidates: ReferralCandidate[],
  pen: PenPicture,
  asOf: string,
): ReferralResult {
  const applicable = new Map(lots.filter((lot) => lotApplies(lot, pen)).map((lot) => [lot.id, lot]))
  const entries: ReferralEntry[] = []
  for (const candidate of candidates) {
    const lot = applicable.get(candidate.lotId)
    if (!lot || candidate.status === 'removed') continue
    const membership = membershipFailure(candidate)
    const failingGates = membership ? [membership, ...candidate.failingGates] : candidate.failingGates
    const eligible = candidate.eligible && membership === null
    entries.push({
      serviceId: candidate.serviceId,
      serviceRef: candidate.serviceRef,
      serviceName: candidate.serviceName,
      providerName: candidate.providerName,
      lotId: lot.id,
      lotName: lot.name,
      tier: lot.tier,
      zone: lot.zone,
      rag: candidate.rag,
      score: candidate.score,
      reasons: candidate.reasons,
      cqcRating: candidate.cqcRating,
      cqcRatedOn: candidate.cqcRatedOn,
      cqcAge: candidate.cqcRatedOn ? describeAge(candidate.cqcRatedOn, asOf) : null,
      eligible,
      failingGates,
      why: eligible
        ? null
        : `not eligible: ${
            causesFirst(failingGates)
              .map((gate) => lowerFirst(gate.reason))
              .join('; ') || 'reason not recorded'
          }`,
    })
  }
  entries.sort(byAllocationOrder)
  const eligible = firstPerService(entries.filter((entry) => entry.eligible))
  const listed = new Set(eligible.map((entry) => entry.serviceId))
  const ineligible = firstPerService(entries.filter((entry) => !entry.eligible && !listed.has(entry.serviceId)))
  return { eligible, ineligible }
}

function firstPerService(entries: ReferralEntry[]): ReferralEntry[] {
  const seen = new Set<number>()
  return entries.filter((entry) => {
    if (seen.has(entry.serviceId)) return false
    seen.add(entry.serviceId)
    return true
  })
}
