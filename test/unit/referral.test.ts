import { describe, expect, it } from 'vitest'
import {
  lotCoversArea,
  referralOrder,
  type ReferralCandidate,
  type ReferralLot,
  type PenPicture,
} from '../../src/domain/referral.js'

const lots: ReferralLot[] = [
  {
    id: 1,
    name: 'Tier 1: North',
    tier: 'tier1',
    zone: 'North',
    areas: ['North'],
    serviceType: 'home_care',
    specialism: null,
  },
  {
    id: 2,
    name: 'Tier 1: South and Central',
    tier: 'tier1',
    zone: 'South and Central',
    areas: ['South', 'Central'],
    serviceType: 'home_care',
    specialism: null,
  },
  { id: 3, name: 'Tier 2', tier: 'tier2', zone: null, areas: [], serviceType: 'home_care', specialism: null },
  {
    id: 4,
    name: 'Learning disability',
    tier: 'specialist',
    zone: null,
    areas: [],
    serviceType: 'home_care',
    specialism: 'learning_disability',
  },
  { id: 5, name: 'Reserve', tier: 'reserve', zone: null, areas: [], serviceType: 'home_care', specialism: null },
  {
    id: 6,
    name: 'Supported living',
    tier: 'tier1',
    zone: 'North',
    areas: [],
    serviceType: 'supported_living',
    specialism: null,
  },
]

let nextId = 100
function candidate(lotId: number, name: string, change: Partial<ReferralCandidate> = {}): ReferralCandidate {
  const serviceId = change.serviceId ?? nextId++
  return {
    lotId,
    serviceId,
    serviceRef: `S-${serviceId}`,
    serviceName: name,
    providerName: 'Provider',
    status: 'admitted',
    statusChangedOn: '2025-01-01',
    statusReason: null,
    eligible: true,
    failingGates: [],
    rag: 'green',
    score: 1,
    reasons: [],
    cqcRating: 'good',
    cqcRatedOn: '2023-11-20',
    ...change,
  }
}

const north: PenPicture = { area: 'North', serviceType: 'home_care', weeklyHours: 10, startDate: '2026-12-01' }

function names(entries: Array<{ serviceName: string }>): string[] {
  return entries.map((entry) => entry.serviceName)
}

describe('lotCoversArea', () => {
  it('matches listed areas, else the zone name, else everywhere', () => {
    expect(lotCoversArea(lots[1] as ReferralLot, 'central')).toBe(true)
    expect(lotCoversArea(lots[1] as ReferralLot, 'North')).toBe(false)
    expect(lotCoversArea(lots[5] as ReferralLot, 'north')).toBe(true)
    expect(lotCoversArea(lots[2] as ReferralLot, 'Anywhere')).toBe(true)
  })
})

