import { describe, expect, it } from 'vitest'
import { addDays } from '../../src/domain/dates.js'
import type { Observation } from '../../src/domain/observation.js'
import { assessRisk } from '../../src/domain/risk.js'
import type { ActiveOverride, IndicatorResult, RiskResult } from '../../src/domain/riskResult.js'
import { DEFAULT_RULE_SET, parseRuleSet, type RuleSet } from '../../src/domain/ruleSet.js'
import { DEFAULT_RULE_SET_DOCUMENT } from '../../src/domain/defaultRuleSet.js'
import type { IndicatorKey } from '../../src/domain/vocabulary.js'

const AS_OF = '2026-06-01'
const daysAgo = (days: number) => addDays(AS_OF, -days)

let nextId = 1
function obs(
  indicator: IndicatorKey,
  value: string,
  observedOn: string,
  extra: Partial<Observation> = {},
): Observation {
  return {
    id: nextId++,
    indicator,
    source: 'council_form',
    observedOn,
    endDate: null,
    value,
    detail: {},
    reference: null,
    notes: null,
    enteredBy: null,
    recordedAt: `${observedOn}T09:00:00Z`,
    ...extra,
  }
}

function assess(
  observations: Observation[],
  options: { override?: ActiveOverride | null; ruleSet?: RuleSet; asOf?: string } = {},
): RiskResult {
  return assessRisk({
    observations,
    ruleSet: options.ruleSet ?? DEFAULT_RULE_SET,
    ruleSetVersion: 7,
    asOf: options.asOf ?? AS_OF,
    override: options.override ?? null,
  })
}

function indicatorOf(result: RiskResult, key: IndicatorKey): IndicatorResult {
  const found = result.indicators.find((indicator) => indicator.key === key)
  if (!found) throw new Error(`no ${key} in result`)
  return found
}

function levelOf(observations: Observation[], key: IndicatorKey, asOf = AS_OF): IndicatorResult['level'] {
  return indicatorOf(assess(observations, { asOf }), key).level
}

/** A rule set edited the way an admin would: a copy of the default document with some fields changed. */
function editedRuleSet(edit: (doc: typeof DEFAULT_RULE_SET_DOCUMENT) => void): RuleSet {
  const doc = structuredClone(DEFAULT_RULE_SET_DOCUMENT)
  edit(doc)
  const parsed = parseRuleSet(doc)
  if (!parsed.ok) throw new Error(parsed.issues.join('\n'))
  return parsed.ruleSet
}

describe('quality assessment (indicator 1)', () => {
  it.each([
    ['excellent', 'green'],
    ['good', 'green'],
    ['requires_improvement', 'amber'],
    ['Requires Improvement', 'amber'],
    ['poor', 'red'],
  ] as const)('%s is %s', (outcome, level) => {
    expect(levelOf([obs('quality_assessment', outcome, daysAgo(30))], 'quality_assessment')).toBe(level)
  })

  it('reads the latest assessment with its date', () => {
    const result = indicatorOf(
      assess([obs('quality_assessment', 'poor', daysAgo(200)), obs('quality_assessment', 'good', '2026-03-14')]),
      'quality_assessment',
    )
    expect(result).toMatchObject({ level: 'green', value: 'Good', date: '2026-03-14', source: 'council_form' })
    expect(result.reason).toBe('Quality assessment rated Good on 2026-03-14')
  })

  it('is Amber once the last assessment is older than 12 months (365 days inside, 366 outside)', () => {
    const atLimit = indicatorOf(assess([obs('quality_assessment', 'good', daysAgo(365))]), 'quality_assessment')
    expect(atLimit).toMatchObject({ level: 'green', stale: false })
    const overLimit = indicatorOf(assess([obs('quality_assessment', 'good', daysAgo(366))]), 'quality_assessment')
    expect(overLimit).toMatchObject({ level: 'amber', stale: true })
    expect(overLimit.reason).toBe(`Quality assessment rated Good on ${daysAgo(366)} (stale: over 12 months old)`)
    const neverStale = editedRuleSet((doc) => {
      const rules: { staleAfterDays: number | null } = doc.indicators.quality_assessment
      rules.staleAfterDays = null
    })
    const amberNotStale = indicatorOf(
      assess([obs('quality_assessment', 'good', daysAgo(366))], { ruleSet: neverStale }),
      'quality_assessment',
    )
    expect(amberNotStale).toMatchObject({ level: 'amber', stale: false })
    expect(amberNotStale.reason).toBe(`Last quality assessment (Good, ${daysAgo(366)}) is over 12 months old`)
  })

  it('keeps an old Poor Red', () => {
    expect(levelOf([obs('quality_assessment', 'poor', daysAgo(500))], 'quality_assessment')).toBe('red')
  })

  it('ignores drafts and assessments under challenge', () => {
    const observations = [
      obs('quality_assessment', 'good', daysAgo(100), { detail: { status: 'published' } }),
      obs('quality_assessment', 'poor', daysAgo(20), { detail: { status: 'draft' } }),
      obs('quality_assessment', 'poor', daysAgo(10), { detail: { status: 'challenge' } }),
    ]
    expect(levelOf(observations, 'quality_assessment')).toBe('green')
    const onlyDraft = assess([obs('quality_assessment', 'poor', daysAgo(10), { detail: { status: 'draft' } })])
    expect(indicatorOf(onlyDraft, 'quality_assessment').level).toBe('none')
    expect(onlyDraft.flags.notYetAssessed).toBe(true)
  })

  it('shows "not yet assessed" without making the service Amber', () => {
    const result = assess([obs('cqc_rating', 'good', daysAgo(100))])
    expect(indicatorOf(result, 'quality_assessment')).toMatchObject({
      level: 'none',
      reason: 'No quality assessment yet',
    })
    expect(result.flags.notYetAssessed).toBe(true)
    expect(result.rag).toBe('green')
  })

  it('does not crash on an unknown outcome', () => {
    const result = indicatorOf(assess([obs('quality_assessment', 'splendid', daysAgo(10))]), 'quality_assessment')
    expect(result.level).toBe('none')
    expect(result.reason).toContain('"splendid"')
    expect(result.reason).toContain('not recognised')
  })
})

