import { describe, expect, it } from 'vitest'
import {
  buildTimeline,
  cqcMixKeyOn,
  isMemberOn,
  isOperatingOn,
  percentOf,
  providerRollups,
  qualityMixKeyOn,
  rollUpProvider,
  stateOn,
  summariseMarket,
  type MarketService,
  type ProviderServiceRisk,
  type ServicePositions,
  type ServiceState,
} from '../../src/domain/market.js'
import type { Observation } from '../../src/domain/observation.js'
import { DEFAULT_RULE_SET } from '../../src/domain/ruleSet.js'

let nextId = 1
function observation(
  partial: Partial<Observation> & Pick<Observation, 'indicator' | 'value' | 'observedOn'>,
): Observation {
  return {
    id: nextId++,
    source: 'cqc_api',
    endDate: null,
    detail: {},
    reference: null,
    notes: null,
    enteredBy: null,
    recordedAt: '2026-01-01T00:00:00Z',
    ...partial,
  }
}

function service(partial: Partial<MarketService> = {}): MarketService {
  return {
    id: nextId++,
    ref: `SVC-${nextId}`,
    name: `Service ${nextId}`,
    providerId: 1,
    providerName: 'Provider',
    serviceType: 'home_care',
    area: 'North',
    capacity: 100,
    contractStatus: 'contracted',
    registeredOn: '2015-01-01',
    deregisteredOn: null,
    memberships: [],
    ...partial,
  }
}

const state = (overrides: Partial<ServiceState> = {}): ServiceState => ({
  cqc: 'good',
  quality: 'good',
  rag: 'green',
  deteriorating: false,
  ...overrides,
})

describe('ratings as of a date', () => {
  const history = [
    observation({ indicator: 'cqc_rating', value: 'good', observedOn: '2020-05-01' }),
    observation({ indicator: 'cqc_rating', value: 'Requires Improvement', observedOn: '2025-06-01' }),
    observation({
      indicator: 'quality_assessment',
      value: 'poor',
      observedOn: '2025-03-01',
      detail: { status: 'draft' },
    }),
    observation({ indicator: 'quality_assessment', value: 'excellent', observedOn: '2024-03-01' }),
  ]

  it('takes the latest CQC record known on the date, ignoring later ones', () => {
    expect(cqcMixKeyOn(history, '2019-12-31')).toBe('not_inspected')
    expect(cqcMixKeyOn(history, '2025-05-31')).toBe('good')
    expect(cqcMixKeyOn(history, '2025-06-01')).toBe('requires_improvement')
  })

  it('counts "not yet rated" as not inspected', () => {
    const notRated = [observation({ indicator: 'cqc_rating', value: 'not_rated', observedOn: '2025-01-01' })]
    expect(cqcMixKeyOn(notRated, '2026-01-01')).toBe('not_inspected')
  })

  it('counts only published quality assessments', () => {
    expect(qualityMixKeyOn(history, '2026-01-01')).toBe('excellent')
    expect(qualityMixKeyOn(history, '2024-01-01')).toBe('not_assessed')
  })
})

describe('who is in the market on a date', () => {
  it('needs registration by then and no deregistration yet', () => {
    const s = service({ registeredOn: '2025-06-01', deregisteredOn: '2026-02-01' })
    expect(isOperatingOn(s, [], '2025-05-31')).toBe(false)
    expect(isOperatingOn(s, [], '2025-06-01')).toBe(true)
    expect(isOperatingOn(s, [], '2026-02-01')).toBe(false)
  })

  it('treats a deregistered CQC record as an exit from that day', () => {
    const s = service()
    const obs = [
      observation({ indicator: 'cqc_rating', value: 'good', observedOn: '2020-01-01' }),
      observation({
        indicator: 'cqc_rating',
        value: 'good',
        observedOn: '2025-09-01',
        detail: { registrationStatus: 'deregistered' },
      }),
    ]
    expect(isOperatingOn(s, obs, '2025-08-31')).toBe(true)
    expect(isOperatingOn(s, obs, '2025-09-01')).toBe(false)
  })

  it('leaves out services that are not contracted', () => {
    const judge = () => ({ rag: 'green' as const, deteriorating: false })
    expect(stateOn(service({ contractStatus: 'spot' }), [], '2026-01-01', judge)).toBeNull()
    expect(stateOn(service(), [], '2026-01-01', judge)).toEqual(
      state({ cqc: 'not_inspected', quality: 'not_assessed' }),
    )
  })

  it('holds a membership from admission until removal; a suspension keeps it', () => {
    const base = { dpsId: 1, dpsName: 'DPS', lotName: 'Lot', admittedOn: '2025-01-01', statusChangedOn: '2025-07-01' }
    expect(isMemberOn({ ...base, status: 'removed' }, '2024-12-31')).toBe(false)
    expect(isMemberOn({ ...base, status: 'removed' }, '2025-06-30')).toBe(true)
    expect(isMemberOn({ ...base, status: 'removed' }, '2025-07-01')).toBe(false)
    expect(isMemberOn({ ...base, status: 'suspended' }, '2025-08-01')).toBe(true)
  })
})

