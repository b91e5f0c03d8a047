import { addDays } from '../domain/dates.js'
import type { IndicatorKey, Rag } from '../domain/vocabulary.js'
import type { ServiceHistory } from './history.js'
import type { DemoService } from './types.js'

/**
 * What happened to one demo service. Every service gets the quiet Green background of ServiceHistory; a
 * scenario then replaces some of those indicators and adds the events that give it its colour today (and
 * often a different colour 12 months ago, or last week).
 */
export interface Scenario {
  name: string
  /** The colour SPEC §3's default rules should give today. */
  intended: Rag
  /** How many services get it (provider-wide scenarios are assigned separately, see market.ts). */
  count: number
  fits: (service: DemoService) => boolean
  /** Background indicators the scenario writes itself. */
  replaces: IndicatorKey[]
  build: (history: ServiceHistory) => void
}

const any = (): boolean => true
const registered = (s: DemoService): boolean => s.cqcLocationId !== null
const servesFood = (s: DemoService): boolean => s.fhrsId !== null
const careHome = (s: DemoService): boolean =>
  s.serviceType === 'care_home_nursing' || s.serviceType === 'care_home_residential'

function decisions(h: ServiceHistory, count: number, minDays: number, maxDays: number): void {
  const days = new Set<number>()
  while (days.size < count) days.add(h.rng.int(minDays, maxDays))
  for (const d of [...days].sort((a, b) => b - a)) h.safeguardingDecision(h.ago(d))
}

function substantiatedConcerns(h: ServiceHistory, count: number, minDays: number, maxDays: number): void {
  for (let i = 0; i < count; i++) h.contractConcern(h.daysAgo(minDays, maxDays), 'substantiated')
}

