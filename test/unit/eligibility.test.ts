import { describe, expect, it } from 'vitest'
import {
  causesFirst,
  DEFAULT_GATES,
  evaluateEligibility,
  factsFromRiskResult,
  gatesSchema,
  isInsolventStatus,
  type EligibilityFacts,
} from '../../src/domain/eligibility.js'
import type { IndicatorResult, RiskResult } from '../../src/domain/riskResult.js'
import { INDICATOR_KEYS, type IndicatorKey, type Level } from '../../src/domain/vocabulary.js'

const goodFacts: EligibilityFacts = {
  cqcOverall: 'good',
  cqcRatedOn: '2024-05-01',
  rag: 'green',
  embargoActiveSince: null,
  insolvent: false,
  companyStatus: 'active',
  qualityOutcome: 'good',
  managerInPost: true,
}

function facts(change: Partial<EligibilityFacts>): EligibilityFacts {
  return { ...goodFacts, ...change }
}

function gateNames(result: ReturnType<typeof evaluateEligibility>): string[] {
  return result.failingGates.map((gate) => gate.gate)
}

describe('gatesSchema', () => {
  it('defaults to SPEC §4: CQC Good or above, not Red, no embargo, not insolvent', () => {
    expect(DEFAULT_GATES).toEqual({
      minimumCqcRating: 'good',
      maximumRag: 'amber',
      noActiveEmbargo: true,
      notInsolvent: true,
      minimumQualityOutcome: null,
      registeredManagerInPost: false,
    })
  })

  it('lets a DPS switch gates off or tighten them', () => {
    const gates = gatesSchema.parse({ minimumCqcRating: null, maximumRag: 'green', minimumQualityOutcome: 'good' })
    expect(gates.minimumCqcRating).toBeNull()
    expect(gates.maximumRag).toBe('green')
    expect(gates.minimumQualityOutcome).toBe('good')
    expect(gates.noActiveEmbargo).toBe(true)
  })

  it('rejects unknown gates and unknown ratings', () => {
    expect(gatesSchema.safeParse({ minimumCqcRatin: 'good' }).success).toBe(false)
    expect(gatesSchema.safeParse({ minimumCqcRating: 'fine' }).success).toBe(false)
    expect(gatesSchema.safeParse({ maximumRag: 'purple' }).success).toBe(false)
  })
})

describe('evaluateEligibility with the default gates', () => {
  it('admits a Good, Green, unembargoed, solvent service', () => {
    expect(evaluateEligibility(goodFacts, DEFAULT_GATES)).toEqual({ eligible: true, failingGates: [] })
  })

  it('accepts Outstanding and Amber', () => {
    expect(evaluateEligibility(facts({ cqcOverall: 'outstanding', rag: 'amber' })).eligible).toBe(true)
  })

  it('a downgrade below Good removes eligibility', () => {
    const before = evaluateEligibility(goodFacts)
    const after = evaluateEligibility(facts({ cqcOverall: 'requires_improvement', cqcRatedOn: '2026-03-14' }))
    expect(before.eligible).toBe(true)
    expect(after).toEqual({
      eligible: false,
      failingGates: [
        { gate: 'cqc_rating', reason: 'CQC rating Requires improvement is below Good (rated on 2026-03-14)' },
      ],
    })
    expect(gateNames(evaluateEligibility(facts({ cqcOverall: 'inadequate' })))).toEqual(['cqc_rating'])
  })

  it('a service with no rating or not yet rated fails the CQC gate with a reason saying so', () => {
    expect(evaluateEligibility(facts({ cqcOverall: null })).failingGates).toEqual([
      { gate: 'cqc_rating', reason: 'No CQC rating on record (Good or above required)' },
    ])
    expect(evaluateEligibility(facts({ cqcOverall: 'not_rated' })).failingGates[0]?.reason).toBe(
      'Not yet rated by CQC (Good or above required)',
    )
  })

  it('an overall Red fails the RAG gate', () => {
    expect(evaluateEligibility(facts({ rag: 'red' })).failingGates).toEqual([
      { gate: 'rag', reason: 'Overall RAG is Red' },
    ])
  })

  it('an active embargo bars; lifting it restores eligibility', () => {
    const embargoed = evaluateEligibility(facts({ embargoActiveSince: '2026-11-02' }))
    expect(embargoed.failingGates).toEqual([{ gate: 'embargo', reason: 'Embargo on new placements since 2026-11-02' }])
    expect(evaluateEligibility(facts({ embargoActiveSince: null })).eligible).toBe(true)
  })

  it('an insolvent company fails, naming its status', () => {
    expect(evaluateEligibility(facts({ insolvent: true, companyStatus: 'administration' })).failingGates).toEqual([
      { gate: 'insolvency', reason: 'Company is in administration' },
    ])
    expect(evaluateEligibility(facts({ insolvent: true, companyStatus: null })).failingGates[0]?.reason).toBe(
      'Company is insolvent',
    )
  })

  it('ignores the optional gates unless the DPS sets them', () => {
    expect(evaluateEligibility(facts({ qualityOutcome: 'poor', managerInPost: false })).eligible).toBe(true)
  })

  it('lists every failing gate, in a fixed order, the overall RAG (often their consequence) last', () => {
    const result = evaluateEligibility(
      facts({
        cqcOverall: 'inadequate',
        rag: 'red',
        embargoActiveSince: '2026-11-02',
        insolvent: true,
        companyStatus: 'liquidation',
        qualityOutcome: 'poor',
        managerInPost: false,
      }),
      gatesSchema.parse({ minimumQualityOutcome: 'good', registeredManagerInPost: true }),
    )
    expect(result.eligible).toBe(false)
    expect(gateNames(result)).toEqual([
      'cqc_rating',
      'embargo',
      'insolvency',
      'quality_assessment',
      'registered_manager',
      'rag',
    ])
  })
})

