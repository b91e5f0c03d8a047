import { z } from 'zod'

/**
 * Shared rules for what people and scripts type, used at every boundary (page forms, the JSON API, council CSVs):
 * numbers are plain decimals (`Number()` would read `0x10` as 16 and `1e3` as 1000), and text carries no control
 * characters or bidirectional overrides (which hide or reorder what a reader sees), nor, for a service reference,
 * a leading `=`, `+`, `-` or `@` (a spreadsheet opening an export would run it as a formula).
 */

const PLAIN_DECIMAL = /^[+-]?(?:\d+(?:\.\d+)?|\.\d+)$/

/** The number a plain decimal text means (`12`, `-3`, `12.5`); undefined for anything else (`0x10`, `1e3`, ``). */
export function parseDecimal(text: string): number | undefined {
  const trimmed = text.trim()
  return PLAIN_DECIMAL.test(trimmed) ? Number(trimmed) : undefined
}

/**
 * In place of `z.coerce.number()`: a JSON number as it is, a text only when it is a plain decimal. Anything else
 * (hex, exponents, blanks, true, [1]) reaches `schema` unchanged, for it to refuse with its own message.
 */
export function decimal<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (typeof value === 'string' ? (parseDecimal(value) ?? value) : value), schema)
}

/** A record's id in a path or a form: a positive whole number written in decimal. */
export const positiveId = decimal(z.number().int().positive().max(Number.MAX_SAFE_INTEGER))

const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/
// C0 controls but tab, line feed and carriage return; DEL; C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROLS_KEEPING_LINES = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/
// eslint-disable-next-line no-control-regex
const CONTROLS_AND_LINE_BREAKS = /[\u0000-\u0008\u000A-\u001F\u007F-\u009F]/

function codePoint(character: string): string {
  return `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`
}

/**
 * Why this text may not be stored, or undefined when it may: a control character (tab allowed; line breaks only in
 * `multiline` text such as notes) or a bidirectional override character.
 */
export function unsafeCharacterProblem(text: string, options: { multiline?: boolean } = {}): string | undefined {
  const control = (options.multiline ? CONTROLS_KEEPING_LINES : CONTROLS_AND_LINE_BREAKS).exec(text)
  if (control) {
    const lineBreak = control[0] === '\n' || control[0] === '\r'
    return lineBreak
      ? 'must be on one line: it contains a line break'
      : `contains a control character (${codePoint(control[0])}), which cannot be shown: remove it`
  }
  const bidi = BIDI_CONTROLS.exec(text)
  if (bidi) return `contains a text-direction control character (${codePoint(bidi[0])}), which hides or reorders text`
  return undefined
}

/** Why this service reference may not be stored (besides unsafe characters), or undefined. */
export function serviceRefProblem(text: string): string | undefined {
  if (/^[=+\-@]/.test(text)) {
    return `cannot begin with "${text[0]}": a spreadsheet would read the reference as a formula`
  }
  return unsafeCharacterProblem(text)
}

/** Adds the unsafe-character check to a text schema: `safeText(z.string().trim().max(200))`. */
export function safeText<T extends z.ZodType<string | undefined>>(schema: T, options: { multiline?: boolean } = {}) {
  return schema.superRefine((value, ctx) => {
    const problem = value === undefined ? undefined : unsafeCharacterProblem(value, options)
    if (problem) ctx.addIssue({ code: 'custom', message: `This ${problem}` })
  })
}

/** Adds the service reference checks to a text schema. */
export function safeServiceRef<T extends z.ZodType<string | undefined>>(schema: T) {
  return schema.superRefine((value, ctx) => {
    const problem = value === undefined ? undefined : serviceRefProblem(value)
    if (problem) ctx.addIssue({ code: 'custom', message: `The service reference ${problem}` })
  })
}
