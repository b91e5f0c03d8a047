import { z } from 'zod'
import { parseCouncilDate } from '../../domain/dates.js'
import { serviceRefProblem, unsafeCharacterProblem } from '../../domain/strictInput.js'
import { normaliseWord } from '../../domain/vocabulary.js'

/**
 * Parsers for single CSV cells, each giving a value or a reason a council officer can act on, and the zod wrappers
 * that turn them into fields of a row schema. Cells arrive trimmed; a blank cell arrives as undefined.
 */

export type CellResult<T> = { ok: true; value: T } | { ok: false; reason: string }
export type CellParser<T> = (raw: string) => CellResult<T>

const ok = <T>(value: T): CellResult<T> => ({ ok: true, value })
const fail = (reason: string): CellResult<never> => ({ ok: false, reason })

/** A cell value quoted for a reject reason, cut short so a report never carries a long free-text value. */
export function quote(raw: string): string {
  return `"${raw.length > 40 ? `${raw.slice(0, 37)}...` : raw}"`
}

/** Free text up to `maxLength`, without control or text-direction characters (line breaks only if `multiline`). */
export function text(maxLength: number, options: { multiline?: boolean } = {}): CellParser<string> {
  return (raw) => {
    if (raw.length > maxLength) {
      return fail(
        `is ${raw.length.toLocaleString('en-GB')} characters long; the limit is ${maxLength.toLocaleString('en-GB')}`,
      )
    }
    const unsafe = unsafeCharacterProblem(raw, options)
    return unsafe === undefined ? ok(raw) : fail(unsafe)
  }
}

const UK_SHAPE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/
const ISO_SHAPE = /^\d{4}-\d{2}-\d{2}(?:[T ].*)?$/

/** ISO or UK day/month/year (parseCouncilDate); never guessed. `notAfter` refuses dates later than it (today). */
export function date(options: { notAfter?: string } = {}): CellParser<string> {
  return (raw) => {
    const iso = parseCouncilDate(raw)
    if (iso === null) return fail(describeBadDate(raw))
    if (options.notAfter !== undefined && iso > options.notAfter) {
      return fail(`${quote(raw)} is in the future (today is ${options.notAfter})`)
    }
    return ok(iso)
  }
}

function describeBadDate(raw: string): string {
  const uk = UK_SHAPE.exec(raw)
  if (uk && Number(uk[2]) > 12) {
    return `${quote(raw)} is not a date: dates are day/month/year and there is no month ${Number(uk[2])}`
  }
  if (uk || ISO_SHAPE.test(raw)) return `${quote(raw)} is not a real calendar date`
  return `${quote(raw)} is not a date: use YYYY-MM-DD or DD/MM/YYYY (e.g. 2026-03-14 or 14/03/2026)`
}

/**
 * One of `words`, compared with normaliseWord (case-insensitive; spaces, hyphens and underscores alike).
 * `aliases` maps other normalised spellings (e.g. CQC's names) to a word.
 */
export function vocabulary<W extends string>(
  words: readonly W[],
  aliases: Readonly<Record<string, W>> = {},
): CellParser<W> {
  return (raw) => {
    const word = normaliseWord(raw)
    if ((words as readonly string[]).includes(word)) return ok(word as W)
    const alias = aliases[word]
    if (alias !== undefined) return ok(alias)
    return fail(`${quote(raw)} is not one of: ${words.join(', ')}`)
  }
}

export const wholeNumber: CellParser<number> = (raw) => {
  if (!/^\d+$/.test(raw)) return fail(`${quote(raw)} is not a whole number of 0 or more`)
  const value = Number(raw)
  return Number.isSafeInteger(value) ? ok(value) : fail(`${quote(raw)} is too large`)
}

/** CQC location and provider ids: `1-` then digits, e.g. 1-1000210669. */
export const cqcId: CellParser<string> = (raw) =>
  /^1-\d{1,15}$/.test(raw) ? ok(raw) : fail(`${quote(raw)} is not a CQC id: expected 1- then digits, e.g. 1-1000210669`)

/**
 * Companies House company number: 8 characters, digits or two letters then six digits (SC, NI, OC...).
 * Spreadsheets drop leading zeros from all-digit numbers, so those are padded back to 8 digits.
 */
export const companiesHouseNumber: CellParser<string> = (raw) => {
  const upper = raw.toUpperCase().replace(/\s+/g, '')
  const padded = /^\d{1,8}$/.test(upper) ? upper.padStart(8, '0') : upper
  return /^(?:\d{8}|[A-Z]{2}\d{6}|[A-Z]\d{7})$/.test(padded)
    ? ok(padded)
    : fail(`${quote(raw)} is not a Companies House number: expected 8 characters, e.g. 06070408 or SC123456`)
}

export const fhrsId: CellParser<string> = (raw) =>
  /^\d{1,10}$/.test(raw) ? ok(raw) : fail(`${quote(raw)} is not an FHRS id: expected digits, e.g. 1583332`)

/** The council's own reference for a service. */
export const serviceRef: CellParser<string> = (raw) => {
  if (raw.length > 64) return fail('is longer than 64 characters')
  if (/[\r\n]/.test(raw)) return fail('contains a line break')
  const problem = serviceRefProblem(raw)
  if (problem !== undefined) return fail(problem)
  // The reference is the service's web address (/services/{ref}): these would break every link to it.
  const unsafe = /[/\\?#%]/.exec(raw)
  if (unsafe) return fail(`${quote(raw)} contains "${unsafe[0]}", which cannot be part of a web address: use - instead`)
  return ok(raw)
}

const blankMessage = 'is blank: a value is required'

function toZod<T>(parseCell: CellParser<T>) {
  return (raw: string, ctx: z.core.$RefinementCtx<string>): T => {
    const result = parseCell(raw)
    if (result.ok) return result.value
    ctx.addIssue({ code: 'custom', message: result.reason })
    return z.NEVER
  }
}

/** A field that must have a value. */
export function required<T>(parseCell: CellParser<T>) {
  return z.string({ error: blankMessage }).transform(toZod(parseCell))
}

/** A field that may be blank (or its column absent): null then. */
export function optional<T>(parseCell: CellParser<T>) {
  const parse = toZod(parseCell)
  return z
    .string()
    .optional()
    .transform((raw, ctx): T | null => (raw === undefined ? null : parse(raw, ctx as z.core.$RefinementCtx<string>)))
}
