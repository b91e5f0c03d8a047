import { compactWord, newestFirst, wordLabel } from './indicators/common.js'
import { currentCqcRecord, isDeregistered } from './indicators/cqcRating.js'
import { isCountedAssessment } from './indicators/qualityAssessment.js'
import type { Observation } from './observation.js'
import { assessRisk, isAdverseObservation } from './risk.js'
import type { RuleSet } from './ruleSet.js'
import {
  INDICATOR_LABELS,
  RAG_ORDER,
  SERVICE_TYPE_LABELS,
  SERVICE_TYPES,
  type ContractStatus,
  type IndicatorKey,
  type Rag,
  type ServiceType,
} from './vocabulary.js'

/**
 * The market summary (SPEC §7): the rating mix of the contracted market at two dates, entries and exits, capacity at
 * risk, and the provider roll-up. Pure: the market service hands in each service's facts and its state at each date.
 */

export const CQC_MIX_KEYS = ['outstanding', 'good', 'requires_improvement', 'inadequate', 'not_inspected'] as const
export type CqcMixKey = (typeof CQC_MIX_KEYS)[number]
export const QUALITY_MIX_KEYS = ['excellent', 'good', 'requires_improvement', 'poor', 'not_assessed'] as const
export type QualityMixKey = (typeof QUALITY_MIX_KEYS)[number]
export const RAG_MIX_KEYS = ['green', 'amber', 'red'] as const

export const MIX_DIMENSIONS = ['cqc', 'quality', 'rag'] as const
export type MixDimension = (typeof MIX_DIMENSIONS)[number]

export const MIX_LABELS: Record<MixDimension, Record<string, string>> = {
  cqc: {
    outstanding: 'Outstanding',
    good: 'Good',
    requires_improvement: 'Requires improvement',
    inadequate: 'Inadequate',
    not_inspected: 'Not inspected',
  },
  quality: {
    excellent: 'Excellent',
    good: 'Good',
    requires_improvement: 'Requires improvement',
    poor: 'Poor',
    not_assessed: 'Not assessed',
  },
  rag: { green: 'Green', amber: 'Amber', red: 'Red' },
}
export const MIX_KEYS: Record<MixDimension, readonly string[]> = {
  cqc: CQC_MIX_KEYS,
  quality: QUALITY_MIX_KEYS,
  rag: RAG_MIX_KEYS,
}
export const MIX_TITLES: Record<MixDimension, string> = {
  cqc: 'CQC overall rating',
  quality: 'Quality assessment outcome',
  rag: 'RAG',
}

export interface MarketMembership {
  dpsId: number
  dpsName: string
  lotName: string
  status: 'admitted' | 'suspended' | 'removed'
  admittedOn: string
  statusChangedOn: string
}

/** A service as the market summary needs it: register facts and its DPS memberships. */
export interface MarketService {
  id: number
  ref: string
  name: string
  providerId: number
  providerName: string
  serviceType: ServiceType
  area: string
  capacity: number | null
  contractStatus: ContractStatus
  registeredOn: string | null
  deregisteredOn: string | null
  memberships: MarketMembership[]
}

/** What a service was on one date, when it was in the contracted market. */
export interface ServiceState {
  cqc: CqcMixKey
  quality: QualityMixKey
  rag: Rag
  deteriorating: boolean
}

const CQC_BY_WORD: Record<string, CqcMixKey> = {
  outstanding: 'outstanding',
  good: 'good',
  requiresimprovement: 'requires_improvement',
  inadequate: 'inadequate',
}
const QUALITY_BY_WORD: Record<string, QualityMixKey> = {
  excellent: 'excellent',
  good: 'good',
  requiresimprovement: 'requires_improvement',
  poor: 'poor',
}

function knownOn(observations: readonly Observation[], indicator: IndicatorKey, date: string): Observation[] {
  return observations.filter((o) => o.indicator === indicator && o.observedOn.slice(0, 10) <= date)
}

/** The latest CQC record known on a date (the same choice the risk engine makes: newest date, then newest row). */
function cqcRecordOn(observations: readonly Observation[], date: string): Observation | undefined {
  return currentCqcRecord(knownOn(observations, 'cqc_rating', date))?.record
}

/** The CQC overall rating on a date; "not inspected" covers no record, "not yet rated" and unrecognised words. */
export function cqcMixKeyOn(observations: readonly Observation[], date: string): CqcMixKey {
  const record = cqcRecordOn(observations, date)
  return (record && CQC_BY_WORD[compactWord(record.value)]) ?? 'not_inspected'
}