describe('CQC rating (indicator 2)', () => {
  it.each([
    ['outstanding', 'green'],
    ['good', 'green'],
    ['requires_improvement', 'amber'],
    ['not_rated', 'amber'],
    ['inadequate', 'red'],
  ] as const)('overall %s is %s', (rating, level) => {
    expect(levelOf([obs('cqc_rating', rating, daysAgo(30))], 'cqc_rating')).toBe(level)
  })

  it('says what it found', () => {
    const result = indicatorOf(
      assess([obs('cqc_rating', 'inadequate', '2026-03-14', { source: 'cqc_api' })]),
      'cqc_rating',
    )
    expect(result).toMatchObject({ value: 'Inadequate', date: '2026-03-14', source: 'cqc_api', stale: false })
    expect(result.reason).toBe('CQC rated Inadequate on 2026-03-14')
    const notRated = indicatorOf(assess([obs('cqc_rating', 'not_rated', '2026-01-10')]), 'cqc_rating')
    expect(notRated.reason).toBe('Registered with CQC but not yet rated (since 2026-01-10)')
  })

  it.each([
    ['safe', 'inadequate', 'red'],
    ['Well-led', 'inadequate', 'red'],
    ['effective', 'inadequate', 'amber'],
    ['safe', 'requires_improvement', 'amber'],
    ['effective', 'requires_improvement', 'amber'],
    ['caring', 'requires_improvement', 'amber'],
    ['responsive', 'Requires improvement', 'amber'],
    ['well_led', 'requires_improvement', 'amber'],
    ['caring', 'inadequate', 'amber'],
    ['responsive', 'inadequate', 'amber'],
    ['safe', 'good', 'green'],
    ['well_led', 'outstanding', 'green'],
  ] as const)('a Good overall with %s rated %s is %s', (question, rating, level) => {
    const observation = obs('cqc_rating', 'good', daysAgo(30), { detail: { keyQuestions: { [question]: rating } } })
    expect(levelOf([observation], 'cqc_rating')).toBe(level)
  })

  it('names the key question that forced the level', () => {
    const observation = obs('cqc_rating', 'good', '2026-03-14', {
      detail: { keyQuestions: { safe: 'inadequate', well_led: 'inadequate', caring: 'good' } },
    })
    expect(indicatorOf(assess([observation]), 'cqc_rating').reason).toBe(
      'CQC rated Good on 2026-03-14, but Safe and Well-led rated Inadequate',
    )
  })

  it('uses the latest rating', () => {
    const observations = [obs('cqc_rating', 'inadequate', daysAgo(400)), obs('cqc_rating', 'good', daysAgo(200))]
    expect(levelOf(observations, 'cqc_rating')).toBe('green')
  })

  it('marks a rating over 3 years old stale (1095 days is not, 1096 is)', () => {
    expect(indicatorOf(assess([obs('cqc_rating', 'good', daysAgo(1095))]), 'cqc_rating').stale).toBe(false)
    expect(indicatorOf(assess([obs('cqc_rating', 'good', daysAgo(1096))]), 'cqc_rating').stale).toBe(true)
    const old = indicatorOf(assess([obs('cqc_rating', 'good', '2016-04-01')]), 'cqc_rating')
    expect(old).toMatchObject({ level: 'green', stale: true })
    expect(old.reason).toBe('CQC rated Good on 2016-04-01 (stale: over 3 years old)')
  })

  it('makes a deregistered location Amber, saying so', () => {
    const observation = obs('cqc_rating', 'good', daysAgo(5), {
      detail: { registrationStatus: 'Deregistered', deregistrationDate: daysAgo(5) },
    })
    const result = indicatorOf(assess([observation]), 'cqc_rating')
    expect(result).toMatchObject({ level: 'amber', value: 'Deregistered' })
    expect(result.reason).toBe(`CQC registration cancelled on ${daysAgo(5)}`)
  })

  it('does not crash on a rating never seen before', () => {
    const result = assess([obs('cqc_rating', 'Brilliant', daysAgo(10)), obs('quality_assessment', 'good', daysAgo(10))])
    expect(indicatorOf(result, 'cqc_rating')).toMatchObject({ level: 'none', value: 'Brilliant' })
    expect(indicatorOf(result, 'cqc_rating').reason).toContain('not recognised')
    expect(result.rag).toBe('green')
  })

  it('still applies key questions when the overall word is unknown', () => {
    const observation = obs('cqc_rating', 'Brilliant', daysAgo(10), {
      detail: { keyQuestions: { safe: 'inadequate' } },
    })
    expect(levelOf([observation], 'cqc_rating')).toBe('red')
  })
})

