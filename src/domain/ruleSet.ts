import { z } from 'zod'
import { DEFAULT_RULE_SET_DOCUMENT } from './defaultRuleSet.js'
import { indicatorKeySchema, normaliseWord } from './vocabulary.js'

/**
 * The risk rule set (SPEC §3): every threshold, window, count and weight the risk engine uses. It is data, stored
 * as JSON in `rule_sets.document`, versioned, and validated here. Vocabulary words in it ("Requires improvement",
 * "voluntary-arrangement") are normalised on parse, so an admin may write them either way.
 */

const days = z.int().min(1).max(36_500)
/** Age in days past which the deciding input is marked stale; null: never stale. */
const staleAfterDays = days.nullable()
const threshold = z.int().min(1).max(10_000)
const weight = z.number().min(0).max(1_000_000)
const word = z.string().trim().min(1).transform(normaliseWord)
const words = z.array(word)

/** Which values give which level; a value in none of the lists is "not recognised". */
const levelListsSchema = z.strictObject({ green: words, amber: words, red: words }).superRefine((lists, ctx) => {
  const seen = new Map<string, string>()
  for (const level of ['green', 'amber', 'red'] as const) {
    for (const value of lists[level]) {
      const other = seen.get(value)
      if (other)
        ctx.addIssue({ code: 'custom', path: [level], message: `"${value}" is listed as both ${other} and ${level}` })
      seen.set(value, level)
    }
  }
})

/** What an indicator fed only by council entries shows when the council has recorded nothing for the service. */
const whenNoEntries = z.enum(['green', 'none'])

const windowedCountFields = {
  windowDays: days,
  /** Entries in the window from which the indicator is Amber ... */
  amberFrom: threshold,
  /** ... and Red. amberFrom = redFrom means there is no Amber band. */
  redFrom: threshold,
  staleAfterDays,
  whenNoEntries,
}
function amberNotAboveRed(rules: { amberFrom: number; redFrom: number }, ctx: z.RefinementCtx) {
  if (rules.amberFrom > rules.redFrom) {
    ctx.addIssue({ code: 'custom', path: ['amberFrom'], message: 'must not be greater than redFrom' })
  }
}
const windowedCountSchema = z.strictObject(windowedCountFields).superRefine(amberNotAboveRed)

const cqcKeyQuestion = z
  .string()
  .trim()
  .transform(normaliseWord)
  .pipe(z.enum(['safe', 'effective', 'caring', 'responsive', 'well_led']))
const keyQuestionRuleSchema = z.strictObject({ questions: z.array(cqcKeyQuestion), ratings: words })