/** The latest published quality assessment outcome on a date. */
export function qualityMixKeyOn(observations: readonly Observation[], date: string): QualityMixKey {
  const latest = newestFirst(knownOn(observations, 'quality_assessment', date).filter(isCountedAssessment))[0]
  return (latest && QUALITY_BY_WORD[compactWord(latest.value)]) ?? 'not_assessed'
}

/**
 * Whether a service was operating on a date: registered by then (services CQC does not register have no date and
 * always count) and not yet deregistered, by the register or by the latest CQC record known that day.
 */
export function isOperatingOn(service: MarketService, observations: readonly Observation[], date: string): boolean {
  if (service.registeredOn && service.registeredOn > date) return false
  if (service.deregisteredOn && service.deregisteredOn <= date) return false
  const record = cqcRecordOn(observations, date)
  return !(record && isDeregistered(record))
}

/** Whether a membership held on a date: admitted by then and not removed by then (a suspended member is a member). */
export function isMemberOn(membership: MarketMembership, date: string): boolean {
  if (membership.admittedOn > date) return false
  return !(membership.status === 'removed' && membership.statusChangedOn <= date)
}

/**
 * A service's state on a date, or null when it was outside the contracted market. Contract status has no history in
 * the register, so the current status decides for both dates (a service moved off contract leaves both columns).
 */
export function stateOn(
  service: MarketService,
  observations: readonly Observation[],
  date: string,
  judge: (date: string) => { rag: Rag; deteriorating: boolean },
): ServiceState | null {
  if (service.contractStatus !== 'contracted' || !isOperatingOn(service, observations, date)) return null
  return { cqc: cqcMixKeyOn(observations, date), quality: qualityMixKeyOn(observations, date), ...judge(date) }
}

export interface Share {
  count: number
  /** Of the group's services that day, rounded to one decimal place; 0 when the group was empty. */
  percent: number
}

export interface MixRow {
  key: string
  label: string
  from: Share
  to: Share
}

export interface MixTable {
  dimension: MixDimension
  rows: MixRow[]
}

export interface GroupMix {
  key: string
  label: string
  services: { from: number; to: number }
  mixes: Record<MixDimension, MixTable>
}

export type MovementKind = 'registered' | 'deregistered' | 'joined' | 'left' | 'admitted' | 'removed'

export interface MarketMovement {
  ref: string
  name: string
  providerName: string
  serviceType: ServiceType
  area: string
  kind: MovementKind
  /** The date of the change where the register knows it. */
  on: string | null
  detail: string
}

export const CAPACITY_UNITS = ['beds', 'weekly_hours', 'places'] as const
export type CapacityUnit = (typeof CAPACITY_UNITS)[number]
export const CAPACITY_UNIT_LABELS: Record<CapacityUnit, string> = {
  beds: 'Beds (care homes)',
  weekly_hours: 'Weekly hours (home care, supported living, extra care)',
  places: 'Places (day services)',
}

/** What a service's capacity counts: beds for care homes, places for day services, weekly hours for the rest. */
export function capacityUnitOf(type: ServiceType): CapacityUnit | null {
  switch (type) {
    case 'care_home_nursing':
    case 'care_home_residential':
      return 'beds'
    case 'day_service':
      return 'places'
    case 'home_care':
    case 'supported_living':
    case 'extra_care':
      return 'weekly_hours'
    case 'other':
      return null
  }
}

export type CapacityByRag = Record<Rag, number> & { atRisk: number; total: number }

export interface CapacityRow {
  unit: CapacityUnit
  label: string
  from: CapacityByRag
  to: CapacityByRag
}

export interface ServicePositions {
  service: MarketService
  from: ServiceState | null
  to: ServiceState | null
}

export interface MarketSummary {
  from: string
  to: string
  overall: GroupMix
  byType: GroupMix[]
  byArea: GroupMix[]
  byDps: GroupMix[]
  entries: MarketMovement[]
  exits: MarketMovement[]
  capacity: CapacityRow[]
  providers: ProviderRollup[]
}

export function percentOf(count: number, total: number): number {
  return total === 0 ? 0 : Math.round((count * 1000) / total) / 10
}

