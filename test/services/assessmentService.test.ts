import { describe, expect, it } from 'vitest'
import { assessmentCycle, toAssessment, type Assessment } from '../../src/services/assessmentService.js'
import type { StoredObservation } from '../../src/data/observations.js'

function assessment(overrides: Partial<Assessment> = {}): Assessment {
  return {
    id: 1,
    serviceId: 1,
    date: '2026-03-01',
    outcome: 'good',
    assessor: null,
    domains: [null, null, null, null, null],
    status: 'draft',
    challengeStartedOn: null,
    challengeEndsOn: null,
    publishedOn: null,
    source: 'council_form',
    enteredBy: null,
    recordedAt: '2026-03-01T10:00:00Z',
    supersedesId: null,
    supersededById: null,
    ...overrides,
  }
}

describe('assessmentCycle', () => {
  it('a draft can go to challenge and does not count', () => {
    const cycle = assessmentCycle(assessment(), '2026-03-02')
    expect(cycle).toMatchObject({ counted: false, canStartChallenge: true, canPublish: false, needsFollowUp: false })
  })

  it('under challenge: days left, then over on its last day', () => {
    const underChallenge = assessment({
      status: 'challenge',
      challengeStartedOn: '2026-03-02',
      challengeEndsOn: '2026-03-16',
    })
    expect(assessmentCycle(underChallenge, '2026-03-10')).toMatchObject({
      canPublish: true,
      challengeOver: false,
      challengeDaysLeft: 6,
    })
    expect(assessmentCycle(underChallenge, '2026-03-16')).toMatchObject({
      challengeOver: true,
      challengeDaysLeft: null,
    })
  })

  it('an earlier version cannot move on', () => {
    expect(assessmentCycle(assessment({ supersededById: 9 }), '2026-03-02').canStartChallenge).toBe(false)
  })

  it('Requires Improvement or Poor: action plan in 14 days, re-assessment in 6 months', () => {
    for (const outcome of ['requires_improvement', 'poor']) {
      const cycle = assessmentCycle(assessment({ outcome, date: '2026-08-31', status: 'published' }), '2026-09-01')
      expect(cycle).toMatchObject({
        counted: true,
        needsFollowUp: true,
        actionPlanDueOn: '2026-09-14',
        reassessmentDueOn: '2027-02-28',
      })
    }
    expect(assessmentCycle(assessment({ outcome: 'excellent' }), '2026-09-01').actionPlanDueOn).toBeNull()
  })
})

describe('toAssessment', () => {
  const observation = (detail: Record<string, unknown>): StoredObservation => ({
    id: 3,
    serviceId: 2,
    indicator: 'quality_assessment',
    source: 'council_csv',
    observedOn: '2026-01-05',
    endDate: null,
    value: 'good',
    detail,
    reference: null,
    notes: null,
    enteredBy: null,
    recordedAt: '2026-01-05T00:00:00Z',
    naturalKey: 'qa:2026-01-05',
    supersedesId: null,
    supersededById: null,
  })

  it('reads a status-less (imported) assessment as published', () => {
    expect(toAssessment(observation({}))?.status).toBe('published')
  })

  it('reads status, assessor and domain ratings, ignoring unknown ratings', () => {
    const read = toAssessment(
      observation({ status: 'draft', assessor: 'A. Person', domains: ['good', null, 'bogus', 'poor', null] }),
    )
    expect(read).toMatchObject({ status: 'draft', assessor: 'A. Person', domains: ['good', null, null, 'poor', null] })
  })

  it('is null for other indicators', () => {
    expect(toAssessment({ ...observation({}), indicator: 'cqc_rating' })).toBeNull()
  })
})
