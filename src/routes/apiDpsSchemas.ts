import { z } from 'zod'
import { GATE_NAMES, gatesSchema } from '../domain/eligibility.js'
import { LOT_TIERS, MEMBERSHIP_STATUSES } from '../domain/referral.js'
import { CONTRACT_STATUSES, CQC_RATINGS, SERVICE_TYPES, ragSchema } from '../domain/vocabulary.js'
import { isoDateText } from '../services/presenters.js'

/** The answers of the DPS part of the JSON API (SPEC §9); fields beyond the SPEC's are extensions. */

export const failingGateSchema = z.object({ gate: z.enum([...GATE_NAMES, 'membership', 'data']), reason: z.string() })

export const dpsMemberSchema = z.object({
  ref: z.string(),
  name: z.string(),
  provider: z.string(),
  status: z.enum(MEMBERSHIP_STATUSES),
  eligible: z.boolean().describe('May receive new packages under this lot now: admitted and every gate holds'),
  failingGates: z.array(failingGateSchema),
  rag: ragSchema.nullable(),
  admittedOn: z.string(),
  statusChangedOn: z.string(),
  statusReason: z.string().nullable(),
  awardsLast12Months: z.number().int(),
  weeklyHoursLast12Months: z.number(),
})

export const dpsLotSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  tier: z.enum(LOT_TIERS),
  zone: z.string().nullable(),
  areas: z.array(z.string()),
  serviceType: z.enum(SERVICE_TYPES),
  specialism: z.string().nullable(),
  members: z.array(dpsMemberSchema),
})

export const dpsSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  description: z.string().nullable(),
  gates: gatesSchema,
  lots: z.array(dpsLotSchema),
})
export type ApiDps = z.infer<typeof dpsSchema>

export const dpsListSchema = z.object({ dps: z.array(dpsSchema) })

export const referralEntrySchema = z.object({
  ref: z.string(),
  name: z.string(),
  provider: z.string().nullable(),
  lotId: z.number().int(),
  lotName: z.string(),
  tier: z.enum(LOT_TIERS),
  zone: z.string().nullable(),
  rag: ragSchema.nullable(),
  score: z.number().nullable(),
  reasons: z.array(z.string()),
  cqcRating: z.enum(CQC_RATINGS).nullable(),
  cqcRatedOn: z.string().nullable(),
  cqcAge: z.string().nullable().describe('"3 years, 2 months"; null when there is no rating date'),
  eligible: z.boolean(),
  failingGates: z.array(failingGateSchema),
  why: z.string().nullable().describe('For an ineligible entry, one line to read to a person'),
})
export type ApiReferralEntry = z.infer<typeof referralEntrySchema>

export const referralSchema = z.object({
  dps: z.object({ id: z.number().int(), name: z.string() }),
  penPicture: z.object({
    area: z.string(),
    serviceType: z.enum(SERVICE_TYPES),
    weeklyHours: z.number().nullable().optional(),
    startDate: z.string().nullable().optional(),
    needs: z.array(z.string()).optional(),
  }),
  eligible: z.array(referralEntrySchema),
  ineligible: z.array(referralEntrySchema),
})
export type ApiReferral = z.infer<typeof referralSchema>

export const awardSchema = z.object({
  id: z.number().int(),
  dpsId: z.number().int(),
  lotId: z.number().int(),
  serviceRef: z.string(),
  weeklyHours: z.number(),
  startDate: isoDateText,
  reference: z.string(),
  contractStatus: z.enum(CONTRACT_STATUSES).describe("The service's contract status when the award was made"),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
})
export type ApiAward = z.infer<typeof awardSchema>

export const eligibilityEventSchema = z.object({
  id: z.number().int(),
  runId: z.number().int().nullable(),
  at: z.string(),
  change: z.enum(['lost', 'regained']),
  eligible: z.boolean(),
  failingGates: z.array(failingGateSchema),
  lost: z
    .object({ at: z.string(), failingGates: z.array(failingGateSchema) })
    .nullable()
    .describe('For a regained event: when and on which gates it was lost'),
  reasons: z.array(z.string()),
  serviceRef: z.string(),
  serviceName: z.string(),
  dpsId: z.number().int(),
  dpsName: z.string(),
  lotId: z.number().int(),
  lotName: z.string(),
  summary: z.string(),
})

export const eligibilityEventListSchema = z.object({ events: z.array(eligibilityEventSchema) })
