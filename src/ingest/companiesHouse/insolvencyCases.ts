import { z } from 'zod'
import { parseCouncilDate } from '../../domain/dates.js'

/**
 * `GET /company/{number}/insolvency`: the company's insolvency cases, each with a type and typed dates
 * (companieshouse/api-enumerations constants.yml: insolvency_case_type, insolvency_case_date_type). Only what the
 * dashboard uses; a case or date it cannot read is skipped, not the whole resource.
 */
const caseDateSchema = z.object({ type: z.string().trim().min(1), date: z.string().trim().min(1) })
const practitionerSchema = z.object({ appointed_on: z.string().nullish(), ceased_to_act_on: z.string().nullish() })
const caseSchema = z.object({
  type: z.string().trim().min(1),
  number: z.union([z.string(), z.number()]).nullish(),
  dates: z.array(z.unknown()).nullish(),
  practitioners: z.array(z.unknown()).nullish(),
})
export const insolvencyResourceSchema = z.object({ cases: z.array(z.unknown()).nullish() })

export interface InsolvencyCase {
  type: string
  number: string | null
  /** The case's start: the date its kind of status began (an administration's start, a winding-up...). */
  startedOn: string | null
  /** Which date gave `startedOn`: a Companies House date type, or "practitioner-appointed-on". */
  startedBy: string | null
  /** The case has a date that ends it (discharged, concluded, ended). */
  ended: boolean
}

/** The company_status each case type puts a company in (`insolvency-proceedings` takes any). */
const CASE_TYPES_BY_STATUS: Record<string, readonly string[]> = {
  administration: ['in-administration', 'administration-order'],
  liquidation: ['compulsory-liquidation', 'creditors-voluntary-liquidation', 'members-voluntary-liquidation'],
  receivership: ['receivership', 'administrative-receiver', 'receiver-manager'],
  'voluntary-arrangement': [
    'corporate-voluntary-arrangement',
    'corporate-voluntary-arrangement-moratorium',
    'moratorium',
  ],
}

/** Date types that start a case, in order of preference (a winding-up order before the petition that asked for it). */
const START_DATE_TYPES = [
  'administration-started-on',
  'wound-up-on',
  'ordered-to-wind-up-on',
  'voluntary-arrangement-started-on',
  'moratorium-started-on',
  'instrumented-on',
  'declaration-solvent-on',
  'petitioned-on',
]
const END_DATE_TYPES = [
  'administration-discharged-on',
  'administration-ended-on',
  'concluded-winding-up-on',
  'case-end-on',
  'voluntary-arrangement-ended-on',
  'moratorium-ended-on',
]

/** The company statuses whose date comes from an insolvency case. */
export function isInsolvencyStatus(status: string): boolean {
  return status in CASE_TYPES_BY_STATUS || status === 'insolvency-proceedings'
}

/** Reads the resource's cases; cases without a type are left out. */
export function readInsolvencyCases(body: unknown): InsolvencyCase[] {
  const resource = insolvencyResourceSchema.safeParse(body)
  if (!resource.success) return []
  const cases: InsolvencyCase[] = []
  for (const raw of resource.data.cases ?? []) {
    const parsed = caseSchema.safeParse(raw)
    if (!parsed.success) continue
    const dates = new Map<string, string>()
    for (const rawDate of parsed.data.dates ?? []) {
      const date = caseDateSchema.safeParse(rawDate)
      const iso = date.success ? parseCouncilDate(date.data.date) : null
      if (date.success && iso) dates.set(date.data.type.toLowerCase(), iso)
    }
    const startType = START_DATE_TYPES.find((type) => dates.has(type))
    const appointed = (parsed.data.practitioners ?? [])
      .map((practitioner) => practitionerSchema.safeParse(practitioner))
      .map((practitioner) => (practitioner.success ? parseCouncilDate(practitioner.data.appointed_on ?? '') : null))
      .filter((date): date is string => date !== null)
      .sort()[0]
    cases.push({
      type: parsed.data.type.toLowerCase(),
      number: parsed.data.number == null ? null : String(parsed.data.number),
      startedOn: startType ? (dates.get(startType) as string) : (appointed ?? null),
      startedBy: startType ?? (appointed ? 'practitioner-appointed-on' : null),
      ended: END_DATE_TYPES.some((type) => dates.has(type)),
    })
  }
  return cases
}

/**
 * The case that dates a company's current status: of the cases of the status's kind (any kind for
 * insolvency-proceedings), an open one before an ended one, then the latest start. Null when none is dated.
 */
export function caseForStatus(status: string, cases: readonly InsolvencyCase[]): InsolvencyCase | null {
  const kinds = CASE_TYPES_BY_STATUS[status]
  const candidates = cases.filter((c) => c.startedOn !== null && (kinds === undefined || kinds.includes(c.type)))
  candidates.sort((a, b) =>
    a.ended !== b.ended ? (a.ended ? 1 : -1) : (b.startedOn as string).localeCompare(a.startedOn as string),
  )
  return candidates[0] ?? null
}

/** "creditors-voluntary-liquidation", "wound-up-on", "2019-03-12" -> "creditors voluntary liquidation, wound up on 2019-03-12". */
export function describeCase(insolvencyCase: InsolvencyCase): string {
  const words = (text: string) => text.replace(/-/g, ' ')
  const start = insolvencyCase.startedBy ? `, ${words(insolvencyCase.startedBy)} ${insolvencyCase.startedOn}` : ''
  return `${words(insolvencyCase.type)}${start}`
}
