import type { IndicatorKey, Source } from './vocabulary.js'

/**
 * One fact about a service from one source at one time (SPEC §2). Observations are append-only:
 * an edit is a new observation that supersedes the old one, and repositories hand the domain only the
 * live (not superseded) ones.
 *
 * `value` and `detail` per indicator (all words normalised with `normaliseWord`):
 * - quality_assessment: value = AssessmentOutcome; observedOn = assessment date;
 *   detail { assessor?, domains?: (AssessmentOutcome | null)[5], status?: 'draft' | 'challenge' | 'published' }.
 *   Only published (or status-less) assessments count.
 * - cqc_rating: value = CqcRating (overall); observedOn = report/publication date (registration date when not rated);
 *   detail { keyQuestions?: Partial<Record<CqcKeyQuestion, CqcRating>>, registrationStatus?: 'registered' | 'deregistered',
 *   timelineOnly?: true (a past report: shown in the history, never today's rating), inheritedFrom?: location id (or
 *   inherited?: true) for a rating carried over from a previous registration, dormant?: true, dormantSince?,
 *   sourceRating? (an unknown overall word), ratingText? (CQC's "no rating" phrase),
 *   unrecognisedRatings?: [{ field, word }] (unknown key question words) }.
 * - food_hygiene: value = '0'..'5' | 'exempt' | 'awaiting_inspection' | 'awaiting_publication' | FHIS words;
 *   observedOn = rating date (date seen when never rated); detail { fhrsId?, businessName? }.
 * - safeguarding: value = 'decision' (one decision to proceed to enquiry; observedOn = decision date; detail.outcome?)
 *   or 'count' (observedOn = period end; detail { periodStart, periodEnd, decisions }).
 * - embargo: value = 'embargo'; observedOn = start; endDate = lifted (null: active).
 * - default_notice: value = 'default_notice'; observedOn = issued; endDate = resolved (null: open); detail.outcome?.
 * - unexpected_deaths: value = 'death'; observedOn = date of death.
 * - contract_concerns: value = 'substantiated' | 'not_substantiated' | 'open'; observedOn = raised.
 * - insolvency: value = CompanyStatus ('no-status' for an oversea company without one); observedOn = date the status
 *   was first seen; detail { companyNumber, statusDetail?, statusSince? (the company's own date: cessation or the
 *   insolvency case's start), statusDateFrom?, insolvencyCase?, dateOfCessation?, missingStatus?, companyType? }.
 * - manager_vacancy: value = 'vacant' | 'in_post' | 'not_named' (CQC names no manager and gives no absent date);
 *   observedOn = vacant since (or date seen); endDate = filled (null: still vacant, for 'vacant');
 *   detail { managerName?, absentDate? (CQC's manager-absent date beside a named manager: the two disagree) }.
 */
export interface Observation {
  id: number
  indicator: IndicatorKey
  source: Source
  /** ISO date (YYYY-MM-DD) of the fact itself, not of when we learnt it. */
  observedOn: string
  endDate: string | null
  value: string
  detail: Record<string, unknown>
  /** Council reference or the source's own record id, e.g. a CQC report link id. */
  reference: string | null
  /** Free-text case notes: compliance and admin only. */
  notes: string | null
  enteredBy: string | null
  /** ISO timestamp when this row was written. */
  recordedAt: string
}

/** What a connector, import or form hands the data layer to append. */
export interface NewObservation {
  serviceId: number
  indicator: IndicatorKey
  source: Source
  observedOn: string
  endDate?: string | null
  value: string
  detail?: Record<string, unknown>
  reference?: string | null
  notes?: string | null
  enteredBy?: string | null
  /**
   * Deduplication key within (service, indicator): the same key is never stored twice, so re-reading a
   * source adds nothing (e.g. `cqc:1-123:2024-05-01`, `council:SG-2291`).
   */
  naturalKey: string
  /** When set, the new observation replaces this one (an edit); the old row is kept as history. */
  supersedes?: number | null
  /**
   * 'natural_key' (default): skip when the key is already stored; appended as a source's corrections
   * (ObservationRepository.appendOrSupersede), a changed value under a stored key supersedes it.
   * 'first_seen': skip when the key is already stored, never a correction (a fact dated the night it was read).
   * 'latest_value': for state-like sources with no date of their own (a company's status), skip when the latest
   * observation from the same source has the same value, so a status that changes back (active, administration,
   * active) is still recorded each time it changes. 'latest_state': the same, comparing the detail too.
   */
  dedupe?: 'natural_key' | 'first_seen' | 'latest_value' | 'latest_state'
}

/** A stored version of an edited fact: an edit supersedes the version before it, which is kept. */
export interface Versioned {
  id: number
  supersedesId: number | null
  supersededById: number | null
}

/** The versions of the item `id` belongs to, newest first; empty when `id` is not among the items. */
export function versionChain<T extends Versioned>(items: readonly T[], id: number): T[] {
  const byId = new Map(items.map((item) => [item.id, item]))
  let newest = byId.get(id)
  while (newest?.supersededById != null && byId.has(newest.supersededById)) newest = byId.get(newest.supersededById)
  const chain: T[] = []
  for (let item = newest; item; item = item.supersedesId === null ? undefined : byId.get(item.supersedesId)) {
    chain.push(item)
  }
  return chain
}