function mixTable(dimension: MixDimension, from: ServiceState[], to: ServiceState[]): MixTable {
  const count = (states: ServiceState[], key: string) => states.filter((s) => s[dimension] === key).length
  return {
    dimension,
    rows: MIX_KEYS[dimension].map((key) => {
      const fromCount = count(from, key)
      const toCount = count(to, key)
      return {
        key,
        label: MIX_LABELS[dimension][key] ?? key,
        from: { count: fromCount, percent: percentOf(fromCount, from.length) },
        to: { count: toCount, percent: percentOf(toCount, to.length) },
      }
    }),
  }
}

function groupMix(key: string, label: string, positions: readonly ServicePositions[]): GroupMix {
  const from = positions.flatMap((p) => (p.from ? [p.from] : []))
  const to = positions.flatMap((p) => (p.to ? [p.to] : []))
  return {
    key,
    label,
    services: { from: from.length, to: to.length },
    mixes: { cqc: mixTable('cqc', from, to), quality: mixTable('quality', from, to), rag: mixTable('rag', from, to) },
  }
}

function groupBy(
  positions: readonly ServicePositions[],
  keyOf: (p: ServicePositions) => string,
): Map<string, ServicePositions[]> {
  const groups = new Map<string, ServicePositions[]>()
  for (const position of positions) {
    const key = keyOf(position)
    const group = groups.get(key)
    if (group) group.push(position)
    else groups.set(key, [position])
  }
  return groups
}

/** The services in a DPS on each date: in the contracted market that day and a member of any of its lots. */
function dpsGroups(positions: readonly ServicePositions[], from: string, to: string): GroupMix[] {
  const names = new Map<number, string>()
  for (const p of positions) for (const m of p.service.memberships) names.set(m.dpsId, m.dpsName)
  return [...names]
    .sort((a, b) => a[1].localeCompare(b[1]))
    .map(([dpsId, name]) => {
      const memberOn = (p: ServicePositions, date: string) =>
        p.service.memberships.some((m) => m.dpsId === dpsId && isMemberOn(m, date))
      const inDps = positions
        .map((p) => ({ ...p, from: memberOn(p, from) ? p.from : null, to: memberOn(p, to) ? p.to : null }))
        .filter((p) => p.from || p.to)
      return groupMix(String(dpsId), name, inDps)
    })
}

function within(date: string | null, from: string, to: string): date is string {
  return date !== null && date > from && date <= to
}

function movement(service: MarketService, kind: MovementKind, on: string | null, detail: string): MarketMovement {
  return {
    ref: service.ref,
    name: service.name,
    providerName: service.providerName,
    serviceType: service.serviceType,
    area: service.area,
    kind,
    on,
    detail,
  }
}

/** Services that entered or left the contracted market between the dates, and DPS admissions and removals. */
function movements(positions: readonly ServicePositions[], from: string, to: string) {
  const entries: MarketMovement[] = []
  const exits: MarketMovement[] = []
  for (const { service, from: before, to: after } of positions) {
    if (!before && after) {
      entries.push(
        within(service.registeredOn, from, to)
          ? movement(service, 'registered', service.registeredOn, `Registered with CQC on ${service.registeredOn}`)
          : movement(service, 'joined', null, 'Entered the contracted market'),
      )
    }
    if (before && !after) {
      exits.push(
        within(service.deregisteredOn, from, to)
          ? movement(service, 'deregistered', service.deregisteredOn, `Deregistered on ${service.deregisteredOn}`)
          : movement(service, 'left', null, 'Left the contracted market (CQC registration cancelled)'),
      )
    }
    for (const m of service.memberships) {
      if (within(m.admittedOn, from, to)) {
        entries.push(movement(service, 'admitted', m.admittedOn, `Admitted to ${m.dpsName} (${m.lotName})`))
      }
      if (m.status === 'removed' && within(m.statusChangedOn, from, to)) {
        exits.push(movement(service, 'removed', m.statusChangedOn, `Removed from ${m.dpsName} (${m.lotName})`))
      }
    }
  }
  const byDate = (a: MarketMovement, b: MarketMovement) =>
    (a.on ?? '').localeCompare(b.on ?? '') || a.name.localeCompare(b.name)
  return { entries: entries.sort(byDate), exits: exits.sort(byDate) }
}

function emptyCapacity(): CapacityByRag {
  return { red: 0, amber: 0, green: 0, atRisk: 0, total: 0 }
}

