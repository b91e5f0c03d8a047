import { addDays } from '../domain/dates.js'
import type { ContractStatus, ServiceType } from '../domain/vocabulary.js'
import {
  AWKWARD_PROVIDER_NAMES,
  DEMO_AREAS,
  UniqueNames,
  careHomeName,
  dayServiceName,
  extraCareName,
  homeCareBranchName,
  providerNames,
  supportedLivingName,
  type DemoArea,
  type ProviderKind,
} from './names.js'
import { Random, deriveSeed } from './random.js'
import { PROVIDER_SCENARIOS, SCENARIOS, STEADY } from './scenarios.js'
import type { DemoProvider, DemoService } from './types.js'

/** 80 providers, by what they mainly run. */
const PROVIDERS_BY_KIND: Record<ProviderKind, number> = {
  home_care: 30,
  care_home: 26,
  supported_living: 12,
  extra_care: 5,
  day_service: 7,
}

/** 200 services, by the kind of provider that runs them. */
const SERVICES_BY_KIND: Record<ProviderKind, [ServiceType, number][]> = {
  home_care: [['home_care', 80]],
  care_home: [
    ['care_home_residential', 40],
    ['care_home_nursing', 30],
  ],
  supported_living: [['supported_living', 25]],
  extra_care: [['extra_care', 10]],
  day_service: [['day_service', 15]],
}

/** A home care provider has at most one branch per area. */
const MAX_HOME_CARE_BRANCHES = DEMO_AREAS.length

export interface DemoMarket {
  providers: DemoProvider[]
  services: DemoService[]
  /** Scenario name per service ref (see scenarios.ts). */
  scenarioByRef: Map<string, string>
}

interface ProviderDraft {
  kind: ProviderKind
  name: string
  serviceTypes: ServiceType[]
}

class UniqueIds {
  private readonly used = new Set<string>()

  take(make: () => string): string {
    let id = make()
    while (this.used.has(id)) id = make()
    this.used.add(id)
    return id
  }
}

/** Shares `types` among providers: one each, the rest weighted towards the first (a few large groups, many small). */
function distribute(rng: Random, providers: ProviderDraft[], types: ServiceType[]): void {
  types.forEach((type, i) => {
    const own = providers[i]
    if (own) {
      own.serviceTypes.push(type)
      return
    }
    const open = providers
      .map((p, rank) => [p, 1 / (rank + 1)] as const)
      .filter(([p]) => p.kind !== 'home_care' || p.serviceTypes.length < MAX_HOME_CARE_BRANCHES)
    rng.weighted(open).serviceTypes.push(type)
  })
}

function draftProviders(rng: Random): ProviderDraft[] {
  const kinds = (Object.keys(PROVIDERS_BY_KIND) as ProviderKind[]).flatMap((kind) =>
    Array<ProviderKind>(PROVIDERS_BY_KIND[kind]).fill(kind),
  )
  const names = providerNames(rng, kinds)
  const drafts: ProviderDraft[] = kinds.map((kind, i) => ({ kind, name: names[i] as string, serviceTypes: [] }))
  for (const kind of Object.keys(PROVIDERS_BY_KIND) as ProviderKind[]) {
    const types = rng.shuffle(SERVICES_BY_KIND[kind].flatMap(([type, n]) => Array<ServiceType>(n).fill(type)))
    distribute(
      rng,
      drafts.filter((d) => d.kind === kind),
      types,
    )
  }
  // The smallest providers of a kind take the awkward names, so escaping is exercised without skewing the market.
  const lastOf = (kind: ProviderKind, fromEnd = 1): ProviderDraft =>
    drafts.filter((d) => d.kind === kind).at(-fromEnd) as ProviderDraft
  lastOf('home_care').name = AWKWARD_PROVIDER_NAMES.script
  lastOf('home_care', 2).name = AWKWARD_PROVIDER_NAMES.apostrophe
  lastOf('care_home').name = AWKWARD_PROVIDER_NAMES.ampersand
  lastOf('supported_living').name = AWKWARD_PROVIDER_NAMES.quotes
  lastOf('day_service').name = AWKWARD_PROVIDER_NAMES.accent
  return drafts
}

function serviceName(rng: Random, type: ServiceType, provider: string, area: DemoArea): () => string {
  switch (type) {
    case 'home_care':
      return () => homeCareBranchName(provider, area)
    case 'care_home_nursing':
    case 'care_home_residential':
      return () => careHomeName(rng, type === 'care_home_nursing')
    case 'supported_living':
      return () => supportedLivingName(rng)
    case 'extra_care':
      return () => extraCareName(rng)
    default:
      return () => dayServiceName(rng)
  }
}

function capacity(rng: Random, type: ServiceType): number {
  switch (type) {
    case 'care_home_residential':
      return rng.int(12, 70)
    case 'care_home_nursing':
      return rng.int(30, 110)
    case 'home_care':
      return rng.int(15, 250) * 10
    case 'supported_living':
      return rng.int(8, 90) * 10
    case 'extra_care':
      return rng.int(10, 60) * 10
    default:
      return rng.int(15, 60)
  }
}