describe('food hygiene (indicator 3)', () => {
  it.each([
    ['5', 'green'],
    ['4', 'green'],
    ['3', 'green'],
    ['2', 'amber'],
    ['1', 'red'],
    ['0', 'red'],
    ['Pass and Eat Safe', 'green'],
    ['Improvement Required', 'amber'],
    ['Exempt', 'none'],
    ['AwaitingInspection', 'none'],
    ['awaiting_publication', 'none'],
    ['6', 'none'],
  ] as const)('rating %s is %s', (rating, level) => {
    expect(levelOf([obs('food_hygiene', rating, daysAgo(30), { source: 'fhrs_api' })], 'food_hygiene')).toBe(level)
  })

  it('reads as a sentence and goes stale after 2 years', () => {
    const fresh = indicatorOf(assess([obs('food_hygiene', '2', '2026-02-01')]), 'food_hygiene')
    expect(fresh.reason).toBe('Food hygiene rating 2 on 2026-02-01')
    expect(indicatorOf(assess([obs('food_hygiene', '5', daysAgo(730))]), 'food_hygiene').stale).toBe(false)
    expect(indicatorOf(assess([obs('food_hygiene', '5', daysAgo(731))]), 'food_hygiene').stale).toBe(true)
    expect(indicatorOf(assess([obs('food_hygiene', '6', daysAgo(10))]), 'food_hygiene').reason).toContain(
      'not recognised',
    )
  })
})

