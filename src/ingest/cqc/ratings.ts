import { parseCouncilDate } from '../../domain/dates.js'
import {
  CQC_KEY_QUESTIONS,
  CQC_RATINGS,
  normaliseWord,
  type CqcKeyQuestion,
  type CqcRating,
} from '../../domain/vocabulary.js'

/**
 * The one reading of a CQC rating word, shared by the API and file connectors (SPEC §5): the four ratings; the phrases
 * that mean "no rating" ("Inspected but not rated" after a focused inspection, "No published rating", "Not rated"...),
 * which never replace an earlier rating; and any other word, which is flagged with the word and never read as a rating.
 */
export type RatedCqcRating = Exclude<CqcRating, 'not_rated'>

export type CqcRatingWord =
  | { kind: 'rating'; value: RatedCqcRating; raw: string }
  | { kind: 'not_rated'; value: 'not_rated'; raw: string }
  /** `value` is the word normalised ("No action" -> "no_action"); `raw` is CQC's own text. */
  | { kind: 'unknown'; value: string; raw: string }

/** CQC phrases that mean "no rating": all become `not_rated`. */
const NOT_RATED_WORDS = new Set([
  'not_rated',
  'no_published_rating',
  'insufficient_evidence_to_rate',
  'inspected_but_not_rated',
  'not_yet_rated',
  'no_rating',
])
const RATED_WORDS: readonly string[] = ['outstanding', 'good', 'requires_improvement', 'inadequate']

/** Reads one rating cell or field; null when blank. */
export function readCqcRatingWord(raw: string | null | undefined): CqcRatingWord | null {
  if (raw === null || raw === undefined || raw.trim() === '') return null
  const text = raw.trim()
  const word = normaliseWord(text)
  if (NOT_RATED_WORDS.has(word)) return { kind: 'not_rated', value: 'not_rated', raw: text }
  if (RATED_WORDS.includes(word)) return { kind: 'rating', value: word as RatedCqcRating, raw: text }
  return { kind: 'unknown', value: word, raw: text }
}

/**
 * A CQC rating word as an observation value: one of CQC_RATINGS, or, for a word never seen before, the word
 * normalised (e.g. "Very good" -> "very_good") so the risk engine can report it as unrecognised. Blank -> null.
 */
export function normaliseCqcRating(raw: string | null | undefined): string | null {
  return readCqcRatingWord(raw)?.value ?? null
}

export function isKnownCqcRating(value: string): value is CqcRating {
  return (CQC_RATINGS as readonly string[]).includes(value)
}

/** "Well-led" -> "well_led"; null for a key question name we do not know. */
export function keyQuestionOf(name: string): CqcKeyQuestion | null {
  const word = normaliseWord(name)
  return (CQC_KEY_QUESTIONS as readonly string[]).includes(word) ? (word as CqcKeyQuestion) : null
}

/** A rating field holding a word the rules do not know: `field` is "Overall" or the key question ("Safe"). */
export interface UnrecognisedCqcRating {
  field: string
  word: string
}

export const KEY_QUESTION_LABELS: Record<CqcKeyQuestion, string> = {
  safe: 'Safe',
  effective: 'Effective',
  caring: 'Caring',
  responsive: 'Responsive',
  well_led: 'Well-led',
}

/**
 * Key question ratings by question, plus the fields whose word is not a rating. An unknown word is kept (normalised)
 * beside the known ones so the page can show it, and listed in `unrecognised` so it is flagged, never judged.
 */
export function readKeyQuestionRatings(
  ratings: ReadonlyArray<{ name: string; rating?: string | null }> | null | undefined,
): { keyQuestions: Partial<Record<CqcKeyQuestion, string>>; unrecognised: UnrecognisedCqcRating[] } {
  const keyQuestions: Partial<Record<CqcKeyQuestion, string>> = {}
  const unrecognised: UnrecognisedCqcRating[] = []
  for (const entry of ratings ?? []) {
    const question = keyQuestionOf(entry.name)
    const word = readCqcRatingWord(entry.rating)
    if (!question || !word) continue
    keyQuestions[question] = word.value
    if (word.kind === 'unknown') unrecognised.push({ field: KEY_QUESTION_LABELS[question], word: word.raw })
  }
  return { keyQuestions, unrecognised }
}

export function keyQuestionsOf(
  ratings: ReadonlyArray<{ name: string; rating?: string | null }> | null | undefined,
): Partial<Record<CqcKeyQuestion, string>> {
  return readKeyQuestionRatings(ratings).keyQuestions
}

/** 'Safe rating "No action"' — for run log warnings and reasons. */
export function describeUnrecognised(list: readonly UnrecognisedCqcRating[]): string {
  return list.map(({ field, word }) => `${field} rating "${word}"`).join(', ')
}

const MONTHS: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
}

/**
 * Dates as CQC publishes them: ISO (`2019-10-31`, with or without a time), UK `31/10/2019`, and the care
 * directory's `19/May/2022 - 00:00` (also `19 May 2022`, `19-May-2022`). Anything else gives null.
 */
export function parseCqcDate(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null
  const text = raw.trim().replace(/\s+-\s+\d{1,2}:\d{2}(:\d{2})?$/, '')
  if (text === '') return null
  const iso = parseCouncilDate(text)
  if (iso) return iso
  const named = /^(\d{1,2})[\s/-]([A-Za-z]{3,9})[\s/-](\d{4})$/.exec(text)
  if (!named) return null
  const month = MONTHS[(named[2] as string).slice(0, 3).toLowerCase()]
  if (month === undefined) return null
  return parseCouncilDate(`${named[3]}-${String(month).padStart(2, '0')}-${(named[1] as string).padStart(2, '0')}`)
}
