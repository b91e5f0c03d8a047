import { z } from 'zod'
import { INDICATOR_KEYS, SERVICE_TYPES, indicatorKeySchema, ragSchema } from '../domain/vocabulary.js'
import type { RiskResult } from '../domain/riskResult.js'
import type { HistoryPoint } from '../data/runs.js'
import type { ListedService } from '../data/serviceListing.js'
import type { ServiceDetail } from './dashboardService.js'

const nullableText = z.string().nullable()
/** A date in an answer: ISO 8601, `2026-03-14`. */
export const isoDateText = z.string().regex(/^\d{4}-\d{2}-\d{2}$/)

export const levelSchema = z.enum([...ragSchema.options, 'none'])

export const indicatorSchema = z.object({
  key: indicatorKeySchema,
  level: levelSchema,
  value: nullableText,
  date: nullableText,
  // Not an enum: a compliance action's fact has the source 'compliance_action', which SOURCES does not list.
  source: nullableText,
  reason: z.string(),
  stale: z.boolean(),
})

export const riskFlagsSchema = z.object({
  multipleConcerns: z.boolean(),
  recentlyDowngraded: z.boolean(),
  notYetAssessed: z.boolean(),
  deteriorating: z.boolean(),
})

export const historyPointSchema = z.object({ at: z.string(), rag: ragSchema })

/** SPEC §9: the JSON shape of a service in `/api/v1`. Extend freely; never rename. */
export const apiServiceSchema = z.object({
  ref: z.string(),
  name: z.string(),
  provider: z.string(),
  type: z.enum(SERVICE_TYPES),
  area: z.string(),
  contractStatus: z.string(),
  cqcLocationId: nullableText,
  rag: ragSchema.nullable(),
  computedRag: ragSchema.nullable(),
  override: z.object({ level: ragSchema, reason: z.string(), expiresOn: isoDateText }).nullable(),
  score: z.number().nullable(),
  reasons: z.array(z.string()),
  flags: riskFlagsSchema.nullable(),
  asOf: nullableText,
  lastChange: nullableText,
  eligible: z
    .boolean()
    .nullable()
    .describe(
      'May receive new packages under some DPS lot (true), refused by every lot it is on (false), on no DPS (null)',
    ),
  indicators: z.array(indicatorSchema).min(INDICATOR_KEYS.length),
  history: z.array(historyPointSchema).optional(),
})
export type ApiService = z.infer<typeof apiServiceSchema>

function noDataIndicators(): ApiService['indicators'] {
  return INDICATOR_KEYS.map((key) => ({
    key,
    level: 'none',
    value: null,
    date: null,
    source: null,
    reason: 'Not yet computed',
    stale: false,
  }))
}

function base(
  s: {
    ref: string
    name: string
    providerName: string
    serviceType: ApiService['type']
    area: string
    contractStatus: string
    cqcLocationId: string | null
  },
  risk: RiskResult | null,
  changedAt: string | null,
  eligible: boolean | null,
): ApiService {
  return {
    ref: s.ref,
    name: s.name,
    provider: s.providerName,
    type: s.serviceType,
    area: s.area,
    contractStatus: s.contractStatus,
    cqcLocationId: s.cqcLocationId,
    rag: risk?.rag ?? null,
    computedRag: risk?.computedRag ?? null,
    override: risk?.override
      ? { level: risk.override.rag, reason: risk.override.reason, expiresOn: risk.override.expiresOn }
      : null,
    score: risk?.score ?? null,
    reasons: risk?.reasons ?? [],
    flags: risk?.flags ?? null,
    asOf: risk?.asOf ?? null,
    lastChange: changedAt,
    eligible,
    indicators: risk?.indicators ?? noDataIndicators(),
  }
}

export function listedToApi(row: ListedService): ApiService {
  return base(row, row.result, row.changedAt, row.dpsEligible)
}

export function detailToApi(detail: ServiceDetail): ApiService {
  return {
    ...base(detail.service, detail.risk, detail.changedAt, detail.dpsEligible),
    history: historyToApi(detail.history),
  }
}

export function historyToApi(history: HistoryPoint[]): NonNullable<ApiService['history']> {
  return history.map((point) => ({ at: point.asOf, rag: point.rag }))
}