describe('safeguarding decisions (indicator 4)', () => {
  const decision = (days: number) => obs('safeguarding', 'decision', daysAgo(days))

  it.each([
    [0, 'green'],
    [1, 'amber'],
    [2, 'amber'],
    [3, 'red'],
    [5, 'red'],
  ] as const)('%i in the last 12 months is %s', (count, level) => {
    const observations = [decision(500), ...Array.from({ length: count }, (_, i) => decision(10 + i))]
    expect(levelOf(observations, 'safeguarding')).toBe(level)
  })

  it('counts a decision exactly 365 days old and not one 366 days old', () => {
    expect(levelOf([decision(1), decision(2), decision(365)], 'safeguarding')).toBe('red')
    expect(levelOf([decision(1), decision(2), decision(366)], 'safeguarding')).toBe('amber')
  })

  it('reads as a sentence', () => {
    const result = indicatorOf(
      assess([obs('safeguarding', 'decision', '2026-05-02'), obs('safeguarding', 'decision', '2026-01-20')]),
      'safeguarding',
    )
    expect(result.reason).toBe('2 safeguarding decisions in the last 12 months (latest 2026-05-02)')
    expect(result).toMatchObject({ value: '2 in the last 12 months', date: '2026-05-02' })
    expect(indicatorOf(assess([decision(400)]), 'safeguarding').reason).toBe(
      'No safeguarding decisions in the last 12 months',
    )
    expect(indicatorOf(assess([]), 'safeguarding')).toMatchObject({
      level: 'green',
      reason: 'No safeguarding decisions recorded',
    })
  })

  describe('counts (safeguarding_counts rows)', () => {
    const count = (periodStart: string, periodEnd: string, decisions: number) =>
      obs('safeguarding', 'count', periodEnd, {
        source: 'council_inbox',
        detail: { periodStart, periodEnd, decisions },
      })

    it('counts a period toward the window by its end date', () => {
      expect(levelOf([count(daysAgo(395), daysAgo(365), 3)], 'safeguarding')).toBe('red')
      expect(levelOf([count(daysAgo(396), daysAgo(366), 3)], 'safeguarding')).toBe('green')
      expect(levelOf([count(daysAgo(60), daysAgo(30), 0)], 'safeguarding')).toBe('green')
    })

    it('replaces the events of the period it covers, by default', () => {
      const observations = [
        count(daysAgo(90), daysAgo(60), 1),
        decision(70),
        decision(65),
        decision(61),
        decision(10), // outside the counted period: still counts
      ]
      const result = indicatorOf(assess(observations), 'safeguarding')
      expect(result).toMatchObject({ level: 'amber', value: '2 in the last 12 months' })
    })

    it('follows the rule set when it says to add them, or to prefer events', () => {
      const observations = [count(daysAgo(90), daysAgo(60), 1), decision(70), decision(65)]
      const add = editedRuleSet((doc) => {
        doc.indicators.safeguarding.countsAndEvents = 'add' as never
      })
      expect(indicatorOf(assess(observations, { ruleSet: add }), 'safeguarding').value).toBe('3 in the last 12 months')
      const events = editedRuleSet((doc) => {
        doc.indicators.safeguarding.countsAndEvents = 'events_replace_counts' as never
      })
      expect(indicatorOf(assess(observations, { ruleSet: events }), 'safeguarding').value).toBe(
        '2 in the last 12 months',
      )
    })

    it('ignores a malformed count rather than failing', () => {
      const broken = obs('safeguarding', 'count', daysAgo(5), { detail: { decisions: 'many' } })
      expect(levelOf([broken, decision(3)], 'safeguarding')).toBe('amber')
    })
  })
})

describe('embargo (indicator 5)', () => {
  it('is Red while active and Green once lifted', () => {
    const active = indicatorOf(assess([obs('embargo', 'embargo', '2026-04-01')]), 'embargo')
    expect(active).toMatchObject({ level: 'red', reason: 'Embargo on new placements since 2026-04-01' })
    expect(levelOf([obs('embargo', 'embargo', daysAgo(20), { endDate: addDays(AS_OF, 5) })], 'embargo')).toBe('red')
    expect(levelOf([obs('embargo', 'embargo', daysAgo(20), { endDate: AS_OF })], 'embargo')).toBe('green')
    const lifted = indicatorOf(assess([obs('embargo', 'embargo', daysAgo(20), { endDate: daysAgo(3) })]), 'embargo')
    expect(lifted).toMatchObject({ level: 'green', reason: `No active embargo (last lifted ${daysAgo(3)})` })
    expect(levelOf([], 'embargo')).toBe('green')
  })

  it('is active in the past between its start and its lifting', () => {
    const embargo = obs('embargo', 'embargo', '2026-01-10', { endDate: '2026-02-10' })
    expect(levelOf([embargo], 'embargo', '2026-01-20')).toBe('red')
    expect(levelOf([embargo], 'embargo', '2026-01-09')).toBe('green')
  })
})

