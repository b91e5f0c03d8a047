import type { ResultBuilder, SourceObservation } from '../types.js'
import type { CqcLocationFacts, CqcProviderFacts } from './facts.js'
import type { Column, CqcFileKind, Header } from './fileHeader.js'
import { managerInPost, managerVacant, notRated, toCount, yesNo } from './mapLocation.js'
import { parseCqcDate, readCqcRatingWord } from './ratings.js'

/**
 * One row of a one-row-per-location CQC file (HSCA Active Locations, Deactivated Locations, the care directory) as
 * the location's observations and facts, columns read by name.
 */
const VACANCY_NOTE = 'The CQC file lists no registered manager and gives no date: vacant since at least this date.'
const NOT_RATED_NOTE =
  'The CQC file shows no overall rating. Since September 2026 it shows "Not Rated" for multi-service locations that do hold service ratings.'

export function mapRow(
  header: Header,
  row: string[],
  id: string,
  kind: CqcFileKind,
  asOf: string,
  result: ResultBuilder<CqcLocationFacts>,
) {
  const deregistered = kind === 'deactivated'
  const date = (column: Column) => {
    const raw = header.get(row, column)
    const parsed = parseCqcDate(raw)
    if (raw !== '' && parsed === null) result.reject(id, `"${raw}" is not a date`, header.nameOf(column))
    return parsed
  }
  const registrationDate = date('registrationDate')
  const deregistrationDate = deregistered ? date('deregistrationDate') : null
  const observations: SourceObservation[] = []
  const registrationStatus = deregistered ? 'deregistered' : 'registered'

  if (header.has('overallRating')) {
    const rawRating = header.get(row, 'overallRating')
    const word = readCqcRatingWord(rawRating)
    const rating = word?.value ?? null
    if (word?.kind === 'unknown') {
      result.warnings.push(
        `CQC location ${id}: Overall rating "${word.raw}" not recognised: flagged, not read as a rating`,
      )
    }
    const ratingDateColumn = header.nameOf('ratingDate')
    const rawDate = header.get(row, 'ratingDate')
    const publishedOn = parseCqcDate(rawDate)
    if (rating !== null && rating !== 'not_rated') {
      if (publishedOn === null) {
        result.reject(
          id,
          rawDate === '' ? `rating "${rawRating}" has no publication date` : `"${rawDate}" is not a date`,
          ratingDateColumn,
        )
      } else {
        const inherited = yesNo(header.get(row, 'inherited'))
        observations.push({
          indicator: 'cqc_rating',
          source: 'cqc_file',
          observedOn: publishedOn,
          value: rating,
          detail: {
            registrationStatus: 'registered',
            ...(inherited ? { inherited: true } : {}),
            ...(word?.kind === 'unknown' ? { sourceRating: word.raw } : {}),
          },
          reference: null,
          naturalKey: `cqc:${id}:${publishedOn}`,
        })
      }
    } else if (!deregistered) {
      // Dated at registration, so any real rating (from the API or a later file) is more recent and wins.
      const observation = notRated(id, registrationDate ?? asOf, registrationDate, 'cqc_file')
      observation.detail = { ...observation.detail, note: NOT_RATED_NOTE }
      observations.push(observation)
    }
    if (deregistered) {
      observations.push({
        indicator: 'cqc_rating',
        source: 'cqc_file',
        observedOn: deregistrationDate ?? asOf,
        value: rating ?? 'not_rated',
        detail: { registrationStatus: 'deregistered' },
        reference: null,
        naturalKey: `cqc:${id}:deregistered:${deregistrationDate ?? 'undated'}`,
      })
    }
  }

  const manager = header.get(row, 'manager')
  if (!deregistered && header.has('manager')) {
    observations.push(
      manager === ''
        ? managerVacant(id, asOf, 'cqc_file', { sinceUnknown: true, note: VACANCY_NOTE }, 'undated')
        : managerInPost(id, [manager], asOf, 'cqc_file'),
    )
  }

  const providerId = header.get(row, 'providerId')
  const provider: CqcProviderFacts = {
    providerId: providerId || null,
    name: header.get(row, 'providerName') || null,
    companiesHouseNumber: header.get(row, 'companiesHouseNumber') || null,
    charityNumber: header.get(row, 'charityNumber') || null,
    ownershipType: header.get(row, 'ownershipType') || null,
  }
  const hasProvider = Object.values(provider).some((value) => value !== null)
  const directoryTypes = header
    .get(row, 'directoryServiceTypes')
    .split('|')
    .map((type) => type.trim())
    .filter((type) => type !== '')

  const facts: CqcLocationFacts = {
    locationId: id,
    providerId: providerId || null,
    name: header.get(row, 'locationName') || null,
    registrationStatus: kind === 'care_directory' ? null : registrationStatus,
    registrationDate,
    deregistrationDate,
    numberOfBeds: toCount(header.get(row, 'beds')),
    careHome: yesNo(header.get(row, 'careHome')),
    dormant: yesNo(header.get(row, 'dormant')),
    serviceTypes: [...header.flagged(row, 'Service type - '), ...directoryTypes],
    localAuthority: header.get(row, 'localAuthority') || null,
    postalCode: header.get(row, 'postalCode') || null,
    registeredManagers: manager === '' ? [] : [manager],
    ...(hasProvider ? { provider } : {}),
    ...(header.has('lastCheckedOn') ? { lastCheckedOn: date('lastCheckedOn') } : {}),
  }
  return { match: { kind: 'cqc_location' as const, id }, observations, facts }
}
