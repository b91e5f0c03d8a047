/** What the CQC connectors know about a location besides observations: the run may update the service from it. */
export interface CqcLocationFacts {
  locationId: string
  providerId: string | null
  name: string | null
  /** Normalised: 'registered' | 'deregistered' (or another normalised word CQC might add). */
  registrationStatus: string | null
  registrationDate: string | null
  deregistrationDate: string | null
  numberOfBeds: number | null
  careHome: boolean | null
  dormant: boolean | null
  /** CQC service type descriptions, e.g. "Care home service with nursing", "Domiciliary care service". */
  serviceTypes: string[]
  /** The API's gacServiceTypes as given (name and description). */
  gacServiceTypes?: Array<{ name: string | null; description: string | null }>
  localAuthority: string | null
  postalCode: string | null
  /** Registered manager names, deduplicated; empty when none is listed. */
  registeredManagers: string[]
  /** Set when the provider is known (CQC API provider record, or the HSCA file's provider columns). */
  provider?: CqcProviderFacts
  /** Earlier location ids this registration replaced ("HSCA Predecessor"). */
  predecessorLocationIds?: string[]
  /** Care directory "Date of latest check". */
  lastCheckedOn?: string | null
}

export interface CqcProviderFacts {
  /** Null only when a CQC file has provider columns but no Provider ID. */
  providerId: string | null
  name: string | null
  companiesHouseNumber: string | null
  charityNumber: string | null
  ownershipType: string | null
}
