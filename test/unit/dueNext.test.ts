import { describe, expect, it } from 'vitest'
import { addDays } from '../../src/domain/dates.js'
import { rankDueNext, type DueNextInput } from '../../src/domain/dueNext.js'
import { DEFAULT_RULE_SET } from '../../src/domain/ruleSet.js'

const AS_OF = '2026-06-01'
const daysAgo = (days: number) => addDays(AS_OF, -days)
const schedule = DEFAULT_RULE_SET.assessmentSchedule

function service(serviceId: number, fields: Partial<DueNextInput> = {}): DueNextInput {
  return {
    serviceId,
    rag: 'green',
    score: 0,
    lastAssessmentDate: daysAgo(100),
    contractStatus: 'contracted',
    ...fields,
  }
}

const order = (services: DueNextInput[]) => rankDueNext(services, AS_OF, schedule).map((entry) => entry.serviceId)

describe('due-next queue', () => {
  it('puts never-assessed services first, worst risk first', () => {
    const ranked = rankDueNext(
      [
        service(1, { lastAssessmentDate: daysAgo(800) }),
        service(2, { lastAssessmentDate: null }),
        service(3, { lastAssessmentDate: null, rag: 'red', score: 100 }),
      ],
      AS_OF,
      schedule,
    )
    expect(ranked.map((entry) => entry.serviceId)).toEqual([3, 2, 1])
    expect(ranked[0]).toMatchObject({
      rank: 1,
      neverAssessed: true,
      dueOn: AS_OF,
      reason: 'Never assessed (Red, contracted)',
    })
  })

  it('is due sooner for riskier services: Red after 6 months, Green after 12', () => {
    const [red, green] = rankDueNext(
      [service(1, { rag: 'red', lastAssessmentDate: daysAgo(100) }), service(2, { lastAssessmentDate: daysAgo(100) })],
      AS_OF,
      schedule,
    )
    expect(red).toMatchObject({ serviceId: 1, dueOn: addDays(daysAgo(100), 182), daysOverdue: -82 })
    expect(red?.reason).toBe(
      `Due ${addDays(daysAgo(100), 182)}: last assessed ${daysAgo(100)}; Red services are re-assessed every 6 months`,
    )
    expect(green).toMatchObject({ serviceId: 2, dueOn: addDays(daysAgo(100), 365) })
  })

  it('ranks by due date, so an old Green assessment can come before a recent Red one', () => {
    expect(
      order([
        service(1, { rag: 'red', score: 300, lastAssessmentDate: daysAgo(10) }),
        service(2, { lastAssessmentDate: daysAgo(400) }),
      ]),
    ).toEqual([2, 1])
  })

  it('assesses every contracted service at least yearly and says when it is overdue', () => {
    const [entry] = rankDueNext([service(1, { lastAssessmentDate: daysAgo(400) })], AS_OF, schedule)
    expect(entry).toMatchObject({ daysOverdue: 35, dueOn: daysAgo(35) })
    expect(entry?.reason).toBe(
      `Overdue by 35 days: last assessed ${daysAgo(400)}; Green services are re-assessed every 12 months`,
    )
    const [spot] = rankDueNext(
      [service(2, { contractStatus: 'spot', lastAssessmentDate: daysAgo(400) })],
      AS_OF,
      schedule,
    )
    expect(spot?.daysOverdue).toBe(35)
  })

  it('breaks ties on the same due date by risk, then score', () => {
    const sameDay = daysAgo(365)
    const ranked = order([
      service(1, { lastAssessmentDate: sameDay }),
      service(2, { lastAssessmentDate: sameDay, score: 5 }),
    ])
    expect(ranked).toEqual([2, 1])
  })

  it('puts off-contract services last with no due date', () => {
    const ranked = rankDueNext(
      [service(1, { contractStatus: 'off_contract', lastAssessmentDate: null, rag: 'red' }), service(2)],
      AS_OF,
      schedule,
    )
    expect(ranked.map((entry) => entry.serviceId)).toEqual([2, 1])
    expect(ranked[1]).toMatchObject({ dueOn: null, daysOverdue: null, neverAssessed: true })
    expect(ranked[1]?.reason).toContain('Not scheduled')
  })

  it('returns an empty queue for no services', () => {
    expect(rankDueNext([], AS_OF, schedule)).toEqual([])
  })
})
