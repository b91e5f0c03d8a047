import type { Service } from '../../data/services.js'
import type { Repositories } from '../../data/store.js'
import { normaliseCompanyNumber } from '../../ingest/companiesHouse/index.js'
import { CqcApiClient, readCqcApi, readCqcSource, type CqcLocationFacts } from '../../ingest/cqc/index.js'
import type { ConnectorRecord } from '../../ingest/types.js'
import type { Services } from '../container.js'
import type { SourceStepContext, SourceStepResult } from '../refreshService.js'
import { applyConnectorResult } from './apply.js'
import { CouncilIdIndex } from './council.js'
import type { SourceStepOptions } from './options.js'

export const CQC_STATE = {
  source: 'cqc',
  /** ISO timestamp: the next run asks the changes feed from here. Absent: the next run is a full load. */
  changesWindowEnd: 'changes_window_end',
  /** JSON array of council location IDs read successfully at least once (new or failed ones are always fetched). */
  loadedLocationIds: 'loaded_location_ids',
} as const

/** CQC's changes feed takes whole-second ISO timestamps. */
function cqcTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/**
 * CQC: from the API when CQC_API_BASE is set (every council location on the first run, then only those the changes
 * feed lists, plus any not yet loaded), else from the downloaded file CQC_FILE (or the newest of each kind in that folder).
 */
export async function runCqcStep(
  services: Services,
  context: SourceStepContext,
  options: SourceStepOptions,
): Promise<SourceStepResult> {
  const { config } = services
  const index = new CouncilIdIndex(await services.serviceRepository.listAll())
  const ids = index.ids('cqc_location')
  const applyFacts = cqcFactsApplier(context)
  const onProgress = (done: number, total: number) => context.progress(done, total)

  if (!config.CQC_API_BASE) {
    if (!config.CQC_FILE) throw new Error('CQC: neither CQC_API_BASE nor CQC_FILE is set')
    const result = await readCqcSource({ path: config.CQC_FILE, ids, asOf: context.asOf, onProgress })
    return applyConnectorResult(services, index, result, {
      kind: 'cqc_location',
      actor: actorFor(context),
      notFoundReason: 'the CQC file has no location with this ID',
      applyFacts,
    })
  }

  const client = new CqcApiClient({ ...options.http, baseUrl: config.CQC_API_BASE, apiKey: config.CQC_API_KEY })
  const state = services.sourceState
  const windowEnd = await state.get(CQC_STATE.source, CQC_STATE.changesWindowEnd)
  const loaded = new Set((await state.getJson<string[]>(CQC_STATE.source, CQC_STATE.loadedLocationIds)) ?? [])
  const startedAt = cqcTimestamp(new Date())
  const incremental = windowEnd !== null
  const result = await readCqcApi(client, {
    asOf: context.asOf,
    ids,
    onProgress,
    concurrency: options.concurrency,
    maxConsecutiveFailures: options.maxConsecutiveFailures,
    ...(incremental
      ? { changedSince: windowEnd, changedUntil: startedAt, alwaysFetch: ids.filter((id) => !loaded.has(id)) }
      : {}),
  })
  const outcome = await applyConnectorResult(services, index, result, {
    kind: 'cqc_location',
    actor: actorFor(context),
    notFoundReason: 'CQC has no location with this ID',
    applyFacts,
    corrections: true,
    notFetched: result.unchanged,
  })

  // Only after the observations are stored: a run that dies before this point reads the same window again.
  const council = new Set(ids)
  const rejected = new Set(result.rejects.map((reject) => reject.record))
  const nowLoaded = new Set([...loaded].filter((id) => council.has(id)))
  for (const record of result.records) nowLoaded.add(record.match.id)
  for (const id of rejected) nowLoaded.delete(id)
  await state.setJson(CQC_STATE.source, CQC_STATE.loadedLocationIds, [...nowLoaded].sort(), context.runId)
  await state.set(CQC_STATE.source, CQC_STATE.changesWindowEnd, result.changesWindow?.end ?? startedAt, context.runId)
  return outcome
}

function actorFor(context: SourceStepContext): string {
  return `refresh:run-${context.runId}`
}

/**
 * CQC is the authority on registration: its registration and deregistration dates go onto the service, and its
 * provider's company number onto a provider the council recorded without one (so Companies House can follow it the
 * same night). Each change is audited.
 */
function cqcFactsApplier(context: SourceStepContext) {
  const actor = actorFor(context)
  const providersUpdated = new Set<number>()
  return async (
    record: ConnectorRecord<CqcLocationFacts>,
    service: Service,
    { services: serviceRepository, audit }: Repositories,
  ): Promise<boolean> => {
    const facts = record.facts
    if (!facts) return false
    let changed = false

    const registeredOn = facts.registrationDate ?? service.registeredOn
    const deregisteredOn =
      facts.registrationStatus === 'deregistered'
        ? (facts.deregistrationDate ?? service.deregisteredOn ?? context.asOf)
        : facts.registrationStatus === 'registered'
          ? null
          : service.deregisteredOn
    if (registeredOn !== service.registeredOn || deregisteredOn !== service.deregisteredOn) {
      await serviceRepository.setRegistration(service.id, registeredOn, deregisteredOn)
      await audit.record({
        actor,
        action: 'service.registration_from_cqc',
        entityType: 'service',
        entityId: service.ref,
        before: { registeredOn: service.registeredOn, deregisteredOn: service.deregisteredOn },
        after: { registeredOn, deregisteredOn, locationId: facts.locationId },
      })
      changed = true
    }

    const raw = facts.provider?.companiesHouseNumber
    const companyNumber = raw ? normaliseCompanyNumber(raw) : null
    if (companyNumber && !service.companiesHouseNumber && !providersUpdated.has(service.providerId)) {
      providersUpdated.add(service.providerId)
      await serviceRepository.setProviderCompanyNumber(service.providerId, companyNumber)
      await audit.record({
        actor,
        action: 'provider.companies_house_number_from_cqc',
        entityType: 'provider',
        entityId: service.providerId,
        before: { companiesHouseNumber: null },
        after: { companiesHouseNumber: companyNumber, cqcProviderId: facts.provider?.providerId ?? null },
      })
      changed = true
    }
    return changed
  }
}