describe('contract default notices (indicator 6)', () => {
  const notice = (days: number, extra: Partial<Observation> = {}) =>
    obs('default_notice', 'default_notice', daysAgo(days), extra)

  it('is Green with none open, Amber with one open, Red with two open', () => {
    expect(levelOf([notice(400, { endDate: daysAgo(300) })], 'default_notice')).toBe('green')
    expect(levelOf([notice(40)], 'default_notice')).toBe('amber')
    expect(levelOf([notice(500), notice(40)], 'default_notice')).toBe('red')
    expect(indicatorOf(assess([notice(40)]), 'default_notice').reason).toBe(
      `Default notice open (issued ${daysAgo(40)})`,
    )
  })

  it('is Red with two issued in the last 12 months, even if resolved (365 days inside, 366 outside)', () => {
    const resolved = (days: number) => notice(days, { endDate: daysAgo(days - 10) })
    expect(levelOf([resolved(20), resolved(365)], 'default_notice')).toBe('red')
    expect(levelOf([resolved(20), resolved(366)], 'default_notice')).toBe('green')
    expect(indicatorOf(assess([resolved(20), resolved(365)]), 'default_notice').reason).toBe(
      `2 default notices issued in the last 12 months (latest ${daysAgo(20)})`,
    )
  })

  it('treats an outcome of resolved as closed and a resolution after the date as still open', () => {
    expect(levelOf([notice(400, { detail: { outcome: 'Resolved' } })], 'default_notice')).toBe('green')
    expect(levelOf([notice(400, { endDate: addDays(AS_OF, 3) })], 'default_notice')).toBe('amber')
    expect(levelOf([notice(400, { endDate: addDays(AS_OF, 1) })], 'default_notice')).toBe('amber')
    expect(levelOf([notice(400, { endDate: AS_OF })], 'default_notice')).toBe('green')
  })
})

describe('unexpected deaths (indicator 7)', () => {
  const death = (days: number) => obs('unexpected_deaths', 'death', daysAgo(days))
  it.each([
    [0, 'green'],
    [1, 'amber'],
    [2, 'red'],
  ] as const)('%i in the last 12 months is %s', (count, level) => {
    const observations = [death(800), ...Array.from({ length: count }, (_, i) => death(i + 1))]
    expect(levelOf(observations, 'unexpected_deaths')).toBe(level)
  })

  it('counts a death exactly 365 days old and not one 366 days old', () => {
    expect(levelOf([death(5), death(365)], 'unexpected_deaths')).toBe('red')
    expect(levelOf([death(5), death(366)], 'unexpected_deaths')).toBe('amber')
  })
})

describe('substantiated contract concerns (indicator 8)', () => {
  const concern = (days: number, outcome = 'substantiated') => obs('contract_concerns', outcome, daysAgo(days))
  it.each([
    [0, 'green'],
    [1, 'green'],
    [2, 'amber'],
    [3, 'amber'],
    [4, 'red'],
  ] as const)('%i substantiated is %s', (count, level) => {
    const observations = [concern(1, 'not_substantiated'), ...Array.from({ length: count }, (_, i) => concern(i + 1))]
    expect(levelOf(observations, 'contract_concerns')).toBe(level)
  })

  it('counts only substantiated concerns', () => {
    const observations = [concern(1, 'open'), concern(2, 'not_substantiated'), concern(3, 'open'), concern(4)]
    expect(indicatorOf(assess(observations), 'contract_concerns')).toMatchObject({
      level: 'green',
      value: '1 in the last 12 months',
    })
  })

  it('counts one exactly 365 days old and not one 366 days old', () => {
    expect(levelOf([concern(1), concern(2), concern(3), concern(365)], 'contract_concerns')).toBe('red')
    expect(levelOf([concern(1), concern(2), concern(3), concern(366)], 'contract_concerns')).toBe('amber')
  })
})

describe('company status (indicator 9)', () => {
  it.each([
    ['active', 'green'],
    ['voluntary-arrangement', 'amber'],
    ['administration', 'red'],
    ['receivership', 'red'],
    ['liquidation', 'red'],
    ['insolvency-proceedings', 'red'],
    ['dissolved', 'red'],
    ['converted-closed', 'red'],
    ['removed', 'red'],
    ['insolvency_proceedings', 'red'],
    ['in-orbit', 'none'],
  ] as const)('%s is %s', (status, level) => {
    expect(levelOf([obs('insolvency', status, daysAgo(10), { source: 'companies_house' })], 'insolvency')).toBe(level)
  })

  it('reads as a sentence, and a proposal to strike off makes an active company Amber', () => {
    const administration = indicatorOf(assess([obs('insolvency', 'administration', '2026-02-03')]), 'insolvency')
    expect(administration.reason).toBe('Company in administration at Companies House since 2026-02-03')
    const strikeOff = obs('insolvency', 'active', daysAgo(10), {
      detail: { statusDetail: 'active-proposal-to-strike-off' },
    })
    expect(levelOf([strikeOff], 'insolvency')).toBe('amber')
    expect(indicatorOf(assess([obs('insolvency', 'in-orbit', daysAgo(1))]), 'insolvency').reason).toBe(
      'Company status "in-orbit" is not recognised',
    )
  })
})