describe('evaluateEligibility with configured gates', () => {
  it('a minimum of Requires improvement admits RI but not Inadequate', () => {
    const gates = gatesSchema.parse({ minimumCqcRating: 'requires_improvement' })
    expect(evaluateEligibility(facts({ cqcOverall: 'requires_improvement' }), gates).eligible).toBe(true)
    expect(evaluateEligibility(facts({ cqcOverall: 'inadequate' }), gates).failingGates[0]?.reason).toBe(
      'CQC rating Inadequate is below Requires improvement (rated on 2024-05-01)',
    )
  })

  it('a gate switched off does not fail', () => {
    const gates = gatesSchema.parse({
      minimumCqcRating: null,
      maximumRag: null,
      noActiveEmbargo: false,
      notInsolvent: false,
    })
    const worst = facts({ cqcOverall: null, rag: 'red', embargoActiveSince: '2026-01-01', insolvent: true })
    expect(evaluateEligibility(worst, gates)).toEqual({ eligible: true, failingGates: [] })
  })

  it('a maximum RAG of Green refuses Amber', () => {
    const gates = gatesSchema.parse({ maximumRag: 'green' })
    expect(evaluateEligibility(facts({ rag: 'amber' }), gates).failingGates).toEqual([
      { gate: 'rag', reason: 'Overall RAG is Amber (Green or better required)' },
    ])
  })

  it('a minimum quality outcome fails below it and passes a service not yet assessed', () => {
    const gates = gatesSchema.parse({ minimumQualityOutcome: 'good' })
    expect(evaluateEligibility(facts({ qualityOutcome: 'requires_improvement' }), gates).failingGates).toEqual([
      { gate: 'quality_assessment', reason: 'Quality assessment Requires improvement is below Good' },
    ])
    expect(evaluateEligibility(facts({ qualityOutcome: 'excellent' }), gates).eligible).toBe(true)
    expect(evaluateEligibility(facts({ qualityOutcome: null }), gates).eligible).toBe(true)
  })

  it('requiring a registered manager fails a vacancy and passes when nothing is known', () => {
    const gates = gatesSchema.parse({ registeredManagerInPost: true })
    expect(evaluateEligibility(facts({ managerInPost: false }), gates).failingGates).toEqual([
      { gate: 'registered_manager', reason: 'No registered manager in post' },
    ])
    expect(evaluateEligibility(facts({ managerInPost: null }), gates).eligible).toBe(true)
  })
})

describe('causesFirst', () => {
  it('moves the overall RAG after the gates that explain it, keeping the others in order', () => {
    const gates = [
      { gate: 'cqc_rating', reason: 'a' },
      { gate: 'rag', reason: 'b' },
      { gate: 'embargo', reason: 'c' },
      { gate: 'insolvency', reason: 'd' },
    ]
    expect(causesFirst(gates).map((g) => g.gate)).toEqual(['cqc_rating', 'embargo', 'insolvency', 'rag'])
    expect(causesFirst([{ gate: 'rag', reason: 'b' }])).toEqual([{ gate: 'rag', reason: 'b' }])
  })
})

describe('isInsolventStatus', () => {
  it('treats Red company statuses as insolvent and voluntary arrangement as not', () => {
    for (const status of ['administration', 'receivership', 'liquidation', 'insolvency-proceedings', 'dissolved']) {
      expect(isInsolventStatus(status)).toBe(true)
    }
    expect(isInsolventStatus('Insolvency proceedings')).toBe(true)
    expect(isInsolventStatus('active')).toBe(false)
    expect(isInsolventStatus('voluntary-arrangement')).toBe(false)
    expect(isInsolventStatus(null)).toBe(false)
  })
})

