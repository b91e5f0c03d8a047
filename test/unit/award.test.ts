import { describe, expect, it } from 'vitest'
import { decideAward, type AwardFacts } from '../../src/domain/award.js'
import type { EligibilityResult } from '../../src/domain/eligibility.js'

const eligible: EligibilityResult = { eligible: true, failingGates: [] }
const embargo = { gate: 'embargo', reason: 'Embargo on new placements since 2026-11-02' } as const
const red = { gate: 'rag', reason: 'RAG is Red' } as const

function facts(overrides: Partial<AwardFacts> = {}): AwardFacts {
  return {
    lotName: 'Tier 1 North',
    membership: { status: 'admitted', statusChangedOn: '2025-04-01', reason: null },
    storedVerdict: eligible,
    liveVerdict: eligible,
    ...overrides,
  }
}

describe('decideAward', () => {
  it('allows an admitted member passing the gates now and by its stored verdict', () => {
    expect(decideAward(facts())).toEqual({ eligible: true })
    expect(decideAward(facts({ storedVerdict: null }))).toEqual({ eligible: true })
  })

  it('refuses a service never admitted, or suspended or removed, naming the lot', () => {
    expect(decideAward(facts({ membership: null }))).toEqual({
      eligible: false,
      failingGates: [{ gate: 'membership', reason: 'Not admitted to Tier 1 North' }],
      message: 'Not eligible for new packages: Not admitted to Tier 1 North',
    })
    const suspended = { status: 'suspended', statusChangedOn: '2026-02-01', reason: 'Late returns' } as const
    expect(decideAward(facts({ membership: suspended }))).toMatchObject({
      failingGates: [
        { gate: 'membership', reason: 'Membership of Tier 1 North suspended since 2026-02-01: Late returns' },
      ],
    })
    const removed = { status: 'removed', statusChangedOn: '2026-03-01', reason: null } as const
    expect(decideAward(facts({ membership: removed }))).toMatchObject({
      failingGates: [{ gate: 'membership', reason: 'Membership of Tier 1 North removed since 2026-03-01' }],
    })
  })

  it('refuses on a stored "not eligible" verdict even when the live check passes (a judgement published since)', () => {
    const decision = decideAward(facts({ storedVerdict: { eligible: false, failingGates: [embargo] } }))
    expect(decision).toEqual({
      eligible: false,
      failingGates: [embargo],
      message: 'Not eligible for new packages: Embargo on new placements since 2026-11-02',
    })
  })

  it('merges the reasons one per gate, membership first, live before stored, the RAG last', () => {
    const staleEmbargo = { gate: 'embargo', reason: 'Embargo on new placements since 2026-10-01' } as const
    const decision = decideAward(
      facts({
        membership: null,
        liveVerdict: { eligible: false, failingGates: [red, embargo] },
        storedVerdict: { eligible: false, failingGates: [staleEmbargo] },
      }),
    )
    expect(decision).toMatchObject({
      failingGates: [{ gate: 'membership', reason: 'Not admitted to Tier 1 North' }, embargo, red],
      message:
        'Not eligible for new packages: Not admitted to Tier 1 North; Embargo on new placements since 2026-11-02; RAG is Red',
    })
  })

  it('never allows a refusal that names no gate', () => {
    const unexplained = [{ gate: 'data', reason: 'Eligibility check failed without a recorded reason' }]
    expect(decideAward(facts({ liveVerdict: { eligible: false, failingGates: [] } }))).toMatchObject({
      eligible: false,
      failingGates: unexplained,
    })
    expect(decideAward(facts({ storedVerdict: { eligible: false, failingGates: [] } }))).toMatchObject({
      eligible: false,
      failingGates: unexplained,
    })
  })
})
