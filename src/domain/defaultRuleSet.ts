import type { RuleSetDocument } from './ruleSet.js'

/**
 * The default rule set (SPEC §3 table). Plain data: `ruleSet.ts` validates it at load, and an admin starts from a
 * copy of it (`JSON.stringify(DEFAULT_RULE_SET_DOCUMENT, null, 2)`).
 */
export const DEFAULT_RULE_SET_DOCUMENT = {
  name: 'Default rule set',
  description: 'The thresholds of the specification (SPEC §3).',
  multipleConcerns: { amberCount: 3 },
  recentDowngrade: { windowDays: 90 },
  deterioration: { windowDays: 90, minAdverseObservations: 2 },
  score: {
    levelWeights: { red: 100, amber: 10, green: 0 },
    indicatorWeights: {
      quality_assessment: 2,
      cqc_rating: 3,
      food_hygiene: 1,
      safeguarding: 2,
      embargo: 3,
      default_notice: 2,
      unexpected_deaths: 2,
      contract_concerns: 1,
      insolvency: 3,
      manager_vacancy: 1,
    },
    flagWeights: { recentlyDowngraded: 5, deteriorating: 5 },
  },
  indicators: {
    quality_assessment: {
      outcomes: { green: ['excellent', 'good'], amber: ['requires_improvement'], red: ['poor'] },
      amberWhenOlderThanDays: 365,
      staleAfterDays: 365,
    },
    cqc_rating: {
      overall: {
        green: ['outstanding', 'good'],
        amber: ['requires_improvement', 'not_rated'],
        red: ['inadequate'],
      },
      keyQuestions: {
        red: { questions: ['safe', 'well_led'], ratings: ['inadequate'] },
        amber: {
          questions: ['safe', 'effective', 'caring', 'responsive', 'well_led'],
          ratings: ['requires_improvement', 'inadequate'],
        },
      },
      deregisteredLevel: 'amber',
      // CQC ratings of social care services average over three years old (SPEC §7).
      staleAfterDays: 1095,
    },
    food_hygiene: {
      ratings: {
        green: ['3', '4', '5', 'pass', 'pass_and_eat_safe'],
        amber: ['2', 'improvement_required'],
        red: ['0', '1'],
      },
      notRated: ['exempt', 'awaiting_inspection', 'awaiting_publication'],
      // Caring premises are usually inspected every one to two years.
      staleAfterDays: 730,
    },
    safeguarding: {
      windowDays: 365,
      amberFrom: 1,
      redFrom: 3,
      staleAfterDays: null,
      whenNoEntries: 'green',
      countsAndEvents: 'counts_replace_events',
    },
    embargo: { activeLevel: 'red', staleAfterDays: null, whenNoEntries: 'green' },
    default_notice: {
      windowDays: 365,
      amberWhenOpen: 1,
      redWhenOpen: 2,
      redWhenIssuedInWindow: 2,
      staleAfterDays: null,
      whenNoEntries: 'green',
    },
    unexpected_deaths: { windowDays: 365, amberFrom: 1, redFrom: 2, staleAfterDays: null, whenNoEntries: 'green' },
    contract_concerns: {
      windowDays: 365,
      amberFrom: 2,
      redFrom: 4,
      staleAfterDays: null,
      whenNoEntries: 'green',
      countedOutcomes: ['substantiated'],
    },
    insolvency: {
      statuses: {
        green: ['active', 'open', 'registered'],
        amber: ['voluntary-arrangement'],
        red: [
          'administration',
          'receivership',
          'liquidation',
          'insolvency-proceedings',
          'dissolved',
          'converted-closed',
          'removed',
          'closed',
        ],
      },
      statusDetails: { amber: ['active-proposal-to-strike-off'], red: [] },
      staleAfterDays: null,
    },
    manager_vacancy: { redWhenVacantMoreThanDays: 180, staleAfterDays: null },
  },
  assessmentSchedule: {
    intervalDaysByRag: { red: 182, amber: 273, green: 365 },
    maxIntervalDaysByContract: { contracted: 365, spot: 730, off_contract: null },
  },
} satisfies RuleSetDocument