describe('registered manager (indicator 10)', () => {
  it('is Green in post, Amber vacant, Red vacant for more than 180 days', () => {
    expect(levelOf([obs('manager_vacancy', 'in_post', daysAgo(900))], 'manager_vacancy')).toBe('green')
    expect(levelOf([obs('manager_vacancy', 'vacant', daysAgo(180))], 'manager_vacancy')).toBe('amber')
    expect(levelOf([obs('manager_vacancy', 'vacant', daysAgo(181))], 'manager_vacancy')).toBe('red')
    const result = indicatorOf(assess([obs('manager_vacancy', 'vacant', '2026-03-01')]), 'manager_vacancy')
    expect(result.reason).toBe('Registered manager post vacant since 2026-03-01 (92 days)')
  })

  it('is in post once the vacancy is filled or a later record says so', () => {
    expect(levelOf([obs('manager_vacancy', 'vacant', daysAgo(300), { endDate: daysAgo(20) })], 'manager_vacancy')).toBe(
      'green',
    )
    expect(levelOf([obs('manager_vacancy', 'vacant', daysAgo(30), { endDate: AS_OF })], 'manager_vacancy')).toBe(
      'green',
    )
    const fillsTomorrow = obs('manager_vacancy', 'vacant', daysAgo(30), { endDate: addDays(AS_OF, 1) })
    expect(levelOf([fillsTomorrow], 'manager_vacancy')).toBe('amber')
    const observations = [
      obs('manager_vacancy', 'vacant', daysAgo(300)),
      obs('manager_vacancy', 'in_post', daysAgo(20)),
    ]
    expect(levelOf(observations, 'manager_vacancy')).toBe('green')
  })

  it('counts a vacancy from its first report after the last time a manager was in post', () => {
    const observations = [
      obs('manager_vacancy', 'vacant', daysAgo(400), { endDate: daysAgo(300) }),
      obs('manager_vacancy', 'vacant', daysAgo(200)),
      obs('manager_vacancy', 'vacant', daysAgo(50), { source: 'cqc_api' }),
    ]
    expect(indicatorOf(assess(observations), 'manager_vacancy')).toMatchObject({ level: 'red', date: daysAgo(200) })
  })

  it('keeps a vacancy open when a different vacancy is filled', () => {
    const observations = [
      obs('manager_vacancy', 'vacant', daysAgo(30), { source: 'cqc_api' }),
      obs('manager_vacancy', 'vacant', daysAgo(400), { endDate: daysAgo(30) }),
    ]
    expect(indicatorOf(assess(observations), 'manager_vacancy')).toMatchObject({ level: 'amber', date: daysAgo(30) })
    const inPostSameDay = [
      obs('manager_vacancy', 'in_post', daysAgo(30)),
      obs('manager_vacancy', 'vacant', daysAgo(30)),
    ]
    expect(levelOf(inPostSameDay, 'manager_vacancy')).toBe('amber')
  })

  it('leaves an unknown status out', () => {
    expect(levelOf([obs('manager_vacancy', 'on_holiday', daysAgo(5))], 'manager_vacancy')).toBe('none')
    expect(levelOf([], 'manager_vacancy')).toBe('none')
  })
})