describe('summariseMarket', () => {
  const from = '2025-01-01'
  const to = '2026-01-01'

  it('counts the mix at each date with percentages of that date', () => {
    const positions: ServicePositions[] = [
      { service: service(), from: state({ cqc: 'good' }), to: state({ cqc: 'inadequate', rag: 'red' }) },
      { service: service(), from: state({ cqc: 'good' }), to: state({ cqc: 'good' }) },
      { service: service(), from: state({ cqc: 'outstanding' }), to: state({ cqc: 'good' }) },
      { service: service(), from: null, to: null },
    ]
    const summary = summariseMarket(from, to, positions)
    const cqc = Object.fromEntries(summary.overall.mixes.cqc.rows.map((r) => [r.key, r]))
    expect(summary.overall.services).toEqual({ from: 3, to: 3 })
    expect(cqc.good?.from).toEqual({ count: 2, percent: 66.7 })
    expect(cqc.good?.to).toEqual({ count: 2, percent: 66.7 })
    expect(cqc.outstanding?.from).toEqual({ count: 1, percent: 33.3 })
    expect(cqc.inadequate?.to).toEqual({ count: 1, percent: 33.3 })
    expect(summary.overall.mixes.rag.rows.find((r) => r.key === 'red')?.to.count).toBe(1)
  })

  it('groups by service type, area and DPS membership on each date', () => {
    const membership = { dpsId: 7, dpsName: 'Home Care DPS', lotName: 'North', status: 'admitted' as const }
    const positions: ServicePositions[] = [
      {
        service: service({
          area: 'North',
          memberships: [{ ...membership, admittedOn: '2025-06-01', statusChangedOn: '2025-06-01' }],
        }),
        from: state(),
        to: state(),
      },
      { service: service({ area: 'South', serviceType: 'care_home_nursing' }), from: state(), to: state() },
    ]
    const summary = summariseMarket(from, to, positions)
    expect(summary.byType.map((g) => [g.key, g.services])).toEqual([
      ['home_care', { from: 1, to: 1 }],
      ['care_home_nursing', { from: 1, to: 1 }],
    ])
    expect(summary.byArea.map((g) => g.key)).toEqual(['North', 'South'])
    expect(summary.byDps).toHaveLength(1)
    expect(summary.byDps[0]?.services).toEqual({ from: 0, to: 1 })
    expect(summary.entries.map((e) => [e.kind, e.on])).toEqual([['admitted', '2025-06-01']])
  })

  it('lists registrations as entries and deregistrations as exits', () => {
    const positions: ServicePositions[] = [
      { service: service({ registeredOn: '2025-03-01', name: 'New' }), from: null, to: state() },
      { service: service({ deregisteredOn: '2025-09-01', name: 'Gone' }), from: state(), to: null },
    ]
    const summary = summariseMarket(from, to, positions)
    expect(summary.entries.map((e) => [e.name, e.kind, e.on])).toEqual([['New', 'registered', '2025-03-01']])
    expect(summary.exits.map((e) => [e.name, e.kind, e.on])).toEqual([['Gone', 'deregistered', '2025-09-01']])
  })

  it('adds up capacity by RAG in its own unit', () => {
    const positions: ServicePositions[] = [
      {
        service: service({ serviceType: 'care_home_nursing', capacity: 30 }),
        from: state(),
        to: state({ rag: 'red' }),
      },
      {
        service: service({ serviceType: 'care_home_residential', capacity: 20 }),
        from: state({ rag: 'amber' }),
        to: state(),
      },
      { service: service({ serviceType: 'home_care', capacity: 400 }), from: state(), to: state({ rag: 'amber' }) },
    ]
    const capacity = Object.fromEntries(summariseMarket(from, to, positions).capacity.map((row) => [row.unit, row]))
    expect(capacity.beds?.from).toEqual({ red: 0, amber: 20, green: 30, atRisk: 20, total: 50 })
    expect(capacity.beds?.to).toEqual({ red: 30, amber: 0, green: 20, atRisk: 30, total: 50 })
    expect(capacity.weekly_hours?.to.atRisk).toBe(400)
    expect(capacity.places?.to.total).toBe(0)
  })

  it('rounds percentages to one decimal and never divides by zero', () => {
    expect(percentOf(1, 3)).toBe(33.3)
    expect(percentOf(2, 3)).toBe(66.7)
    expect(percentOf(0, 0)).toBe(0)
  })
})

