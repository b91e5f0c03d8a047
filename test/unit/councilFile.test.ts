import { describe, expect, it } from 'vitest'
import { councilFileOf, inboxActor } from '../../src/domain/indicators/councilFile.js'
import type { Observation } from '../../src/domain/observation.js'
import { assessRisk } from '../../src/domain/risk.js'
import { DEFAULT_RULE_SET } from '../../src/domain/ruleSet.js'

const AS_OF = '2026-11-23'
let nextId = 1

function obs(fields: Partial<Observation> & Pick<Observation, 'indicator' | 'value' | 'observedOn'>): Observation {
  return {
    id: nextId++,
    source: 'council_inbox',
    endDate: null,
    detail: {},
    reference: null,
    notes: null,
    enteredBy: inboxActor('intelligence.csv'),
    recordedAt: '2026-11-23T02:01:00.000Z',
    ...fields,
  }
}

function reasonsOf(observations: Observation[]): string[] {
  return assessRisk({ observations, ruleSet: DEFAULT_RULE_SET, ruleSetVersion: 1, asOf: AS_OF }).reasons
}

describe('reasons naming the council file a fact came in (SPEC §6)', () => {
  it('names the inbox file and the day it was received', () => {
    expect(reasonsOf([obs({ indicator: 'embargo', value: 'embargo', observedOn: '2026-11-20' })])).toEqual([
      'Embargo on new placements since 2026-11-20; from council file intelligence.csv, received 2026-11-23',
    ])
  })

  it('names the file of the deciding fact: a count by its period end, the latest received of a tie', () => {
    const count = obs({
      indicator: 'safeguarding',
      value: 'count',
      observedOn: '2026-10-31',
      detail: { periodStart: '2026-10-01', periodEnd: '2026-10-31', decisions: 3 },
      enteredBy: inboxActor('case-management-october.csv'),
      recordedAt: '2026-11-02T02:00:00.000Z',
    })
    const earlierEvent = obs({
      indicator: 'safeguarding',
      value: 'decision',
      observedOn: '2026-09-10',
      enteredBy: inboxActor('events.csv'),
    })
    expect(reasonsOf([earlierEvent, count])[0]).toBe(
      '4 safeguarding decisions in the last 12 months (latest 2026-10-31); ' +
        'from council file case-management-october.csv, received 2026-11-02',
    )
  })

  it('lists what a council file said of a service that is Green, after "No concerns"', () => {
    const reasons = reasonsOf([
      obs({
        indicator: 'quality_assessment',
        value: 'good',
        observedOn: '2026-11-18',
        enteredBy: inboxActor('qa.csv'),
      }),
      obs({
        indicator: 'embargo',
        value: 'embargo',
        observedOn: '2026-01-05',
        endDate: '2026-02-01',
        source: 'council_form',
      }),
    ])
    expect(reasons[0]).toMatch(/^No concerns: all \d+ indicators with data are Green$/)
    expect(reasons.slice(1)).toEqual([
      'Quality assessment rated Good on 2026-11-18; from council file qa.csv, received 2026-11-23',
    ])
  })

  it('says nothing of files for facts from other sources, or from the inbox under another name', () => {
    expect(
      reasonsOf([obs({ indicator: 'embargo', value: 'embargo', observedOn: '2026-11-20', source: 'council_form' })]),
    ).toEqual(['Embargo on new placements since 2026-11-20'])
    expect(
      reasonsOf([obs({ indicator: 'embargo', value: 'embargo', observedOn: '2026-11-20', enteredBy: 'someone' })]),
    ).toEqual(['Embargo on new placements since 2026-11-20'])
    expect(councilFileOf({ source: 'council_csv', enteredBy: inboxActor('x.csv') })).toBeNull()
    expect(councilFileOf({ source: 'council_inbox', enteredBy: inboxActor('x.csv') })).toBe('x.csv')
  })
})
