import type { NewObservation } from '../domain/observation.js'
import type { ContractStatus, ServiceType } from '../domain/vocabulary.js'
import type { DemoArea } from './names.js'

export interface DemoProvider {
  /** Stable key within the demo ('PRV-001'), for linking services; not stored. */
  key: string
  name: string
  cqcProviderId: string | null
  companiesHouseNumber: string | null
}

export interface DemoService {
  ref: string
  name: string
  providerKey: string
  /** Null for the few services CQC does not register (most day services, some supported living). */
  cqcLocationId: string | null
  /** Care homes and day services only (they serve food). */
  fhrsId: string | null
  serviceType: ServiceType
  area: DemoArea
  /** Beds for care homes, places for day services, weekly hours for the rest. */
  capacity: number
  contractStatus: ContractStatus
  /** CQC registration date; null when unregistered. */
  registeredOn: string | null
}

/** An observation before the database has given its service an id. */
export type DemoObservation = Omit<NewObservation, 'serviceId'> & { serviceRef: string }

export interface DemoBorough {
  name: string
  areas: readonly DemoArea[]
  providers: DemoProvider[]
  services: DemoService[]
  observations: DemoObservation[]
}
