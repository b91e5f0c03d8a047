import fc from 'fast-check'
import { addDays } from '../../src/domain/dates.js'
import type { Observation } from '../../src/domain/observation.js'
import { INDICATOR_KEYS, type IndicatorKey } from '../../src/domain/vocabulary.js'

export type DraftObservation = Omit<Observation, 'id'>

export interface ObservationArbitraryOptions {
  asOf: string
  /** The values each indicator may carry (repeat one to make it likelier; add some the engine does not know). */
  values: Record<IndicatorKey, string[]>
  /** Days before asOf an observation is dated; negative: after it (not known yet as of asOf). */
  offset: { min: number; max: number }
  /** Longest gap from an observation to its end date (or none). */
  endAfterMax: number
  keyQuestionRatings: string[]
  registrationStatuses: string[]
  /** Days a safeguarding count's period may end after the day it was entered on; none: it ends that day. */
  periodEndAfter?: number[]
}

/** Generated observations of every indicator, with the detail fields the indicators read (fast-check). */
export function observationArbitrary(options: ObservationArbitraryOptions): fc.Arbitrary<DraftObservation> {
  const detail = fc.record(
    {
      status: fc.constantFrom('draft', 'challenge', 'published'),
      keyQuestions: fc.dictionary(
        fc.constantFrom('safe', 'effective', 'caring', 'responsive', 'well_led'),
        fc.constantFrom(...options.keyQuestionRatings),
      ),
      registrationStatus: fc.constantFrom(...options.registrationStatuses),
      statusDetail: fc.constantFrom('active-proposal-to-strike-off', 'transferred-from-uk'),
      outcome: fc.constantFrom('open', 'resolved'),
      countSpan: fc.integer({ min: 0, max: 200 }),
      ...(options.periodEndAfter ? { periodEndAfter: fc.constantFrom(...options.periodEndAfter) } : {}),
      decisions: fc.integer({ min: 0, max: 5 }),
    },
    { requiredKeys: [] },
  )
  return fc
    .constantFrom(...INDICATOR_KEYS)
    .chain((indicator) =>
      fc.record({
        indicator: fc.constant(indicator),
        value: fc.constantFrom(...options.values[indicator]),
        offset: fc.integer(options.offset),
        endAfter: fc.option(fc.integer({ min: 0, max: options.endAfterMax }), { nil: null }),
        detail,
      }),
    )
    .map(({ indicator, value, offset, endAfter, detail: drawn }) => {
      const observedOn = addDays(options.asOf, -offset)
      const { countSpan, periodEndAfter, ...rest } = drawn as typeof drawn & { periodEndAfter?: number }
      const periodEnd = addDays(observedOn, periodEndAfter ?? 0)
      const countDetail = value === 'count' ? { periodStart: addDays(periodEnd, -(countSpan ?? 30)), periodEnd } : {}
      return {
        indicator,
        source: 'demo' as const,
        observedOn,
        endDate: endAfter === null ? null : addDays(observedOn, endAfter),
        value,
        detail: { ...rest, ...countDetail },
        reference: null,
        notes: null,
        enteredBy: null,
        recordedAt: `${observedOn}T00:00:00Z`,
      }
    })
}