describe('overall RAG', () => {
  const green = () => [obs('cqc_rating', 'good', daysAgo(100)), obs('quality_assessment', 'good', daysAgo(100))]
  const amberCqc = () => obs('cqc_rating', 'requires_improvement', daysAgo(200))
  const amberFood = () => obs('food_hygiene', '2', daysAgo(50))
  const amberVacancy = () => obs('manager_vacancy', 'vacant', daysAgo(30))

  it('is Green when every indicator with data is Green', () => {
    const result = assess(green())
    expect(result).toMatchObject({ rag: 'green', computedRag: 'green', override: null, ruleSetVersion: 7, asOf: AS_OF })
    expect(result.reasons).toEqual(['No concerns: all 7 indicators with data are Green'])
    expect(result.indicators.map((indicator) => indicator.key)).toHaveLength(10)
  })

  it('is Red when any one indicator is Red', () => {
    const result = assess([...green(), obs('embargo', 'embargo', daysAgo(3))])
    expect(result.rag).toBe('red')
    expect(result.reasons[0]).toBe(`Embargo on new placements since ${daysAgo(3)}`)
  })

  it('is Amber with two Ambers and Red with three ("multiple concerns")', () => {
    const one = assess([...green(), amberFood()])
    expect(one).toMatchObject({ rag: 'amber', flags: { multipleConcerns: false } })
    expect(one.reasons).toEqual([`Food hygiene rating 2 on ${daysAgo(50)}`])
    const two = assess([...green().slice(1), amberCqc(), amberFood()])
    expect(two.rag).toBe('amber')
    expect(two.flags.multipleConcerns).toBe(false)
    const three = assess([...green().slice(1), amberCqc(), amberFood(), amberVacancy()])
    expect(three.rag).toBe('red')
    expect(three.flags.multipleConcerns).toBe(true)
    expect(three.reasons[0]).toBe(
      'Multiple concerns: 3 indicators are Amber (CQC rating, Food hygiene rating, Registered manager)',
    )
  })

  it('takes the multiple-concerns count from the rule set', () => {
    const ruleSet = editedRuleSet((doc) => {
      doc.multipleConcerns.amberCount = 2
    })
    expect(assess([amberCqc(), amberFood()], { ruleSet }).rag).toBe('red')
  })

  it('leaves indicators with no data out, and says when there is no data at all', () => {
    const result = assess([])
    expect(result.rag).toBe('green')
    const withoutDefaults = editedRuleSet((doc) => {
      for (const key of [
        'safeguarding',
        'embargo',
        'default_notice',
        'unexpected_deaths',
        'contract_concerns',
      ] as const) {
        doc.indicators[key].whenNoEntries = 'none' as never
      }
    })
    const empty = assess([], { ruleSet: withoutDefaults })
    expect(empty.indicators.every((indicator) => indicator.level === 'none')).toBe(true)
    expect(empty.reasons).toEqual(['No data on any indicator'])
  })

  it('ignores observations dated after the as-of date', () => {
    const observations = [...green(), obs('cqc_rating', 'inadequate', addDays(AS_OF, 1))]
    expect(assess(observations).rag).toBe('green')
    expect(assess(observations, { asOf: addDays(AS_OF, 1) }).rag).toBe('red')
  })

  it('adds a stale Green input to the reasons of a Green service', () => {
    const result = assess([obs('cqc_rating', 'good', '2016-04-01')])
    expect(result.rag).toBe('green')
    expect(result.reasons).toContain('CQC rated Good on 2016-04-01 (stale: over 3 years old)')
  })
})

describe('recent CQC downgrade', () => {
  const downgradedDaysAgo = (days: number) => [
    obs('cqc_rating', 'outstanding', daysAgo(900)),
    obs('cqc_rating', 'good', daysAgo(days)),
    obs('quality_assessment', 'good', daysAgo(30)),
  ]

  it.each([
    [89, 'amber', true],
    [90, 'amber', true],
    [91, 'green', false],
  ] as const)('a downgrade %i days ago makes a Green service %s', (days, rag, flagged) => {
    const result = assess(downgradedDaysAgo(days))
    expect(result.rag).toBe(rag)
    expect(result.flags.recentlyDowngraded).toBe(flagged)
  })

  it('explains itself', () => {
    const result = assess([
      obs('cqc_rating', 'good', '2025-01-01'),
      obs('cqc_rating', 'requires_improvement', '2026-04-20'),
    ])
    expect(result.reasons).toContain('Recently downgraded by CQC from Good to Requires improvement on 2026-04-20')
    expect(assess(downgradedDaysAgo(10)).reasons).toEqual([
      `Recently downgraded by CQC from Outstanding to Good on ${daysAgo(10)}`,
    ])
  })

  it('is not raised by an upgrade, a first rating or a not-yet-rated record', () => {
    expect(
      assess([obs('cqc_rating', 'requires_improvement', daysAgo(900)), obs('cqc_rating', 'good', daysAgo(10))]).flags
        .recentlyDowngraded,
    ).toBe(false)
    expect(assess([obs('cqc_rating', 'good', daysAgo(10))]).flags.recentlyDowngraded).toBe(false)
    expect(
      assess([obs('cqc_rating', 'not_rated', daysAgo(900)), obs('cqc_rating', 'good', daysAgo(10))]).flags
        .recentlyDowngraded,
    ).toBe(false)
  })
})

