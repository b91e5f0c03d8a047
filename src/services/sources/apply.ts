import type { NewObservation } from '../../domain/observation.js'
import type { Service } from '../../data/services.js'
import type { Repositories } from '../../data/store.js'
import type { SourceReject } from '../../data/runs.js'
import type { ConnectorRecord, ConnectorResult, MatchKind } from '../../ingest/types.js'
import type { Services } from '../container.js'
import type { SourceStepResult } from '../refreshService.js'
import { CouncilIdIndex, serviceRefs } from './council.js'

export interface ApplyOptions<Facts> {
  kind: MatchKind
  /** Who the audit log says changed a service or provider. */
  actor: string
  /** Words for a council identifier the source does not know, e.g. "no CQC location with this ID". */
  notFoundReason: string
  dedupe?: NewObservation['dedupe']
  /**
   * The source may send a fact again corrected under the same key (a rating changed under the same report date): it
   * is recorded as a correction superseding the earlier version (SPEC §5), not dropped as a duplicate.
   */
  corrections?: boolean
  /**
   * Applies what the source says about a service besides observations (registration dates, company number).
   * Returns whether it changed anything. Writes through `repositories`, those of the batch's write transaction.
   */
  applyFacts?: (record: ConnectorRecord<Facts>, service: Service, repositories: Repositories) => Promise<boolean>
  /** Records the connector did not fetch because they had not changed (the CQC changes feed). */
  notFetched?: number
}

/** Source facts applied per write transaction. */
const FACTS_PER_COMMIT = 500

/**
 * Attaches a connector's records to the council's services, appends all their observations in one transaction,
 * applies the source's facts, and counts what happened for the run log. Council identifiers the source does not
 * know are reported as rejects ("not found at source"), as are records no service claims.
 */
export async function applyConnectorResult<Facts>(
  services: Services,
  index: CouncilIdIndex,
  result: ConnectorResult<Facts>,
  options: ApplyOptions<Facts>,
): Promise<SourceStepResult> {
  const matched: Array<{ record: ConnectorRecord<Facts>; services: Service[] }> = []
  const rejects: SourceReject[] = [...result.rejects]
  const observations: NewObservation[] = []
  let unclaimed = 0

  for (const record of result.records) {
    const owners = index.servicesFor(record.match)
    if (owners.length === 0) {
      rejects.push({ record: record.match.id, reason: 'no council service has this identifier' })
      unclaimed++
      continue
    }
    matched.push({ record, services: owners })
    for (const service of owners) {
      for (const observation of record.observations) {
        observations.push({
          ...observation,
          serviceId: service.id,
          ...(options.dedupe ? { dedupe: options.dedupe } : {}),
        })
      }
    }
  }

  // Through the store, so a caller's open transaction (a Companies House stream batch) is joined.
  const appended = await services.store.write((repositories) =>
    options.corrections
      ? repositories.observations.appendOrSupersede(observations)
      : repositories.observations.append(observations),
  )
  const changedServices = new Set(appended.changedServiceIds)

  if (options.applyFacts) {
    // A first load changes every service's registration (an update and an audit entry each): committed one by one,
    // 30,000 of them took longer than reading the file. In batches, each commit holds the write lock only briefly.
    // Called inside a transaction of the caller's (a Companies House stream batch), the batches join it whole.
    const applyFacts = options.applyFacts
    const pairs = matched.flatMap(({ record, services: owners }) => owners.map((service) => ({ record, service })))
    for (let i = 0; i < pairs.length; i += FACTS_PER_COMMIT) {
      const batch = pairs.slice(i, i + FACTS_PER_COMMIT)
      const changedInBatch = await services.store.write(async (repositories) => {
        const changed: number[] = []
        for (const { record, service } of batch) {
          if (await applyFacts(record, service, repositories)) changed.push(service.id)
        }
        return changed
      })
      for (const id of changedInBatch) changedServices.add(id)
    }
  }

  for (const id of result.notFound) {
    const owners = index.servicesFor({ kind: options.kind, id })
    rejects.push({
      record: id,
      reason: `not found at source: ${options.notFoundReason}${owners.length ? ` (council service ${serviceRefs(owners)})` : ''}`,
    })
  }
  for (const warning of result.warnings) rejects.push({ record: 'warning', reason: warning })

  const changedRecords = matched.filter(({ services: owners }) => owners.some((s) => changedServices.has(s.id))).length
  return {
    read: result.counts.read,
    matched: matched.length,
    changed: changedRecords,
    unchanged: matched.length - changedRecords + (options.notFetched ?? 0),
    rejected: result.counts.rejected + result.notFound.length + unclaimed,
    rejects,
    changedServiceIds: [...changedServices].sort((a, b) => a - b),
  }
}
