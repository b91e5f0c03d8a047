import type { Service } from '../../data/services.js'
import type { ExternalMatch, MatchKind } from '../../ingest/types.js'

/**
 * The council's services by the identifiers each source knows them by: `services.cqc_location_id`,
 * `services.fhrs_id` and the provider's `companies_house_number`. One identifier may name several services (an
 * FHRSID shared by a kitchen, a company running many services).
 */
export class CouncilIdIndex {
  private readonly byKind: Record<MatchKind, Map<string, Service[]>> = {
    cqc_location: new Map(),
    fhrs: new Map(),
    company: new Map(),
  }

  constructor(services: Service[]) {
    for (const service of services) {
      this.add('cqc_location', service.cqcLocationId, service)
      this.add('fhrs', service.fhrsId, service)
      this.add('company', service.companiesHouseNumber, service)
    }
  }

  /** The council's identifiers of one kind, as the connectors take them. */
  ids(kind: MatchKind): string[] {
    return [...this.byKind[kind].keys()]
  }

  servicesFor(match: ExternalMatch): Service[] {
    return this.byKind[match.kind].get(match.id.trim()) ?? []
  }

  private add(kind: MatchKind, id: string | null, service: Service) {
    const key = (id ?? '').trim()
    if (key === '') return
    const list = this.byKind[kind].get(key)
    if (list) list.push(service)
    else this.byKind[kind].set(key, [service])
  }
}

/** "SVC-1, SVC-2": which council services a source identifier belongs to, for the run log. */
export function serviceRefs(services: Service[]): string {
  return services.map((service) => service.ref).join(', ')
}
