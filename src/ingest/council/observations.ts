import type { NewObservation } from '../../domain/observation.js'
import { INDICATOR_OF_KIND } from '../../domain/vocabulary.js'
import type { AssessmentRow, IntelligenceRow, SafeguardingCountRow } from './schemas.js'

/**
 * Council rows as observation fields (conventions in src/domain/observation.ts). The caller adds serviceId (after
 * finding the service), source ('council_csv' or 'council_inbox') and enteredBy.
 */
export type CouncilObservationFields = Required<
  Pick<
    NewObservation,
    'indicator' | 'value' | 'observedOn' | 'endDate' | 'detail' | 'reference' | 'notes' | 'naturalKey'
  >
>

/**
 * One intelligence row. With a reference, the key is `council:<kind>:<reference>`. Without one, an event is known by
 * its kind and date (`council:<kind>:on:<date>:<occurrence>`), so a later export of the same event (an embargo now
 * lifted, a concern now substantiated) lands on the same key and can supersede it rather than count twice;
 * `occurrence` tells apart several such events of one service on one day (see intelligenceObservations).
 */
export function intelligenceObservation(row: IntelligenceRow, occurrence = 1): CouncilObservationFields {
  const naturalKey =
    row.reference !== null ? `council:${row.kind}:${row.reference}` : `council:${row.kind}:on:${row.date}:${occurrence}`
  const detail: Record<string, unknown> = {}
  let value: string
  switch (row.kind) {
    case 'safeguarding_decision':
      value = 'decision'
      break
    case 'embargo':
      value = 'embargo'
      break
    case 'default_notice':
      value = 'default_notice'
      break
    case 'unexpected_death':
      value = 'death'
      break
    case 'contract_concern':
      // The schema requires an outcome for contract concerns.
      value = row.outcome ?? 'open'
      break
    case 'manager_vacancy':
      value = 'vacant'
      break
  }
  if (row.outcome !== null && row.kind !== 'contract_concern') detail.outcome = row.outcome
  return {
    indicator: INDICATOR_OF_KIND[row.kind],
    value,
    observedOn: row.date,
    endDate: row.endDate,
    detail,
    reference: row.reference,
    notes: row.notes,
    naturalKey,
  }
}

/**
 * The rows of one file, numbering repeated reference-less events (same service, kind and date) 1, 2, 3... in file
 * order, so two unexpected deaths on one day are two observations and re-reading the file adds nothing.
 */
export function intelligenceObservations(rows: readonly IntelligenceRow[]): CouncilObservationFields[] {
  return intelligenceNumbering()(rows)
}

/**
 * intelligenceObservations for a file read in batches: call the returned function with each batch in file order, and
 * the numbering runs on across batches as if the file were read whole.
 */
export function intelligenceNumbering(): (rows: readonly IntelligenceRow[]) => CouncilObservationFields[] {
  const seen = new Map<string, number>()
  return (rows) =>
    rows.map((row) => {
      if (row.reference !== null) return intelligenceObservation(row)
      const event = JSON.stringify([row.serviceRef, row.cqcLocationId, row.kind, row.date])
      const occurrence = (seen.get(event) ?? 0) + 1
      seen.set(event, occurrence)
      return intelligenceObservation(row, occurrence)
    })
}

export function assessmentObservation(row: AssessmentRow): CouncilObservationFields {
  const detail: Record<string, unknown> = {}
  if (row.assessor !== null) detail.assessor = row.assessor
  if (row.domains.some((domain) => domain !== null)) detail.domains = row.domains
  return {
    indicator: 'quality_assessment',
    value: row.outcome,
    observedOn: row.assessmentDate,
    endDate: null,
    detail,
    reference: null,
    notes: null,
    // One assessment per service per date: a corrected outcome re-sent for the same date supersedes the first.
    naturalKey: `qa:${row.assessmentDate}`,
  }
}

/** A count of decisions to proceed to enquiry, counted toward the 12-month window by its period end (SPEC §6). */
export function safeguardingCountObservation(row: SafeguardingCountRow): CouncilObservationFields {
  return {
    indicator: 'safeguarding',
    value: 'count',
    observedOn: row.periodEnd,
    endDate: null,
    detail: { periodStart: row.periodStart, periodEnd: row.periodEnd, decisions: row.decisions },
    reference: null,
    notes: null,
    naturalKey: `sgcount:${row.periodStart}:${row.periodEnd}`,
  }
}
