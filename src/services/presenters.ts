import { INDICATOR_KEYS } from '../domain/vocabulary.js'
import type { IndicatorResult, RiskResult } from '../domain/riskResult.js'
import type { HistoryPoint } from '../data/runs.js'
import type { ListedService } from '../data/serviceListing.js'
import type { ServiceDetail } from './dashboardService.js'

/** SPEC §9: the JSON shape of a service in `/api/v1`. Extend freely; never rename. */
export interface ApiService {
  ref: string
  name: string
  provider: string
  type: string
  area: string
  contractStatus: string
  cqcLocationId: string | null
  rag: RiskResult['rag'] | null
  computedRag: RiskResult['computedRag'] | null
  override: { level: string; reason: string; expiresOn: string } | null
  score: number | null
  reasons: string[]
  flags: RiskResult['flags'] | null
  asOf: string | null
  lastChange: string | null
  /** May receive new packages under some DPS lot (true), refused by every lot it is on (false), on no DPS (null). */
  eligible: boolean | null
  indicators: Array<Omit<IndicatorResult, 'key'> & { key: string }>
  history?: Array<{ at: string; rag: string }>
}

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
    serviceType: string
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

export function historyToApi(history: HistoryPoint[]): Array<{ at: string; rag: string }> {
  return history.map((point) => ({ at: point.asOf, rag: point.rag }))
}