describe('referralOrder', () => {
  it('orders Tier 1 of the zone, then Tier 2, then specialist, then reserve', () => {
    const candidates = [
      candidate(5, 'Reserve care'),
      candidate(4, 'Specialist care'),
      candidate(3, 'Borough care'),
      candidate(1, 'North care'),
      candidate(2, 'South care'),
    ]
    const result = referralOrder(lots, candidates, north, '2026-11-20')
    expect(names(result.eligible)).toEqual(['North care', 'Borough care', 'Specialist care', 'Reserve care'])
    expect(result.eligible.map((e) => e.tier)).toEqual(['tier1', 'tier2', 'specialist', 'reserve'])
    expect(result.ineligible).toEqual([])
  })

  it('uses the zone that covers the area', () => {
    const candidates = [candidate(1, 'North care'), candidate(2, 'South care'), candidate(3, 'Borough care')]
    const central = referralOrder(lots, candidates, { area: 'Central', serviceType: 'home_care' }, '2026-11-20')
    expect(names(central.eligible)).toEqual(['South care', 'Borough care'])
  })

  it('within a tier puts Green before Amber, then the lower score first', () => {
    const candidates = [
      candidate(1, 'Amber low', { rag: 'amber', score: 1 }),
      candidate(1, 'Green high', { rag: 'green', score: 9 }),
      candidate(1, 'Green low', { rag: 'green', score: 2 }),
      candidate(1, 'Unjudged', { rag: null, score: null }),
    ]
    expect(names(referralOrder(lots, candidates, north, '2026-11-20').eligible)).toEqual([
      'Green low',
      'Green high',
      'Amber low',
      'Unjudged',
    ])
  })

  it('lists the ineligible below with why, and leaves removed members out', () => {
    const candidates = [
      candidate(1, 'Embargoed', {
        eligible: false,
        failingGates: [{ gate: 'embargo', reason: 'Embargo on new placements since 2026-11-02' }],
      }),
      candidate(1, 'Downgraded', {
        eligible: false,
        rag: 'amber',
        failingGates: [{ gate: 'cqc_rating', reason: 'CQC rating Requires improvement is below Good' }],
      }),
      candidate(1, 'Suspended', { status: 'suspended', statusChangedOn: '2026-10-01', statusReason: 'Late returns' }),
      candidate(1, 'Removed', { status: 'removed' }),
      candidate(1, 'Open'),
    ]
    const result = referralOrder(lots, candidates, north, '2026-11-20')
    expect(names(result.eligible)).toEqual(['Open'])
    expect(result.ineligible.map((e) => [e.serviceName, e.why])).toEqual([
      ['Embargoed', 'not eligible: embargo on new placements since 2026-11-02'],
      ['Suspended', 'not eligible: membership suspended since 2026-10-01: Late returns'],
      ['Downgraded', 'not eligible: CQC rating Requires improvement is below Good'],
    ])
  })

  it('reads the cause before the Red RAG it brings: "not eligible: embargo ... since ...; overall RAG is Red"', () => {
    const candidates = [
      candidate(1, 'Embargoed and Red', {
        eligible: false,
        rag: 'red',
        failingGates: [
          { gate: 'rag', reason: 'Overall RAG is Red' },
          { gate: 'embargo', reason: 'Embargo on new placements since 2026-11-20' },
        ],
      }),
    ]
    const [entry] = referralOrder(lots, candidates, north, '2026-11-23').ineligible
    expect(entry?.why).toBe('not eligible: embargo on new placements since 2026-11-20; overall RAG is Red')
    expect(entry?.failingGates.map((gate) => gate.gate)).toEqual(['rag', 'embargo'])
  })

  it('lists a service once, at its first place, and not as ineligible when eligible elsewhere', () => {
    const both = 500
    const candidates = [
      candidate(3, 'Twice', { serviceId: both }),
      candidate(1, 'Twice', { serviceId: both }),
      candidate(1, 'Suspended here', { serviceId: 501, status: 'suspended' }),
      candidate(3, 'Suspended here', { serviceId: 501 }),
    ]
    const result = referralOrder(lots, candidates, north, '2026-11-20')
    expect(result.eligible.map((e) => [e.serviceName, e.tier])).toEqual([
      ['Twice', 'tier1'],
      ['Suspended here', 'tier2'],
    ])
    expect(result.ineligible).toEqual([])
  })

  it('matches the service type and, when needs are given, only the specialist lots for them', () => {
    const candidates = [candidate(4, 'LD specialist'), candidate(6, 'Supported living north')]
    expect(names(referralOrder(lots, candidates, north, '2026-11-20').eligible)).toEqual(['LD specialist'])
    const mentalHealth = { ...north, needs: ['mental health'] }
    expect(names(referralOrder(lots, candidates, mentalHealth, '2026-11-20').eligible)).toEqual([])
    const learning = { ...north, needs: ['Learning disability'] }
    expect(names(referralOrder(lots, candidates, learning, '2026-11-20').eligible)).toEqual(['LD specialist'])
    const supported = { area: 'North', serviceType: 'supported_living' as const }
    expect(names(referralOrder(lots, candidates, supported, '2026-11-20').eligible)).toEqual(['Supported living north'])
  })

  it('gives each entry its RAG, reasons, CQC rating and the rating age', () => {
    const [entry] = referralOrder(
      lots,
      [candidate(1, 'North care', { reasons: ['CQC rated Good on 2023-11-20'] })],
      north,
      '2026-11-20',
    ).eligible
    expect(entry).toMatchObject({
      rag: 'green',
      reasons: ['CQC rated Good on 2023-11-20'],
      cqcRating: 'good',
      cqcRatedOn: '2023-11-20',
      cqcAge: '3 years',
      lotName: 'Tier 1: North',
      why: null,
    })
  })
})
