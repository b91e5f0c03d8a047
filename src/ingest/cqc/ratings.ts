import { parseCouncilDate } from '../../domain/dates.js'
import {
  CQC_KEY_QUESTIONS,
  CQC_RATINGS,
  normaliseWord,
  type CqcKeyQuestion,
  type CqcRating,
} from '../../domain/vocabulary.js'

/** CQC phrases that mean "no rating": all become `not_rated`. */
const NOT_RATED_WORDS = new Set([
  'not_rated',
  'no_published_rating',
  'insufficient_evidence_to_rate',
  'inspected_but_not_rated',
  'not_yet_rated',
  'no_rating',
])

/**
 * A CQC rating word as an observation value: one of CQC_RATINGS, or, for a word never seen before, the word
 * normalised (e.g. "Very good" -> "very_good") so the risk engine can report it as unrecognised. Blank -> null.
 */
export function normaliseCqcRating(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined || raw.trim() === '') return null
  const word = normaliseWord(raw)
  return NOT_RATED_WORDS.has(word) ? 'not_rated' : word
}

export function isKnownCqcRating(value: string): value is CqcRating {
  return (CQC_RATINGS as readonly string[]).includes(value)
}

/** "Well-led" -> "well_led"; null for a key question name we do not know. */
export function keyQuestionOf(name: string): CqcKeyQuestion | null {
  const word = normaliseWord(name)
  return (CQC_KEY_QUESTIONS as readonly string[]).includes(word) ? (word as CqcKeyQuestion) : null
}

export function keyQuestionsOf(
  ratings: ReadonlyArray<{ name: string; rating?: string | null }> | null | undefined,
): Partial<Record<CqcKeyQuestion, string>> {
  const result: Partial<Record<CqcKeyQuestion, string>> = {}
  for (const entry of ratings ?? []) {
    const question = keyQuestionOf(entry.name)
    const rating = normaliseCqcRating(entry.rating)
    if (question && rating) result[question] = rating
  }
  return result
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
