import { describe, expect, it } from 'vitest'
import {
  assessmentObservation,
  intelligenceObservation,
  intelligenceObservations,
  parseCouncilCsv,
  safeguardingCountObservation,
  type IntelligenceRow,
} from '../../src/ingest/council/index.js'

const today = '2026-03-14'

function intelligence(overrides: Partial<IntelligenceRow>): IntelligenceRow {
  return {
    serviceRef: 'S1',
    cqcLocationId: null,
    kind: 'embargo',
    date: '2026-02-01',
    endDate: null,
    outcome: null,
    reference: null,
    notes: null,
    ...overrides,
  }
}

describe('intelligenceObservation', () => {
  it('maps each kind to its indicator and value', () => {
    const mapped = (
      [
        ['safeguarding_decision', null],
        ['embargo', null],
        ['default_notice', null],
        ['unexpected_death', null],
        ['contract_concern', 'substantiated'],
        ['manager_vacancy', null],
      ] as const
    ).map(([kind, outcome]) => {
      const { indicator, value } = intelligenceObservation(intelligence({ kind, outcome }))
      return [kind, indicator, value]
    })
    expect(mapped).toEqual([
      ['safeguarding_decision', 'safeguarding', 'decision'],
      ['embargo', 'embargo', 'embargo'],
      ['default_notice', 'default_notice', 'default_notice'],
      ['unexpected_death', 'unexpected_deaths', 'death'],
      ['contract_concern', 'contract_concerns', 'substantiated'],
      ['manager_vacancy', 'manager_vacancy', 'vacant'],
    ])
  })

  it('keys an event by its reference when it has one', () => {
    const row = intelligence({
      kind: 'default_notice',
      date: '2026-01-15',
      endDate: '2026-02-15',
      outcome: 'resolved',
      reference: 'DN-1',
      notes: 'Resolved after visit',
    })
    expect(intelligenceObservation(row)).toEqual({
      indicator: 'default_notice',
      value: 'default_notice',
      observedOn: '2026-01-15',
      endDate: '2026-02-15',
      detail: { outcome: 'resolved' },
      reference: 'DN-1',
      notes: 'Resolved after visit',
      naturalKey: 'council:default_notice:DN-1',
    })
  })

  it('keys an event without a reference by kind and date, so a later update of it lands on the same key', () => {
    const active = intelligenceObservation(intelligence({ kind: 'embargo', date: '2026-02-01' }))
    const lifted = intelligenceObservation(intelligence({ kind: 'embargo', date: '2026-02-01', endDate: '2026-03-01' }))
    expect(active.naturalKey).toBe('council:embargo:on:2026-02-01:1')
    expect(lifted.naturalKey).toBe(active.naturalKey)
    expect(intelligenceObservation(intelligence({ date: '2026-02-02' })).naturalKey).not.toBe(active.naturalKey)
  })

  it('numbers several reference-less events of one service on one day', () => {
    const deaths = [
      intelligence({ kind: 'unexpected_death', date: '2026-03-01' }),
      intelligence({ kind: 'unexpected_death', date: '2026-03-01' }),
      intelligence({ kind: 'unexpected_death', date: '2026-03-01', serviceRef: 'S2' }),
      intelligence({ kind: 'unexpected_death', date: '2026-03-01', reference: 'UD-9' }),
    ]
    expect(intelligenceObservations(deaths).map((observation) => observation.naturalKey)).toEqual([
      'council:unexpected_death:on:2026-03-01:1',
      'council:unexpected_death:on:2026-03-01:2',
      'council:unexpected_death:on:2026-03-01:1',
      'council:unexpected_death:UD-9',
    ])
  })

  it('gives the same keys when the same file is read again', async () => {
    const csv =
      'service_ref,kind,date,outcome\nS1,unexpected_death,2026-03-01,\nS1,unexpected_death,2026-03-01,\nS1,contract_concern,2026-03-02,open\n'
    const keys = async () => {
      const result = await parseCouncilCsv(csv, 'intelligence', { today })
      if (result.kind !== 'intelligence') throw new Error(result.fileError)
      return intelligenceObservations(result.rows.map((row) => row.value)).map((observation) => observation.naturalKey)
    }
    const first = await keys()
    expect(new Set(first).size).toBe(3)
    expect(await keys()).toEqual(first)
  })
})

describe('assessmentObservation', () => {
  it('maps outcome, date, assessor and domains', () => {
    expect(
      assessmentObservation({
        serviceRef: 'S1',
        cqcLocationId: null,
        assessmentDate: '2026-01-20',
        outcome: 'requires_improvement',
        assessor: 'A. Assessor',
        domains: ['good', null, 'poor', null, null],
      }),
    ).toEqual({
      indicator: 'quality_assessment',
      value: 'requires_improvement',
      observedOn: '2026-01-20',
      endDate: null,
      detail: { assessor: 'A. Assessor', domains: ['good', null, 'poor', null, null] },
      reference: null,
      notes: null,
      naturalKey: 'qa:2026-01-20',
    })
  })

  it('leaves out domains and assessor when none are given', () => {
    const observation = assessmentObservation({
      serviceRef: 'S1',
      cqcLocationId: null,
      assessmentDate: '2026-01-20',
      outcome: 'good',
      assessor: null,
      domains: [null, null, null, null, null],
    })
    expect(observation.detail).toEqual({})
  })
})

describe('safeguardingCountObservation', () => {
  it('counts toward the window by period end', () => {
    expect(
      safeguardingCountObservation({
        serviceRef: null,
        cqcLocationId: '1-123',
        periodStart: '2026-01-01',
        periodEnd: '2026-01-31',
        decisions: 3,
      }),
    ).toEqual({
      indicator: 'safeguarding',
      value: 'count',
      observedOn: '2026-01-31',
      endDate: null,
      detail: { periodStart: '2026-01-01', periodEnd: '2026-01-31', decisions: 3 },
      reference: null,
      notes: null,
      naturalKey: 'sgcount:2026-01-01:2026-01-31',
    })
  })
})