describe('evaluateEligibility on a RiskResult', () => {
  function indicator(
    key: IndicatorKey,
    level: Level,
    value: string | null,
    date: string | null = null,
  ): IndicatorResult {
    return { key, level, value, date, source: null, reason: '', stale: false }
  }

  function risk(rag: RiskResult['rag'], overrides: IndicatorResult[]): RiskResult {
    const byKey = new Map(overrides.map((o) => [o.key, o]))
    return {
      rag,
      computedRag: rag,
      score: 0,
      reasons: [],
      indicators: INDICATOR_KEYS.map((key) => byKey.get(key) ?? indicator(key, 'none', null)),
      override: null,
      flags: { multipleConcerns: false, recentlyDowngraded: false, notYetAssessed: false, deteriorating: false },
      ruleSetVersion: 1,
      asOf: '2026-11-20',
    }
  }

  it('reads the CQC rating, embargo, insolvency, quality and manager indicators', () => {
    const result = risk('red', [
      indicator('cqc_rating', 'amber', 'Requires improvement', '2026-03-14'),
      indicator('embargo', 'red', 'Active', '2026-11-02'),
      indicator('insolvency', 'red', 'In administration', '2026-10-01'),
      indicator('quality_assessment', 'amber', 'Requires Improvement', '2026-01-10'),
      indicator('manager_vacancy', 'amber', 'Vacant for 40 days', '2026-10-11'),
    ])
    expect(factsFromRiskResult(result)).toEqual({
      cqcOverall: 'requires_improvement',
      cqcRatedOn: '2026-03-14',
      rag: 'red',
      embargoActiveSince: '2026-11-02',
      insolvent: true,
      companyStatus: 'administration',
      qualityOutcome: 'requires_improvement',
      managerInPost: false,
    })
    expect(evaluateEligibility(result).failingGates.map((g) => g.reason)).toEqual([
      'CQC rating Requires improvement is below Good (rated on 2026-03-14)',
      'Embargo on new placements since 2026-11-02',
      'Company is in administration',
      'Overall RAG is Red',
    ])
  })

  it('a Good, Green result with no other data is eligible', () => {
    const result = risk('green', [indicator('cqc_rating', 'green', 'Good', '2023-02-01')])
    expect(evaluateEligibility(result)).toEqual({ eligible: true, failingGates: [] })
  })

  it('fails closed when the CQC value cannot be read', () => {
    const result = risk('green', [indicator('cqc_rating', 'green', '???', '2023-02-01')])
    expect(evaluateEligibility(result).failingGates.map((g) => g.gate)).toEqual(['cqc_rating'])
  })

  it('reads an active embargo whatever level the rule set gives it, and ignores a lifted one', () => {
    const amber = risk('amber', [indicator('embargo', 'amber', 'Active', '2026-11-02')])
    expect(factsFromRiskResult(amber).embargoActiveSince).toBe('2026-11-02')
    const lifted = risk('green', [indicator('embargo', 'green', 'None active', '2026-10-01')])
    expect(factsFromRiskResult(lifted).embargoActiveSince).toBeNull()
  })

  it('reads "Not yet rated" as not rated', () => {
    const result = risk('amber', [indicator('cqc_rating', 'amber', 'Not yet rated', '2025-09-01')])
    expect(factsFromRiskResult(result).cqcOverall).toBe('not_rated')
  })
})

describe('the CQC gate for deregistered and dormant locations (SPEC §5)', () => {
  const riskWith = (value: string, level: Level): RiskResult => ({
    rag: 'green',
    computedRag: 'green',
    score: 0,
    reasons: [],
    indicators: INDICATOR_KEYS.map((key) =>
      key === 'cqc_rating'
        ? { key, level, value, date: '2024-05-01', source: 'cqc_api', reason: '', stale: false }
        : { key, level: 'none', value: null, date: null, source: null, reason: '', stale: false },
    ),
    override: null,
    flags: { multipleConcerns: false, recentlyDowngraded: false, notYetAssessed: false, deteriorating: false },
    ruleSetVersion: 1,
    asOf: '2026-11-20',
  })

  it('fails a deregistered location with that reason', () => {
    const result = evaluateEligibility(riskWith('Deregistered', 'amber'))
    expect(result.failingGates[0]).toEqual({
      gate: 'cqc_rating',
      reason: 'CQC location deregistered: registration cancelled (Good or above required)',
    })
  })

  it('fails a dormant location rated Good with that reason, keeping its rating', () => {
    const risk = riskWith('Good - dormant', 'green')
    expect(factsFromRiskResult(risk)).toMatchObject({ cqcOverall: 'good', cqcStanding: 'dormant' })
    expect(evaluateEligibility(risk).failingGates).toEqual([
      { gate: 'cqc_rating', reason: 'CQC location dormant: not providing care (Good or above required)' },
    ])
  })
})
