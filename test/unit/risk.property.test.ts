import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { addDays, daysBetween } from '../../src/domain/dates.js'
import type { Observation } from '../../src/domain/observation.js'
import { assessRisk, isAdverseObservation } from '../../src/domain/risk.js'
import type { RiskResult } from '../../src/domain/riskResult.js'
import { DEFAULT_RULE_SET } from '../../src/domain/ruleSet.js'
import { INDICATOR_KEYS, RAG_ORDER, type IndicatorKey } from '../../src/domain/vocabulary.js'
import { observationArbitrary as arbitraryObservation } from '../helpers/observationArbitraries.js'

const AS_OF = '2026-06-01'

/** Values each indicator may carry, including ones the engine has never seen. */
const VALUES: Record<IndicatorKey, string[]> = {
  quality_assessment: ['excellent', 'good', 'requires_improvement', 'poor', 'Splendid'],
  cqc_rating: ['outstanding', 'good', 'requires_improvement', 'inadequate', 'not_rated', 'Brilliant'],
  food_hygiene: ['0', '1', '2', '3', '4', '5', 'exempt', 'awaiting_inspection', 'pass', 'improvement_required', '9'],
  safeguarding: ['decision', 'count', 'mystery'],
  embargo: ['embargo'],
  default_notice: ['default_notice'],
  unexpected_deaths: ['death'],
  contract_concerns: ['substantiated', 'not_substantiated', 'open', 'weird'],
  insolvency: ['active', 'voluntary-arrangement', 'administration', 'liquidation', 'dissolved', 'in-orbit'],
  manager_vacancy: ['vacant', 'in_post', 'on_holiday'],
}

/** Days before AS_OF; negative values are after it (the engine must ignore those). */
const DAY_OFFSET = { min: -30, max: 1500 }
const dayOffset = fc.integer(DAY_OFFSET)

const observationArbitrary = arbitraryObservation({
  asOf: AS_OF,
  values: VALUES,
  offset: DAY_OFFSET,
  endAfterMax: 400,
  keyQuestionRatings: ['good', 'requires_improvement', 'inadequate', 'odd'],
  registrationStatuses: ['registered', 'deregistered'],
})

/**
 * Adverse observations whose addition can never make things better:
 * - council events (they accumulate), at any date;
 * - a Red-level record of a latest-wins indicator, dated no earlier than that indicator's latest record.
 * An Amber rating newer than an Inadequate one is genuinely an improvement, and an old rating inserted before
 * the latest can turn a downgrade into an upgrade, so those are not generated. Neither is a safeguarding count:
 * under the default policy it restates the events of its period, which may lower them.
 */
type AdverseSpec =
  | { kind: 'event'; indicator: IndicatorKey; value: string; offset: number; endAfter: number | null }
  | { kind: 'newest_red'; indicator: IndicatorKey; value: string; fraction: number }

const adverseArbitrary: fc.Arbitrary<AdverseSpec> = fc.oneof(
  fc.record({
    kind: fc.constant('event' as const),
    indicator: fc.constantFrom<IndicatorKey>(
      'safeguarding',
      'unexpected_deaths',
      'contract_concerns',
      'default_notice',
      'embargo',
      'manager_vacancy',
    ),
    value: fc.constant(''),
    offset: dayOffset,
    endAfter: fc.option(fc.integer({ min: 0, max: 400 }), { nil: null }),
  }),
  fc
    .constantFrom<[IndicatorKey, string]>(
      ['cqc_rating', 'inadequate'],
      ['quality_assessment', 'poor'],
      ['food_hygiene', '0'],
      ['food_hygiene', '1'],
      ['insolvency', 'liquidation'],
      ['insolvency', 'administration'],
    )
    .chain(([indicator, value]) =>
      fc.record({
        kind: fc.constant('newest_red' as const),
        indicator: fc.constant(indicator),
        value: fc.constant(value),
        fraction: fc.double({ min: 0, max: 1, noNaN: true }),
      }),
    ),
)

