import { isIsoDate } from '../domain/dates.js'
import { INDICATOR_KEYS, type IndicatorKey } from '../domain/vocabulary.js'
import { ReferenceCounter, ServiceHistory } from './history.js'
import { buildMarket } from './market.js'
import { DEMO_AREAS, DEMO_BOROUGH_NAME } from './names.js'
import { Random, deriveSeed } from './random.js'
import { PROVIDER_SCENARIOS, SCENARIOS, type Scenario } from './scenarios.js'
import type { DemoBorough, DemoObservation, DemoProvider } from './types.js'

export type { DemoBorough, DemoObservation, DemoProvider, DemoService } from './types.js'

export interface DemoOptions {
  seed?: number
  /** ISO date the demo is generated for: every observation is on or before it. */
  today: string
}

const BACKGROUND: Record<IndicatorKey, ((h: ServiceHistory) => void) | null> = {
  quality_assessment: (h) => h.backgroundAssessments(),
  cqc_rating: (h) => h.backgroundCqc(),
  food_hygiene: (h) => h.backgroundFoodHygiene(),
  safeguarding: (h) => h.backgroundSafeguarding(),
  embargo: null,
  default_notice: null,
  unexpected_deaths: null,
  contract_concerns: (h) => h.backgroundConcerns(),
  insolvency: (h) => h.backgroundCompanyStatus(),
  manager_vacancy: (h) => h.backgroundManager(),
}

const INDICATOR_ORDER = new Map(INDICATOR_KEYS.map((key, i) => [key, i]))

function compareObservations(a: DemoObservation, b: DemoObservation): number {
  return (
    a.serviceRef.localeCompare(b.serviceRef) ||
    (INDICATOR_ORDER.get(a.indicator) ?? 0) - (INDICATOR_ORDER.get(b.indicator) ?? 0) ||
    a.observedOn.localeCompare(b.observedOn) ||
    a.naturalKey.localeCompare(b.naturalKey)
  )
}

/**
 * The demo borough of Northbridge: about 80 providers, 200 services in five areas and 18 months of
 * observations across all ten indicators, chosen so that every colour, trend and "changed this week" case
 * appears. Pure and deterministic: the same seed and today always give the same borough.
 */
export function generateDemoBorough({ seed = 42, today }: DemoOptions): DemoBorough {
  if (!isIsoDate(today)) throw new Error(`Demo: today must be an ISO date, not "${today}"`)
  const { providers, services, scenarioByRef } = buildMarket(seed, today)
  const providerByKey = new Map<string, DemoProvider>(providers.map((p) => [p.key, p]))
  const scenarioByName = new Map<string, Scenario>(SCENARIOS.map((s) => [s.name, s]))
  const references = new ReferenceCounter()
  const observations: DemoObservation[] = []

  for (const service of services) {
    const provider = providerByKey.get(service.providerKey)
    if (!provider) throw new Error(`Demo service ${service.ref} has no provider`)
    const history = new ServiceHistory(service, provider, today, new Random(deriveSeed(seed, service.ref)), references)
    const name = scenarioByRef.get(service.ref)
    const scenario = name ? scenarioByName.get(name) : undefined
    const replaced = new Set<IndicatorKey>(scenario?.replaces ?? [])
    if (name === PROVIDER_SCENARIOS.administration.name) {
      replaced.add('insolvency')
      PROVIDER_SCENARIOS.administration.build(history)
    } else if (name === PROVIDER_SCENARIOS.voluntaryArrangement.name) {
      replaced.add('insolvency')
      PROVIDER_SCENARIOS.voluntaryArrangement.build(history)
    }
    for (const key of INDICATOR_KEYS) if (!replaced.has(key)) BACKGROUND[key]?.(history)
    scenario?.build(history)
    observations.push(...history.observations)
  }

  return {
    name: DEMO_BOROUGH_NAME,
    areas: DEMO_AREAS,
    providers,
    services,
    observations: observations.sort(compareObservations),
  }
}