describe('manual override', () => {
  const override = (expiresOn: string): ActiveOverride => ({
    rag: 'red',
    reason: 'Police investigation under way',
    expiresOn,
    setBy: 'officer@example.org',
  })

  it('wins up to and including its expiry date, keeping the computed RAG', () => {
    const result = assess([obs('cqc_rating', 'good', daysAgo(10))], { override: override(AS_OF) })
    expect(result).toMatchObject({ rag: 'red', computedRag: 'green' })
    expect(result.override?.reason).toBe('Police investigation under way')
    expect(result.reasons[0]).toBe(
      `Manual override to Red until ${AS_OF} (the rules give Green): Police investigation under way`,
    )
  })

  it('is ignored once expired', () => {
    const result = assess([obs('cqc_rating', 'good', daysAgo(10))], { override: override(daysAgo(1)) })
    expect(result).toMatchObject({ rag: 'green', computedRag: 'green', override: null })
    expect(result.reasons.join(' ')).not.toContain('override')
  })
})

describe('score', () => {
  it('ranks more and worse indicators higher within a colour', () => {
    const oneRed = assess([obs('cqc_rating', 'inadequate', daysAgo(10))])
    const redAndAmber = assess([obs('cqc_rating', 'inadequate', daysAgo(10)), obs('food_hygiene', '2', daysAgo(10))])
    const twoReds = assess([obs('cqc_rating', 'inadequate', daysAgo(10)), obs('food_hygiene', '0', daysAgo(10))])
    expect(redAndAmber.score).toBeGreaterThan(oneRed.score)
    expect(twoReds.score).toBeGreaterThan(redAndAmber.score)
    const oneAmber = assess([obs('food_hygiene', '2', daysAgo(10))])
    const twoAmbers = assess([obs('food_hygiene', '2', daysAgo(10)), obs('manager_vacancy', 'vacant', daysAgo(10))])
    expect(twoAmbers.score).toBeGreaterThan(oneAmber.score)
  })

  it('uses the rule set weights', () => {
    expect(assess([obs('cqc_rating', 'inadequate', daysAgo(10))]).score).toBe(300)
    const ruleSet = editedRuleSet((doc) => {
      doc.score.indicatorWeights.cqc_rating = 1
    })
    expect(assess([obs('cqc_rating', 'inadequate', daysAgo(10))], { ruleSet }).score).toBe(100)
  })
})

describe('deteriorating', () => {
  it('flags two adverse observations within 90 days, even while Green', () => {
    const observations = [
      obs('cqc_rating', 'good', daysAgo(300)),
      obs('contract_concerns', 'substantiated', daysAgo(90)),
      obs('embargo', 'embargo', daysAgo(40), { endDate: daysAgo(30) }),
    ]
    const result = assess(observations)
    expect(result.rag).toBe('green')
    expect(result.flags.deteriorating).toBe(true)
  })

  it('does not count one 91 days old, nor ones that are not adverse', () => {
    const observations = [
      obs('contract_concerns', 'substantiated', daysAgo(91)),
      obs('contract_concerns', 'not_substantiated', daysAgo(5)),
      obs('cqc_rating', 'good', daysAgo(5)),
      obs('embargo', 'embargo', daysAgo(40), { endDate: daysAgo(30) }),
    ]
    expect(assess(observations).flags.deteriorating).toBe(false)
  })
})

describe('thresholds are data', () => {
  it('follows an edited safeguarding threshold and vacancy limit', () => {
    const ruleSet = editedRuleSet((doc) => {
      doc.indicators.safeguarding.redFrom = 2
      doc.indicators.manager_vacancy.redWhenVacantMoreThanDays = 30
    })
    const observations = [
      obs('safeguarding', 'decision', daysAgo(3)),
      obs('safeguarding', 'decision', daysAgo(4)),
      obs('manager_vacancy', 'vacant', daysAgo(31)),
    ]
    const result = assess(observations, { ruleSet })
    expect(indicatorOf(result, 'safeguarding').level).toBe('red')
    expect(indicatorOf(result, 'manager_vacancy').level).toBe('red')
    expect(indicatorOf(assess(observations), 'manager_vacancy').level).toBe('amber')
  })
})