function capacityRows(positions: readonly ServicePositions[]): CapacityRow[] {
  const rows = new Map<CapacityUnit, CapacityRow>(
    CAPACITY_UNITS.map((unit) => [
      unit,
      { unit, label: CAPACITY_UNIT_LABELS[unit], from: emptyCapacity(), to: emptyCapacity() },
    ]),
  )
  for (const { service, from, to } of positions) {
    const unit = capacityUnitOf(service.serviceType)
    if (!unit || service.capacity === null) continue
    const row = rows.get(unit) as CapacityRow
    for (const [state, sums] of [
      [from, row.from],
      [to, row.to],
    ] as const) {
      if (!state) continue
      sums[state.rag] += service.capacity
      sums.total += service.capacity
      if (state.rag !== 'green') sums.atRisk += service.capacity
    }
  }
  return [...rows.values()]
}

/** Builds the whole summary from each service's position at the two dates. */
export function summariseMarket(from: string, to: string, positions: readonly ServicePositions[]): MarketSummary {
  const inMarket = positions.filter((p) => p.from || p.to)
  const byTypeGroups = groupBy(inMarket, (p) => p.service.serviceType)
  const byAreaGroups = groupBy(inMarket, (p) => p.service.area)
  return {
    from,
    to,
    overall: groupMix('all', 'All contracted services', inMarket),
    byType: SERVICE_TYPES.filter((type) => byTypeGroups.has(type)).map((type) =>
      groupMix(type, SERVICE_TYPE_LABELS[type], byTypeGroups.get(type) ?? []),
    ),
    byArea: [...byAreaGroups.keys()]
      .sort((a, b) => a.localeCompare(b))
      .map((area) => groupMix(area, area, byAreaGroups.get(area) ?? [])),
    byDps: dpsGroups(inMarket, from, to),
    ...movements(positions, from, to),
    capacity: capacityRows(inMarket),
    providers: providerRollups(
      inMarket.flatMap((p) =>
        p.to
          ? [
              {
                providerId: p.service.providerId,
                providerName: p.service.providerName,
                ref: p.service.ref,
                name: p.service.name,
                area: p.service.area,
                serviceType: p.service.serviceType,
                rag: p.to.rag,
                deteriorating: p.to.deteriorating,
              },
            ]
          : [],
      ),
    ).filter((provider) => provider.marketRisk),
  }
}

// Provider roll-up (SPEC §3 early warning): a provider is judged by its services together.

/** Services Amber or worse in one area that make a provider a market risk, even with none Red. */
export const CONCENTRATION_THRESHOLD = 3
/** Red services across the provider that make it a market risk. */
export const RED_SERVICES_THRESHOLD = 2

export interface ProviderServiceRisk {
  providerId: number
  providerName: string
  ref: string
  name: string
  area: string
  serviceType: ServiceType
  /** null: not computed yet. */
  rag: Rag | null
  deteriorating: boolean
}

export type ProviderFlagKind = 'concentration' | 'red_services' | 'deteriorating'

export interface ProviderFlag {
  kind: ProviderFlagKind
  text: string
  /** Whether this flag on its own makes the provider a market risk. */
  marketRisk: boolean
}