/** Scenarios, most constrained first so that they find services that fit. */
export const SCENARIOS: readonly Scenario[] = [
  // Red today.
  {
    name: 'cqc_inadequate_recent',
    intended: 'red',
    count: 2,
    fits: registered,
    replaces: ['cqc_rating'],
    build: (h) => {
      h.cqcRating(h.daysAgo(700, 1300), 'good')
      h.cqcRating(h.daysAgo(10, 80), 'inadequate')
    },
  },
  {
    name: 'cqc_inadequate',
    intended: 'red',
    count: 1,
    fits: registered,
    replaces: ['cqc_rating'],
    build: (h) => {
      h.cqcRating(h.daysAgo(900, 1300), 'requires_improvement')
      h.cqcRating(h.daysAgo(150, 330), 'inadequate')
    },
  },
  {
    name: 'cqc_safe_inadequate',
    intended: 'red',
    count: 1,
    fits: registered,
    replaces: ['cqc_rating'],
    build: (h) => {
      h.cqcRating(h.daysAgo(800, 1200), 'good')
      h.cqcRating(h.daysAgo(100, 300), 'requires_improvement', { safe: 'inadequate' })
    },
  },
  {
    name: 'cqc_inadequate_this_week',
    intended: 'red',
    count: 1,
    fits: registered,
    replaces: ['cqc_rating'],
    build: (h) => {
      h.cqcRating(h.daysAgo(800, 1200), 'good')
      h.cqcRating(h.daysAgo(2, 5), 'inadequate')
    },
  },
  {
    name: 'manager_vacant_long',
    intended: 'red',
    count: 2,
    fits: registered,
    replaces: [],
    build: (h) => h.managerVacancy(h.daysAgo(200, 320), null),
  },
  {
    name: 'food_hygiene_poor',
    intended: 'red',
    count: 1,
    fits: servesFood,
    replaces: ['food_hygiene'],
    build: (h) => {
      h.foodHygiene(h.daysAgo(800, 1000), '3')
      h.foodHygiene(h.daysAgo(60, 250), h.rng.pick(['0', '1']))
    },
  },
  {
    name: 'unexpected_deaths',
    intended: 'red',
    count: 1,
    fits: careHome,
    replaces: [],
    build: (h) => {
      h.unexpectedDeath(h.daysAgo(150, 330))
      h.unexpectedDeath(h.daysAgo(10, 120))
    },
  },
  {
    name: 'assessment_poor',
    intended: 'red',
    count: 2,
    fits: any,
    replaces: ['quality_assessment'],
    build: (h) => {
      h.assessment(h.daysAgo(380, 420), 'good')
      h.assessment(h.daysAgo(30, 200), 'poor')
    },
  },
  {
    name: 'embargo_active',
    intended: 'red',
    count: 2,
    fits: any,
    replaces: ['safeguarding'],
    build: (h) => {
      const start = h.daysAgo(20, 200)
      h.safeguardingDecision(addDays(start, -h.rng.int(5, 20)))
      h.embargo(start, null)
    },
  },
  {
    name: 'embargo_today',
    intended: 'red',
    count: 1,
    fits: any,
    replaces: [],
    build: (h) => h.embargo(h.today, null),
  },
  {
    name: 'safeguarding_many',
    intended: 'red',
    count: 2,
    fits: any,
    replaces: ['safeguarding'],
    build: (h) => decisions(h, h.rng.int(3, 4), 10, 340),
  },
  {
    name: 'default_notices_two',
    intended: 'red',
    count: 1,
    fits: any,
    replaces: [],
    build: (h) => {
      const first = h.daysAgo(250, 330)
      h.defaultNotice(first, addDays(first, h.rng.int(60, 120)))
      h.defaultNotice(h.daysAgo(20, 120), null)
    },
  },
  {
    name: 'concerns_many',
    intended: 'red',
    count: 1,
    fits: any,
    replaces: ['contract_concerns'],
    build: (h) => {
      substantiatedConcerns(h, h.rng.int(4, 5), 10, 340)
      h.contractConcern(h.daysAgo(5, 60), 'open')
    },
  },
  {
    name: 'multiple_concerns',
    intended: 'red',
    count: 2,
    fits: any,
    replaces: ['quality_assessment', 'safeguarding', 'contract_concerns'],
    build: (h) => {
      h.assessment(h.daysAgo(400, 450), 'good')
      h.assessment(h.daysAgo(60, 200), 'requires_improvement')
      decisions(h, 1, 20, 300)
      substantiatedConcerns(h, 2, 20, 300)
    },
  },

  // Amber today.
  {
    name: 'cqc_requires_improvement',
    intended: 'amber',
    count: 7,
    fits: registered,
    replaces: ['cqc_rating'],
    build: (h) => {
      h.cqcRating(h.daysAgo(1100, 1600), 'good')
      h.cqcRating(h.daysAgo(400, 1000), 'requires_improvement')
    },
  },
  {
    name: 'cqc_downgraded_this_year',
    intended: 'amber',
    count: 3,
    fits: registered,
    replaces: ['cqc_rating'],
    build: (h) => {
      h.cqcRating(h.daysAgo(900, 1400), 'good')
      h.cqcRating(h.daysAgo(100, 330), 'requires_improvement')
    },
  },
  {
    name: 'cqc_downgraded_recently',
    intended: 'amber',
    count: 1,
    fits: registered,
    replaces: ['cqc_rating'],
    build: (h) => {
      h.cqcRating(h.daysAgo(900, 1400), 'good')
      h.cqcRating(h.daysAgo(20, 80), 'requires_improvement')
    },
  },
  {
    name: 'cqc_key_question',
    intended: 'amber',
    count: 4,
    fits: registered,
    replaces: ['cqc_rating'],
    build: (h) => {
      const question = h.rng.pick(['safe', 'effective', 'responsive', 'well_led'] as const)
      h.cqcRating(h.daysAgo(300, 900), 'good', { [question]: 'requires_improvement' })
    },
  },
  {
    name: 'outstanding_to_good_recently',
    intended: 'amber',
    count: 2,
    fits: registered,
    replaces: ['cqc_rating'],
    build: (h) => {
      h.cqcRating(h.daysAgo(1000, 1500), 'outstanding')
      h.cqcRating(h.daysAgo(15, 80), 'good')
    },
  },
  {
    name: 'newly_registered_not_rated',
    intended: 'amber',
    count: 3,
    fits: registered,
    replaces: ['cqc_rating', 'quality_assessment', 'manager_vacancy'],
    build: (h) => {
      const registeredOn = h.service.registeredOn ?? h.ago(100)
      h.cqcRating(registeredOn, 'not_rated')
      h.managerInPost(registeredOn)
    },
  },
  {
    name: 'manager_vacant',
    intended: 'amber',
    count: 3,
    fits: registered,
    replaces: [],
    build: (h) => h.managerVacancy(h.daysAgo(20, 170), null),
  },
  {
    name: 'manager_vacant_this_week',
    intended: 'amber',
    count: 1,
    fits: registered,
    replaces: [],
    build: (h) => h.managerVacancy(h.daysAgo(2, 5), null),
  },
  {
    name: 'food_hygiene_two',
    intended: 'amber',
    count: 2,
    fits: servesFood,
    replaces: ['food_hygiene'],
    build: (h) => {
      h.foodHygiene(h.daysAgo(700, 1000), '4')
      h.foodHygiene(h.daysAgo(40, 300), '2')
    },
  },
  {
    name: 'unexpected_death',
    intended: 'amber',
    count: 3,
    fits: any,
    replaces: [],
    build: (h) => h.unexpectedDeath(h.daysAgo(10, 330)),
  },
  {
    name: 'assessment_requires_improvement',
    intended: 'amber',
    count: 5,
    fits: any,
    replaces: ['quality_assessment'],
    build: (h) => {
      h.assessment(h.daysAgo(400, 500), 'good')
      h.assessment(h.daysAgo(30, 250), 'requires_improvement')
    },
  },
  {
    name: 'assessment_overdue',
    intended: 'amber',
    count: 6,
    fits: any,
    replaces: ['quality_assessment'],
    build: (h) => {
      h.assessment(h.daysAgo(800, 900), 'good')
      h.assessment(h.daysAgo(380, 520), h.rng.chance(0.3) ? 'excellent' : 'good')
    },
  },
  {
    name: 'safeguarding_some',
    intended: 'amber',
    count: 5,
    fits: any,
    replaces: ['safeguarding'],
    build: (h) => {
      if (h.rng.chance(0.25)) h.quarterlyCounts([0, 1, 0, 0, 0, h.rng.int(1, 2)])
      else decisions(h, h.rng.int(1, 2), 10, 330)
    },
  },
  {
    name: 'safeguarding_today',
    intended: 'amber',
    count: 1,
    fits: any,
    replaces: ['safeguarding'],
    build: (h) => h.safeguardingDecision(h.today),
  },
  {
    name: 'default_notice_open',
    intended: 'amber',
    count: 3,
    fits: any,
    replaces: [],
    build: (h) => h.defaultNotice(h.daysAgo(20, 200), null),
  },
  {
    name: 'concerns_some',
    intended: 'amber',
    count: 3,
    fits: any,
    replaces: ['contract_concerns'],
    build: (h) => {
      substantiatedConcerns(h, h.rng.int(2, 3), 10, 340)
      h.contractConcern(h.daysAgo(30, 500), 'not_substantiated')
    },
  },

  // Green today, but not 12 months ago or not last week.
  {
    name: 'recovered_cqc',
    intended: 'green',
    count: 4,
    fits: registered,
    replaces: ['cqc_rating'],
    build: (h) => {
      h.cqcRating(h.daysAgo(1300, 1600), 'good')
      h.cqcRating(h.daysAgo(420, 800), 'requires_improvement')
      h.cqcRating(h.daysAgo(100, 300), 'good')
    },
  },
  {
    name: 'recovered_manager',
    intended: 'green',
    count: 2,
    fits: registered,
    replaces: [],
    build: (h) => h.managerVacancy(h.daysAgo(420, 500), h.daysAgo(200, 300)),
  },
  {
    name: 'manager_appointed_this_week',
    intended: 'green',
    count: 1,
    fits: registered,
    replaces: [],
    build: (h) => h.managerVacancy(h.daysAgo(60, 120), h.daysAgo(3, 6)),
  },
  {
    name: 'recovered_embargo',
    intended: 'green',
    count: 2,
    fits: any,
    replaces: [],
    build: (h) => h.embargo(h.daysAgo(380, 450), h.daysAgo(250, 320)),
  },
  {
    name: 'embargo_lifted_today',
    intended: 'green',
    count: 1,
    fits: any,
    replaces: [],
    build: (h) => h.embargo(h.daysAgo(40, 90), h.today),
  },
  {
    name: 'recovered_assessment',
    intended: 'green',
    count: 3,
    fits: any,
    replaces: ['quality_assessment'],
    build: (h) => {
      h.assessment(h.daysAgo(700, 760), 'good')
      h.assessment(h.daysAgo(380, 420), 'requires_improvement')
      h.assessment(h.daysAgo(60, 250), 'good')
    },
  },
  {
    name: 'assessment_improved_today',
    intended: 'green',
    count: 1,
    fits: any,
    replaces: ['quality_assessment'],
    build: (h) => {
      h.assessment(h.daysAgo(500, 560), 'good')
      h.assessment(h.daysAgo(150, 250), 'requires_improvement')
      h.assessment(h.today, 'good')
    },
  },
  {
    name: 'recovered_safeguarding',
    intended: 'green',
    count: 2,
    fits: any,
    replaces: ['safeguarding'],
    build: (h) => decisions(h, 2, 380, 600),
  },
  {
    name: 'recovered_default_notice',
    intended: 'green',
    count: 1,
    fits: any,
    replaces: [],
    build: (h) => h.defaultNotice(h.daysAgo(400, 450), h.daysAgo(300, 340)),
  },
  {
    name: 'draft_assessment_pending',
    intended: 'green',
    count: 2,
    fits: any,
    replaces: ['quality_assessment'],
    build: (h) => {
      h.assessmentChain(h.daysAgo(200, 300))
      h.assessment(h.daysAgo(3, 10), 'requires_improvement', 'draft')
    },
  },
  {
    name: 'deteriorating_but_green',
    intended: 'green',
    count: 2,
    fits: any,
    replaces: ['contract_concerns'],
    // Two adverse entries in 90 days that each leave the indicator Green: one substantiated concern (Amber from 2)
    // and an embargo already lifted; an open concern does not count until it is substantiated.
    build: (h) => {
      h.contractConcern(h.daysAgo(10, 80), 'substantiated')
      h.contractConcern(h.daysAgo(5, 40), 'open')
      h.embargo(h.daysAgo(60, 85), h.daysAgo(20, 40))
    },
  },
]

/** Services of the provider in administration, and of the one in a voluntary arrangement. */
export const PROVIDER_SCENARIOS = {
  administration: {
    name: 'provider_in_administration',
    intended: 'red',
    build: (h: ServiceHistory) => {
      h.companyStatus(h.historyStart, 'active')
      h.companyStatus(h.daysAgo(20, 60), 'administration')
    },
  },
  voluntaryArrangement: {
    name: 'provider_voluntary_arrangement',
    intended: 'amber',
    build: (h: ServiceHistory) => {
      h.companyStatus(h.historyStart, 'active')
      h.companyStatus(h.daysAgo(150, 250), 'voluntary-arrangement')
    },
  },
} as const

/** Services with no scenario: the Green background alone. */
export const STEADY = 'steady'
