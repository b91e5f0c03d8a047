import type { Db } from '../../src/data/database.js'
import { ServiceRepository, type ServiceInput } from '../../src/data/services.js'
import type { Store } from '../../src/data/store.js'
import type { NewObservation } from '../../src/domain/observation.js'
import type { IndicatorResult, RiskFlags, RiskResult } from '../../src/domain/riskResult.js'
import { INDICATOR_KEYS, type Rag } from '../../src/domain/vocabulary.js'

/** Plain-data builders for tests: every field has a sensible default and any can be overridden. */

const SCORE_OF: Record<Rag, number> = { green: 0, amber: 40, red: 80 }

export function riskFlags(overrides: Partial<RiskFlags> = {}): RiskFlags {
  return {
    multipleConcerns: false,
    recentlyDowngraded: false,
    notYetAssessed: false,
    deteriorating: false,
    ...overrides,
  }
}

/** Every indicator at level 'none' (no data), as the rules report a service nothing is known about. */
export function noDataIndicators(): IndicatorResult[] {
  return INDICATOR_KEYS.map((key) => ({
    key,
    level: 'none',
    value: null,
    date: null,
    source: null,
    reason: 'No data',
    stale: false,
  }))
}

export function riskResult(overrides: Partial<RiskResult> = {}): RiskResult {
  const rag = overrides.rag ?? 'green'
  return {
    rag,
    computedRag: overrides.computedRag ?? rag,
    score: SCORE_OF[rag],
    reasons: rag === 'green' ? [] : [`Test reason for ${rag}`],
    indicators: noDataIndicators(),
    override: null,
    flags: riskFlags(),
    ruleSetVersion: 1,
    asOf: '2026-03-14',
    ...overrides,
  }
}

let nextRef = 1

/** A valid ServiceInput with a unique ref unless one is given. */
export function serviceInput(overrides: Partial<ServiceInput> = {}): ServiceInput {
  const n = nextRef++
  return {
    ref: `SVC-${String(n).padStart(4, '0')}`,
    name: `Test Service ${n}`,
    providerName: `Test Provider ${n}`,
    serviceType: 'home_care',
    area: 'North',
    contractStatus: 'contracted',
    ...overrides,
  }
}

/** Inserts services through the repository (of a store or over a raw handle) and returns their ids in input order. */
export async function createServices(target: Db | Store, inputs: ServiceInput[]): Promise<number[]> {
  const repository = 'repositories' in target ? target.repositories.services : new ServiceRepository(target)
  const outcomes = await repository.upsertMany(inputs)
  return outcomes.map((o) => o.id)
}

export async function createService(target: Db | Store, overrides: Partial<ServiceInput> = {}): Promise<number> {
  const [id] = await createServices(target, [serviceInput(overrides)])
  return id as number
}

export function newObservation(serviceId: number, overrides: Partial<NewObservation> = {}): NewObservation {
  return {
    serviceId,
    indicator: 'embargo',
    source: 'council_form',
    observedOn: '2026-03-01',
    value: 'embargo',
    naturalKey: 'council:EMB-1',
    ...overrides,
  }
}