export interface ProviderRollup {
  providerId: number
  providerName: string
  services: number
  counts: Record<Rag, number> & { notComputed: number; deteriorating: number }
  byArea: Array<{ area: string; red: number; amber: number; green: number }>
  flags: ProviderFlag[]
  marketRisk: boolean
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`
}

/** One provider's services, together: counts, per-area counts and the flags that make it a market risk. */
export function rollUpProvider(services: readonly ProviderServiceRisk[]): ProviderRollup {
  const first = services[0]
  const counts = { red: 0, amber: 0, green: 0, notComputed: 0, deteriorating: 0 }
  const areas = new Map<string, { area: string; red: number; amber: number; green: number }>()
  for (const service of services) {
    if (service.deteriorating) counts.deteriorating++
    if (service.rag === null) {
      counts.notComputed++
      continue
    }
    counts[service.rag]++
    let area = areas.get(service.area)
    if (!area) areas.set(service.area, (area = { area: service.area, red: 0, amber: 0, green: 0 }))
    area[service.rag]++
  }
  const byArea = [...areas.values()].sort((a, b) => a.area.localeCompare(b.area))
  const flags: ProviderFlag[] = []
  for (const area of byArea) {
    const concerning = area.red + area.amber
    if (concerning >= CONCENTRATION_THRESHOLD) {
      flags.push({
        kind: 'concentration',
        text: `${plural(concerning, 'service')} Amber or Red in ${area.area}`,
        marketRisk: true,
      })
    }
  }
  if (counts.red > 0) {
    flags.push({
      kind: 'red_services',
      text: `${plural(counts.red, 'Red service')}`,
      marketRisk: counts.red >= RED_SERVICES_THRESHOLD,
    })
  }
  if (counts.deteriorating > 0) {
    flags.push({
      kind: 'deteriorating',
      text: `${plural(counts.deteriorating, 'service')} deteriorating`,
      marketRisk: false,
    })
  }
  return {
    providerId: first?.providerId ?? 0,
    providerName: first?.providerName ?? '',
    services: services.length,
    counts,
    byArea,
    flags,
    marketRisk: flags.some((flag) => flag.marketRisk),
  }
}

/** Every provider's roll-up, market risks first, then by Red and Amber services. */
export function providerRollups(services: readonly ProviderServiceRisk[]): ProviderRollup[] {
  const byProvider = new Map<number, ProviderServiceRisk[]>()
  for (const service of services) {
    const list = byProvider.get(service.providerId)
    if (list) list.push(service)
    else byProvider.set(service.providerId, [service])
  }
  return [...byProvider.values()]
    .map(rollUpProvider)
    .sort(
      (a, b) =>
        Number(b.marketRisk) - Number(a.marketRisk) ||
        b.counts.red - a.counts.red ||
        b.counts.amber - a.counts.amber ||
        a.providerName.localeCompare(b.providerName),
    )
}

// The service page timeline: every observation and every RAG change on one time axis.

export interface TimelineEvent {
  date: string
  kind: 'observation' | 'rag_change'
  title: string
  detail: string
  /** Bad news on its own (counts toward "deteriorating"). */
  adverse: boolean
  /** For a RAG change, the new RAG. */
  rag: Rag | null
}

export interface TimelinePoint {
  at: string
  /** The RAG the current rules give as of that date (no override). */
  rag: Rag
}

export interface Timeline {
  /** Newest first. */
  events: TimelineEvent[]
  /** Oldest first, one per date that has an event, plus today. */
  points: TimelinePoint[]
}

export interface TimelineInput {
  /** Live observations of the service. */
  observations: readonly Observation[]
  /** Published judgements, oldest first. */
  history: ReadonlyArray<{ asOf: string; rag: Rag }>
  ruleSet: RuleSet
  ruleSetVersion: number
  today: string
  /** Keep the chart readable: at most this many of the latest dates. */
  maxPoints?: number
}

function observationTitle(observation: Observation): string {
  return `${INDICATOR_LABELS[observation.indicator]}: ${wordLabel(observation.value)}`
}

const RAG_WORDS: Record<Rag, string> = { red: 'Red', amber: 'Amber', green: 'Green' }

/**
 * Merges observations and published RAG changes into one list, and recomputes the RAG as of each event date with the
 * pure engine, so the chart shows the effect of every observation, including those from before the dashboard existed.
 */
export function buildTimeline(input: TimelineInput): Timeline {
  const observations = input.observations.filter((o) => o.observedOn.slice(0, 10) <= input.today)
  const events: TimelineEvent[] = observations.map((o) => ({
    date: o.observedOn.slice(0, 10),
    kind: 'observation',
    title: observationTitle(o),
    detail: o.endDate ? `Until ${o.endDate}` : '',
    adverse: isAdverseObservation(o, input.ruleSet),
    rag: null,
  }))
  let previous: Rag | null = null
  for (const point of input.history) {
    if (point.rag === previous) continue
    events.push({
      date: point.asOf.slice(0, 10),
      kind: 'rag_change',
      title: previous
        ? `RAG changed from ${RAG_WORDS[previous]} to ${RAG_WORDS[point.rag]}`
        : `First judged ${RAG_WORDS[point.rag]}`,
      detail: '',
      adverse: previous !== null && RAG_ORDER[point.rag] > RAG_ORDER[previous],
      rag: point.rag,
    })
    previous = point.rag
  }
  events.sort((a, b) => b.date.localeCompare(a.date) || (a.kind === b.kind ? 0 : a.kind === 'rag_change' ? -1 : 1))

  const dates = [...new Set([...events.map((e) => e.date), input.today])].sort()
  const kept = dates.slice(-(input.maxPoints ?? 120))
  const points = kept.map((at) => ({
    at,
    rag: assessRisk({ observations, ruleSet: input.ruleSet, ruleSetVersion: input.ruleSetVersion, asOf: at })
      .computedRag,
  }))
  return { events, points }
}
