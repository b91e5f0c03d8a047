import { describe, expect, it } from 'vitest'
import { DEFAULT_RULE_SET_DOCUMENT } from '../../src/domain/defaultRuleSet.js'
import { DEFAULT_RULE_SET, parseRuleSet } from '../../src/domain/ruleSet.js'

function copyOfDefault() {
  return structuredClone(DEFAULT_RULE_SET_DOCUMENT)
}

function issuesOf(document: unknown): string[] {
  const result = parseRuleSet(document)
  if (result.ok) throw new Error('expected the rule set to be rejected')
  return result.issues
}

describe('rule set', () => {
  it('has a valid default with the SPEC §3 thresholds', () => {
    expect(DEFAULT_RULE_SET.multipleConcerns.amberCount).toBe(3)
    expect(DEFAULT_RULE_SET.recentDowngrade.windowDays).toBe(90)
    expect(DEFAULT_RULE_SET.deterioration).toEqual({ windowDays: 90, minAdverseObservations: 2 })
    expect(DEFAULT_RULE_SET.indicators.safeguarding).toMatchObject({ windowDays: 365, amberFrom: 1, redFrom: 3 })
    expect(DEFAULT_RULE_SET.indicators.manager_vacancy.redWhenVacantMoreThanDays).toBe(180)
    expect(DEFAULT_RULE_SET.indicators.safeguarding.countsAndEvents).toBe('counts_replace_events')
  })

  it('survives a round trip through JSON, as stored in rule_sets.document', () => {
    const result = parseRuleSet(JSON.parse(JSON.stringify(DEFAULT_RULE_SET)))
    expect(result).toEqual({ ok: true, ruleSet: DEFAULT_RULE_SET })
  })

  it('normalises vocabulary words as an admin may write them', () => {
    const document = copyOfDefault()
    document.indicators.cqc_rating.overall.amber = ['Requires Improvement', 'not-rated']
    document.indicators.cqc_rating.keyQuestions.red.questions = ['Safe', 'Well-led']
    const result = parseRuleSet(document)
    if (!result.ok) throw new Error(result.issues.join('\n'))
    expect(result.ruleSet.indicators.cqc_rating.overall.amber).toEqual(['requires_improvement', 'not_rated'])
    expect(result.ruleSet.indicators.cqc_rating.keyQuestions.red.questions).toEqual(['safe', 'well_led'])
  })

  it('reports an Amber threshold above the Red one with its path', () => {
    const document = copyOfDefault()
    document.indicators.safeguarding.amberFrom = 4
    expect(issuesOf(document)).toEqual(['indicators.safeguarding.amberFrom: must not be greater than redFrom'])
  })

  it('rejects a misspelt field rather than ignoring it', () => {
    const document = copyOfDefault()
    const deaths: Record<string, unknown> = document.indicators.unexpected_deaths
    deaths.redfrom = 3
    expect(issuesOf(document).join('\n')).toContain('indicators.unexpected_deaths')
  })

  it('rejects a missing weight, a negative window and a value listed under two levels', () => {
    const document = copyOfDefault()
    delete (document.score.indicatorWeights as Record<string, unknown>).embargo
    document.recentDowngrade.windowDays = -5
    document.indicators.food_hygiene.ratings.red.push('2')
    const issues = issuesOf(document)
    expect(issues.some((issue) => issue.startsWith('score.indicatorWeights.embargo'))).toBe(true)
    expect(issues.some((issue) => issue.startsWith('recentDowngrade.windowDays'))).toBe(true)
    expect(issues).toContain('indicators.food_hygiene.ratings.red: "2" is listed as both amber and red')
  })

  it('rejects something that is not a rule set at all', () => {
    expect(parseRuleSet('{"name":"x"}').ok).toBe(false)
    expect(parseRuleSet(null).ok).toBe(false)
  })
})
