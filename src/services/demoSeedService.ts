import { addDays, addMonths } from '../domain/dates.js'
import type { NewObservation } from '../domain/observation.js'
import { generateDemoBorough } from '../demo/generate.js'
import type { Services } from './container.js'

export interface DemoSeedResult {
  borough: string
  providers: number
  services: number
  observations: number
  historyRuns: number
}

/**
 * The dates the demo's RAG history is judged at: monthly for 18 months, weekly for the last month, then yesterday, so
 * the first refresh's "changed since the last run" list shows what the demo changes today.
 */
export function demoHistoryDates(today: string): string[] {
  const dates = new Set<string>()
  for (let months = 18; months >= 1; months--) dates.add(addMonths(today, -months))
  for (let weeks = 4; weeks >= 1; weeks--) dates.add(addDays(today, -7 * weeks))
  dates.add(addDays(today, -1))
  return [...dates].sort()
}

/**
 * Writes the generated demo borough: services and providers, 18 months of observations, and judgements as of past
 * dates so the RAG history and the market summary have something to show. Today's judgement is left to the first
 * refresh, so its "changed since the last run" list shows the last day's changes.
 */
export async function seedDemoBorough(
  services: Services,
  options: { seed?: number; onProgress?: (message: string) => void } = {},
): Promise<DemoSeedResult> {
  const today = services.clock.today()
  const borough = generateDemoBorough({ seed: options.seed ?? 42, today })
  const providersByKey = new Map(borough.providers.map((p) => [p.key, p]))

  const upserted = await services.serviceRepository.upsertMany(
    borough.services.map((s) => {
      const provider = providersByKey.get(s.providerKey)
      if (!provider) throw new Error(`Demo service ${s.ref} names unknown provider ${s.providerKey}`)
      return {
        ref: s.ref,
        name: s.name,
        providerName: provider.name,
        cqcProviderId: provider.cqcProviderId,
        companiesHouseNumber: provider.companiesHouseNumber,
        cqcLocationId: s.cqcLocationId,
        fhrsId: s.fhrsId,
        serviceType: s.serviceType,
        area: s.area,
        capacity: s.capacity,
        contractStatus: s.contractStatus,
        registeredOn: s.registeredOn,
      }
    }),
  )
  const idByRef = new Map(upserted.map((u) => [u.ref, u.id]))
  options.onProgress?.(`Created ${upserted.length} demo services from ${borough.providers.length} providers`)

  const observations: NewObservation[] = borough.observations.map(({ serviceRef, ...observation }) => {
    const serviceId = idByRef.get(serviceRef)
    if (serviceId === undefined) throw new Error(`Demo observation names unknown service ${serviceRef}`)
    return { ...observation, serviceId }
  })
  const appended = await services.observations.append(observations)
  options.onProgress?.(`Recorded ${appended.inserted} demo observations`)

  const rules = await services.risk.activeRuleSet()
  const dates = demoHistoryDates(today)
  for (const asOf of dates) {
    const runId = await services.runs.startRun('seed', {
      trigger: `demo history as of ${asOf}`,
      ruleSetVersion: rules.version,
    })
    const computed = await services.risk.stageAll(runId, rules, asOf)
    await services.runs.publish(runId, computed)
  }
  options.onProgress?.(`Computed demo RAG history at ${dates.length} past dates`)

  const registered = await services.serviceRepository.listAll()
  const demoDps = await services.dps.seedDemoDps(
    registered.map((s) => ({ id: s.id, ref: s.ref, serviceType: s.serviceType, area: s.area })),
    addMonths(today, -18),
  )
  const demoAwards = await services.dps.seedDemoHistory(demoDps.id)
  options.onProgress?.(
    `Created the demo DPS "${demoDps.name}" with ${demoDps.lots.length} lots and ${demoAwards} package awards`,
  )

  return {
    borough: borough.name,
    providers: borough.providers.length,
    services: upserted.length,
    observations: appended.inserted,
    historyRuns: dates.length,
  }
}