describe('provider roll-up', () => {
  const svc = (area: string, rag: ProviderServiceRisk['rag'], extra: Partial<ProviderServiceRisk> = {}) => ({
    providerId: 1,
    providerName: 'Acme Care',
    ref: `R-${nextId++}`,
    name: 'S',
    area,
    serviceType: 'home_care' as const,
    rag,
    deteriorating: false,
    ...extra,
  })

  it('flags three Amber services in one area as a market risk, though none is Red', () => {
    const rollup = rollUpProvider([
      svc('North', 'amber'),
      svc('North', 'amber'),
      svc('North', 'amber'),
      svc('South', 'green'),
    ])
    expect(rollup.counts.red).toBe(0)
    expect(rollup.marketRisk).toBe(true)
    expect(rollup.flags[0]).toEqual({
      kind: 'concentration',
      text: '3 services Amber or Red in North',
      marketRisk: true,
    })
  })

  it('does not flag three Amber services spread over areas', () => {
    const rollup = rollUpProvider([svc('North', 'amber'), svc('South', 'amber'), svc('East', 'amber')])
    expect(rollup.marketRisk).toBe(false)
  })

  it('flags two Red services anywhere; one Red is noted but is not a market risk by itself', () => {
    expect(rollUpProvider([svc('North', 'red'), svc('South', 'red')]).marketRisk).toBe(true)
    const one = rollUpProvider([svc('North', 'red'), svc('South', null, { deteriorating: true })])
    expect(one.marketRisk).toBe(false)
    expect(one.counts).toMatchObject({ red: 1, notComputed: 1, deteriorating: 1 })
    expect(one.flags.map((f) => f.kind)).toEqual(['red_services', 'deteriorating'])
  })

  it('sorts market risks first', () => {
    const calm = [svc('North', 'amber', { providerId: 2, providerName: 'Calm' })]
    const risky = [svc('North', 'amber'), svc('North', 'amber'), svc('North', 'red')]
    expect(providerRollups([...calm, ...risky]).map((p) => p.providerName)).toEqual(['Acme Care', 'Calm'])
  })
})

describe('buildTimeline', () => {
  it('puts observations and RAG changes on one axis with the RAG recomputed at each date', () => {
    const observations = [
      observation({ indicator: 'cqc_rating', value: 'good', observedOn: '2024-01-10', detail: { keyQuestions: {} } }),
      observation({
        indicator: 'cqc_rating',
        value: 'inadequate',
        observedOn: '2025-05-01',
        detail: { keyQuestions: {} },
      }),
      observation({ indicator: 'embargo', value: 'embargo', observedOn: '2027-01-01', source: 'council_form' }),
    ]
    const timeline = buildTimeline({
      observations,
      history: [
        { asOf: '2025-01-01', rag: 'green' },
        { asOf: '2025-02-01', rag: 'green' },
        { asOf: '2025-06-01', rag: 'red' },
      ],
      ruleSet: DEFAULT_RULE_SET,
      ruleSetVersion: 1,
      today: '2025-07-01',
    })
    expect(timeline.events.map((e) => [e.date, e.kind])).toEqual([
      ['2025-06-01', 'rag_change'],
      ['2025-05-01', 'observation'],
      ['2025-01-01', 'rag_change'],
      ['2024-01-10', 'observation'],
    ])
    expect(timeline.events[0]).toMatchObject({ title: 'RAG changed from Green to Red', adverse: true, rag: 'red' })
    expect(timeline.events[1]).toMatchObject({ title: 'CQC rating: Inadequate', adverse: true })
    expect(timeline.points.map((p) => [p.at, p.rag])).toEqual([
      ['2024-01-10', 'green'],
      ['2025-01-01', 'green'],
      ['2025-05-01', 'red'],
      ['2025-06-01', 'red'],
      ['2025-07-01', 'red'],
    ])
  })
})