export const ruleSetSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).optional(),
  /** Overall Red when at least this many indicators are Amber ("multiple concerns"). */
  multipleConcerns: z.strictObject({ amberCount: z.int().min(2).max(10) }),
  /** A CQC downgrade published within this many days raises an overall Green to Amber. */
  recentDowngrade: z.strictObject({ windowDays: days }),
  /** Flag "deteriorating": at least this many adverse observations dated within the window. */
  deterioration: z.strictObject({ windowDays: days, minAdverseObservations: z.int().min(1).max(100) }),
  /**
   * Score = sum over indicators with data of levelWeights[level] x indicatorWeights[indicator], plus flagWeights
   * for each flag raised. It ranks services within a colour.
   */
  score: z.strictObject({
    levelWeights: z.strictObject({ red: weight, amber: weight, green: weight }),
    indicatorWeights: z.record(indicatorKeySchema, weight),
    flagWeights: z.strictObject({ recentlyDowngraded: weight, deteriorating: weight }),
  }),
  indicators: z.strictObject({
    quality_assessment: z.strictObject({
      outcomes: levelListsSchema,
      /** A last assessment older than this is at least Amber (SPEC: "older than 12 months"). */
      amberWhenOlderThanDays: days,
      staleAfterDays,
    }),
    cqc_rating: z.strictObject({
      /** Overall ratings; `not_rated` is "registered but not yet rated". */
      overall: levelListsSchema,
      /** Key question ratings that force the indicator to at least this level. */
      keyQuestions: z.strictObject({ red: keyQuestionRuleSchema, amber: keyQuestionRuleSchema }),
      /** Level when the latest record says the location is deregistered (default Amber: see src/domain/indicators/cqcRating.ts). */
      deregisteredLevel: z.enum(['red', 'amber', 'green', 'none']),
      staleAfterDays,
    }),
    food_hygiene: z.strictObject({
      ratings: levelListsSchema,
      /** Known values that are not a rating (exempt, awaiting inspection): no data. */
      notRated: words,
      staleAfterDays,
    }),
    safeguarding: z
      .strictObject({
        ...windowedCountFields,
        /**
         * When a count (decisions in a period) and event rows cover the same dates:
         * counts_replace_events: events dated inside a counted period are dropped;
         * events_replace_counts: a count whose period holds any event is dropped;
         * add: both are counted.
         */
        countsAndEvents: z.enum(['counts_replace_events', 'events_replace_counts', 'add']),
      })
      .superRefine(amberNotAboveRed),
    embargo: z.strictObject({ activeLevel: z.enum(['red', 'amber']), staleAfterDays, whenNoEntries }),
    default_notice: z
      .strictObject({
        windowDays: days,
        amberWhenOpen: threshold,
        redWhenOpen: threshold,
        redWhenIssuedInWindow: threshold,
        staleAfterDays,
        whenNoEntries,
      })
      .superRefine((rules, ctx) => {
        if (rules.amberWhenOpen > rules.redWhenOpen) {
          ctx.addIssue({ code: 'custom', path: ['amberWhenOpen'], message: 'must not be greater than redWhenOpen' })
        }
      }),
    unexpected_deaths: windowedCountSchema,
    contract_concerns: z
      .strictObject({ ...windowedCountFields, countedOutcomes: words.min(1) })
      .superRefine(amberNotAboveRed),
    insolvency: z.strictObject({
      /** Companies House company_status values. */
      statuses: levelListsSchema,
      /** company_status_detail values that make an otherwise better status this level. */
      statusDetails: z.strictObject({ amber: words, red: words }),
      staleAfterDays,
    }),
    manager_vacancy: z.strictObject({
      /** A vacancy is Amber, and Red once it has lasted more than this many days. */
      redWhenVacantMoreThanDays: days,
      staleAfterDays,
    }),
  }),
  /** The quality assessment cycle (SPEC §8), used by the due-next queue. */
  assessmentSchedule: z.strictObject({
    /** Re-assess within this many days of the last assessment, by the service's overall RAG ... */
    intervalDaysByRag: z.strictObject({ red: days, amber: days, green: days }),
    /** ... and at the latest within this many by contract status; null: not scheduled at all. */
    maxIntervalDaysByContract: z.strictObject({
      contracted: days.nullable(),
      spot: days.nullable(),
      off_contract: days.nullable(),
    }),
  }),
})

export type RuleSet = z.infer<typeof ruleSetSchema>
/** The document as an admin writes it (before words are normalised). */
export type RuleSetDocument = z.input<typeof ruleSetSchema>

export type ParseRuleSetResult = { ok: true; ruleSet: RuleSet } | { ok: false; issues: string[] }

/** Validates a rule set document; issues read like "indicators.safeguarding.amberFrom: must not be greater than redFrom". */
export function parseRuleSet(json: unknown): ParseRuleSetResult {
  const parsed = ruleSetSchema.safeParse(json)
  if (parsed.success) return { ok: true, ruleSet: parsed.data }
  return {
    ok: false,
    issues: parsed.error.issues.map((issue) => {
      const path = issue.path.map(String).join('.')
      return path ? `${path}: ${issue.message}` : issue.message
    }),
  }
}

function loadDefaultRuleSet(): RuleSet {
  const result = parseRuleSet(DEFAULT_RULE_SET_DOCUMENT)
  if (!result.ok) throw new Error(`The default rule set is invalid:\n${result.issues.join('\n')}`)
  return result.ruleSet
}

/** The default rule set of SPEC §3, validated at load. */
export const DEFAULT_RULE_SET: RuleSet = loadDefaultRuleSet()