const EVENT_VALUES: Partial<Record<IndicatorKey, string>> = {
  safeguarding: 'decision',
  unexpected_deaths: 'death',
  contract_concerns: 'substantiated',
  default_notice: 'default_notice',
  embargo: 'embargo',
  manager_vacancy: 'vacant',
}

function buildAdverse(spec: AdverseSpec, base: readonly Observation[], id: number): Observation {
  const common = {
    id,
    indicator: spec.indicator,
    source: 'demo' as const,
    detail: {},
    reference: null,
    notes: null,
    enteredBy: null,
  }
  if (spec.kind === 'event') {
    const observedOn = addDays(AS_OF, -spec.offset)
    const endAfter = spec.endAfter
    return {
      ...common,
      value: EVENT_VALUES[spec.indicator] ?? '',
      observedOn,
      endDate: endAfter === null ? null : addDays(observedOn, endAfter),
      recordedAt: `${observedOn}T00:00:00Z`,
    }
  }
  const latest = base
    .filter((observation) => observation.indicator === spec.indicator && observation.observedOn <= AS_OF)
    .reduce(
      (best, observation) => (observation.observedOn > best ? observation.observedOn : best),
      addDays(AS_OF, -1500),
    )
  const observedOn = addDays(latest, Math.round(spec.fraction * daysBetween(latest, AS_OF)))
  return { ...common, value: spec.value, observedOn, endDate: null, recordedAt: `${observedOn}T00:00:00Z` }
}

function assess(observations: Observation[]): RiskResult {
  return assessRisk({ observations, ruleSet: DEFAULT_RULE_SET, ruleSetVersion: 1, asOf: AS_OF })
}

/** The monotonicity property, over any engine with the risk engine's shape. */
function adverseNeverImproves(engine: (observations: Observation[]) => RiskResult) {
  return fc.property(fc.array(observationArbitrary, { maxLength: 14 }), adverseArbitrary, (drafts, spec) => {
    const base = drafts.map((draft, index) => ({ ...draft, id: index + 1 }))
    const adverse = buildAdverse(spec, base, base.length + 1)
    expect(isAdverseObservation(adverse, DEFAULT_RULE_SET)).toBe(true)
    const before = engine(base)
    const after = engine([...base, adverse])
    expect(RAG_ORDER[after.computedRag]).toBeGreaterThanOrEqual(RAG_ORDER[before.computedRag])
    if (after.computedRag === before.computedRag) expect(after.score).toBeGreaterThanOrEqual(before.score)
  })
}

describe('risk engine properties', () => {
  it('never improves the overall RAG (or the score within it) when an adverse observation is added', () => {
    fc.assert(adverseNeverImproves(assess), { numRuns: 400 })
  })

  it('can fail: it catches an engine under which a second unexpected death turns the service Green', () => {
    const broken = (observations: Observation[]): RiskResult => {
      const result = assess(observations)
      const deaths = result.indicators.find((indicator) => indicator.key === 'unexpected_deaths')
      return deaths?.level === 'red' ? { ...result, computedRag: 'green', score: 0 } : result
    }
    expect(() => fc.assert(adverseNeverImproves(broken), { numRuns: 2000, seed: 20261204 })).toThrow(/Property failed/)
  })

  it('never crashes and always returns ten indicators with a readable reason', () => {
    fc.assert(
      fc.property(fc.array(observationArbitrary, { maxLength: 14 }), (drafts) => {
        const result = assess(drafts.map((draft, index) => ({ ...draft, id: index + 1 })))
        expect(result.indicators.map((indicator) => indicator.key)).toEqual([...INDICATOR_KEYS])
        for (const indicator of result.indicators) expect(indicator.reason.length).toBeGreaterThan(0)
        expect(result.reasons.length).toBeGreaterThan(0)
      }),
      { numRuns: 200 },
    )
  })

  it('ignores observations dated after the as-of date', () => {
    fc.assert(
      fc.property(fc.array(observationArbitrary, { maxLength: 14 }), (drafts) => {
        const all = drafts.map((draft, index) => ({ ...draft, id: index + 1 }))
        const known = all.filter((observation) => observation.observedOn <= AS_OF)
        expect(assess(all)).toEqual(assess(known))
      }),
      { numRuns: 200 },
    )
  })
})
