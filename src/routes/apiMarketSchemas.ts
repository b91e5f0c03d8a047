import { z } from 'zod'
import { CAPACITY_UNITS, CQC_MIX_KEYS, MIX_DIMENSIONS, QUALITY_MIX_KEYS, RAG_MIX_KEYS } from '../domain/market.js'
import { CONTRACT_STATUSES, SERVICE_TYPES, ragSchema } from '../domain/vocabulary.js'
import { isoDateText } from '../services/presenters.js'

/** The answers of `GET /api/v1/market` and the provider roll-ups (SPEC §7 market summary, §3 early warning). */

const count = z.number().int()

export const shareSchema = z.object({
  count,
  percent: z.number().describe("Of the group's services that day, to one decimal place; 0 when the group was empty"),
})

export const mixTableSchema = z.object({
  dimension: z.enum(MIX_DIMENSIONS),
  rows: z.array(z.object({ key: z.string(), label: z.string(), from: shareSchema, to: shareSchema })),
})

export const groupMixSchema = z.object({
  key: z.string(),
  label: z.string(),
  services: z.object({ from: count, to: count }),
  mixes: z.object({ cqc: mixTableSchema, quality: mixTableSchema, rag: mixTableSchema }),
})

export const marketMovementSchema = z.object({
  ref: z.string(),
  name: z.string(),
  providerName: z.string(),
  serviceType: z.enum(SERVICE_TYPES),
  area: z.string(),
  kind: z.enum(['registered', 'deregistered', 'joined', 'left', 'admitted', 'removed']),
  on: isoDateText.nullable().describe('The date of the change where the register knows it'),
  detail: z.string(),
})

export const capacityByRagSchema = z.object({
  red: z.number(),
  amber: z.number(),
  green: z.number(),
  atRisk: z.number(),
  total: z.number(),
})

export const providerFlagSchema = z.object({
  kind: z.enum(['concentration', 'red_services', 'deteriorating']),
  text: z.string(),
  marketRisk: z.boolean().describe('Whether this flag on its own makes the provider a market risk'),
})

export const providerRollupSchema = z.object({
  providerId: z.number().int(),
  providerName: z.string(),
  services: count,
  counts: z.object({ red: count, amber: count, green: count, notComputed: count, deteriorating: count }),
  byArea: z.array(z.object({ area: z.string(), red: count, amber: count, green: count })),
  flags: z.array(providerFlagSchema),
  marketRisk: z.boolean(),
})

export const marketSummarySchema = z
  .object({
    from: isoDateText,
    to: isoDateText,
    ruleSetVersion: z.number().int(),
    overall: groupMixSchema,
    byType: z.array(groupMixSchema),
    byArea: z.array(groupMixSchema),
    byDps: z.array(groupMixSchema),
    entries: z.array(marketMovementSchema),
    exits: z.array(marketMovementSchema),
    capacity: z.array(
      z.object({
        unit: z.enum(CAPACITY_UNITS),
        label: z.string(),
        from: capacityByRagSchema,
        to: capacityByRagSchema,
      }),
    ),
    providers: z.array(providerRollupSchema),
  })
  .describe(
    `The contracted market at two dates. Mix keys: cqc ${CQC_MIX_KEYS.join(', ')}; ` +
      `quality ${QUALITY_MIX_KEYS.join(', ')}; rag ${RAG_MIX_KEYS.join(', ')}.`,
  )

export const providerListSchema = z.object({ providers: z.array(providerRollupSchema) })

export const providerDetailSchema = z.object({
  provider: z.object({
    id: z.number().int(),
    name: z.string(),
    cqcProviderId: z.string().nullable(),
    companiesHouseNumber: z.string().nullable(),
  }),
  rollup: providerRollupSchema,
  services: z.array(
    z.object({
      ref: z.string(),
      name: z.string(),
      type: z.enum(SERVICE_TYPES),
      area: z.string(),
      capacity: z.number().int().nullable(),
      contractStatus: z.enum(CONTRACT_STATUSES),
      rag: ragSchema.nullable(),
      deteriorating: z.boolean(),
      reason: z.string().nullable(),
      lastChange: z.string().nullable(),
    }),
  ),
})