function isRegistered(rng: Random, type: ServiceType): boolean {
  const chance = type === 'day_service' ? 0.2 : type === 'supported_living' ? 0.9 : 1
  return rng.chance(chance)
}

function companyNumber(rng: Random, name: string): string | null {
  const absent = rng.chance(0.06)
  if (/\bTrust$/.test(name) || absent) return null
  if (/\bLLP$/.test(name)) return `OC${rng.digits(6)}`
  return String(rng.int(1_000_000, 15_999_999)).padStart(8, '0')
}

const AREA_WEIGHTS: [DemoArea, number][] = [
  ['North', 20],
  ['South', 20],
  ['East', 18],
  ['West', 17],
  ['Central', 25],
]
const CONTRACT_WEIGHTS: [ContractStatus, number][] = [
  ['contracted', 78],
  ['spot', 16],
  ['off_contract', 6],
]

/**
 * Providers and services of the demo borough, and which scenario each service plays. Only the seed decides
 * these (today only moves registration dates), so a service ref plays the same part whenever it is generated.
 */
export function buildMarket(seed: number, today: string): DemoMarket {
  const rng = new Random(deriveSeed(seed, 'market'))
  const drafts = draftProviders(rng)
  const cqcIds = new UniqueIds()
  const fhrsIds = new UniqueIds()
  const serviceNames = new UniqueNames()

  const providerKeys = rng.shuffle(drafts.map((_, i) => i))
  const providers: DemoProvider[] = []
  const unnumberedServices: Omit<DemoService, 'ref'>[] = []
  drafts.forEach((draft, i) => {
    const key = `PRV-${String((providerKeys[i] as number) + 1).padStart(3, '0')}`
    const areas = rng.shuffle(DEMO_AREAS)
    let anyRegistered = false
    draft.serviceTypes.forEach((type, n) => {
      const area = type === 'home_care' ? (areas[n] as DemoArea) : rng.weighted(AREA_WEIGHTS)
      const registered = isRegistered(rng, type)
      anyRegistered ||= registered
      const servesFood = type === 'care_home_nursing' || type === 'care_home_residential' || type === 'day_service'
      unnumberedServices.push({
        name: serviceNames.take(rng, serviceName(rng, type, draft.name, area)),
        providerKey: key,
        cqcLocationId: registered ? cqcIds.take(() => `1-${rng.int(1, 2)}${rng.digits(9)}`) : null,
        fhrsId: servesFood ? fhrsIds.take(() => String(rng.int(400_000, 1_750_000))) : null,
        serviceType: type,
        area,
        capacity: capacity(rng, type),
        contractStatus: rng.weighted(CONTRACT_WEIGHTS),
        registeredOn: null,
      })
    })
    providers.push({
      key,
      name: draft.name,
      cqcProviderId: anyRegistered ? cqcIds.take(() => `1-1${rng.digits(8)}`) : null,
      companiesHouseNumber: companyNumber(rng, draft.name),
    })
  })

  const services: DemoService[] = rng
    .shuffle(unnumberedServices)
    .map((s, i) => ({ ref: `SVC-${String(i + 1).padStart(4, '0')}`, ...s }))
  const scenarioByRef = assignScenarios(rng, providers, services)

  for (const service of services) {
    const newlyRegistered = scenarioByRef.get(service.ref) === 'newly_registered_not_rated'
    const daysAgo = newlyRegistered ? rng.int(45, 200) : rng.int(1700, 5000)
    if (service.cqcLocationId) service.registeredOn = addDays(today, -daysAgo)
  }

  providers.sort((a, b) => a.key.localeCompare(b.key))
  return { providers, services, scenarioByRef }
}

function assignScenarios(rng: Random, providers: DemoProvider[], services: DemoService[]): Map<string, string> {
  const scenarioByRef = new Map<string, string>()
  const servicesOf = (p: DemoProvider): DemoService[] => services.filter((s) => s.providerKey === p.key)
  const withCompany = providers.filter((p) => p.companiesHouseNumber !== null)

  const inAdministration = rng.pick(withCompany.filter((p) => servicesOf(p).length === 1))
  const inArrangement = rng.pick(
    withCompany.filter((p) => p !== inAdministration && [1, 2].includes(servicesOf(p).length)),
  )
  for (const s of servicesOf(inAdministration)) scenarioByRef.set(s.ref, PROVIDER_SCENARIOS.administration.name)
  for (const s of servicesOf(inArrangement)) scenarioByRef.set(s.ref, PROVIDER_SCENARIOS.voluntaryArrangement.name)

  const candidates = rng.shuffle(services)
  for (const scenario of SCENARIOS) {
    for (let n = 0; n < scenario.count; n++) {
      const service = candidates.find((s) => !scenarioByRef.has(s.ref) && scenario.fits(s))
      if (!service) throw new Error(`Demo: no service left for scenario ${scenario.name}`)
      scenarioByRef.set(service.ref, scenario.name)
    }
  }
  for (const s of services) if (!scenarioByRef.has(s.ref)) scenarioByRef.set(s.ref, STEADY)
  return scenarioByRef
}
