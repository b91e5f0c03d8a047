import { Random } from '../src/demo/random.js'
import type { ContractStatus, ServiceType } from '../src/domain/vocabulary.js'

/**
 * The national market the bench generates, deterministically from a seed and a scale (1 = England, FORMATS §6):
 * 57,000 active CQC locations (30,500 adult social care: 14,900 care homes, 14,400 home care agencies, the rest
 * supported living and extra care), their providers (about 12,500 companies among the adult social care ones),
 * 550,000 food hygiene establishments in 390 authorities, and a council register of 30,000 services.
 */

export const NATIONAL = {
  locations: 57_000,
  careHomes: 14_900,
  homeCare: 14_400,
  otherAdultSocialCare: 1_200,
  ascProviders: 13_500,
  otherProviders: 11_000,
  fhrsEstablishments: 550_000,
  authorities: 390,
  registerServices: 30_000,
  ratingsRows: 324_000,
} as const

export type LocationKind = 'care_home_nursing' | 'care_home_residential' | 'home_care' | 'supported_living' | 'other'

export interface Location {
  index: number
  id: string
  name: string
  kind: LocationKind
  asc: boolean
  providerIndex: number
  localAuthority: string
  region: string
  postcode: string
  beds: number | null
  registeredOn: string
  rating: string | null
  ratingDate: string | null
  keyQuestions: Record<string, string>
  manager: string | null
  dormant: boolean
  /** FHRSID of its kitchen, for care homes that have one in the food hygiene files. */
  fhrsId: number | null
  authorityIndex: number
}

export interface Provider {
  index: number
  id: string
  name: string
  companyNumber: string | null
  charityNumber: string | null
  ownership: string
}

export interface Model {
  scale: number
  seed: number
  locations: Location[]
  providers: Provider[]
  authorities: Array<{ code: string; name: string; region: string; establishments: number }>
  /** Register rows: indexes into locations. */
  register: number[]
}

const REGIONS = [
  'London',
  'South East',
  'South West',
  'East of England',
  'West Midlands',
  'East Midlands',
  'Yorkshire and The Humber',
  'North West',
  'North East',
]
const WORDS = [
  'Oak',
  'Willow',
  'Meadow',
  'Cedar',
  'Rose',
  'Beech',
  'Hawthorn',
  'Linden',
  'Ash',
  'Elm',
  'Heather',
  'Lavender',
  'Bluebell',
  'Primrose',
  'Holly',
  'Maple',
  'Rowan',
  'Birch',
  'Hazel',
  'Juniper',
]
const PLACES = ['House', 'Lodge', 'Court', 'Manor', 'Grange', 'View', 'Gardens', 'Park', 'Hall', 'Place']
const RATINGS: Array<[string, number]> = [
  ['Good', 70],
  ['Outstanding', 4],
  ['Requires improvement', 18],
  ['Inadequate', 2],
]
const KEY_QUESTIONS = ['Safe', 'Effective', 'Caring', 'Responsive', 'Well-led']

export function authorityName(index: number): string {
  return `${WORDS[index % WORDS.length]}${index >= WORDS.length ? ` ${PLACES[Math.floor(index / WORDS.length) % PLACES.length]}` : ''} Council ${index + 1}`
}

function isoDate(random: Random, fromYear: number, toYear: number): string {
  const year = random.int(fromYear, toYear)
  return `${year}-${String(random.int(1, 12)).padStart(2, '0')}-${String(random.int(1, 28)).padStart(2, '0')}`
}

export function buildModel(scale: number, seed = 20_260_901): Model {
  const random = new Random(seed)
  const n = (count: number) => Math.max(1, Math.round(count * scale))
  const authorities = Array.from(
    { length: Math.max(3, Math.round(NATIONAL.authorities * Math.min(1, scale * 2))) },
    (_, i) => ({
      code: String(100 + i),
      name: authorityName(i),
      region: REGIONS[i % REGIONS.length] as string,
      establishments: 0,
    }),
  )
  const totalEstablishments = n(NATIONAL.fhrsEstablishments)
  authorities.forEach((a, i) => {
    a.establishments =
      Math.floor(totalEstablishments / authorities.length) + (i < totalEstablishments % authorities.length ? 1 : 0)
  })

  const ascProviders = n(NATIONAL.ascProviders)
  const providers: Provider[] = []
  for (let i = 0; i < ascProviders + n(NATIONAL.otherProviders); i++) {
    const asc = i < ascProviders
    const ownership = asc
      ? random.weighted([
          ['Organisation', 92],
          ['Individual', 5],
          ['Partnership', 3],
        ])
      : 'Organisation'
    const charity = ownership === 'Organisation' && random.chance(0.08)
    providers.push({
      index: i,
      id: `1-${1_000_000_000 + i * 13}`,
      name: `${random.pick(WORDS)} ${random.pick(WORDS)} ${asc ? 'Care' : 'Health'} ${charity ? 'Trust' : 'Limited'} ${i}`,
      // Every adult social care organisation that is a company has a number (about 12,400 at scale 1).
      companyNumber: ownership === 'Organisation' && !charity ? String(1_000_000 + i * 3).padStart(8, '0') : null,
      charityNumber: charity ? String(200_000 + i) : null,
      ownership,
    })
  }

  const kinds: LocationKind[] = []
  const careHomes = n(NATIONAL.careHomes)
  for (let i = 0; i < careHomes; i++) kinds.push(random.chance(0.3) ? 'care_home_nursing' : 'care_home_residential')
  for (let i = 0; i < n(NATIONAL.homeCare); i++) kinds.push('home_care')
  for (let i = 0; i < n(NATIONAL.otherAdultSocialCare); i++) kinds.push('supported_living')
  while (kinds.length < n(NATIONAL.locations)) kinds.push('other')

  let nextFhrsId = 500_000
  const locations: Location[] = kinds.map((kind, index) => {
    const asc = kind !== 'other'
    const careHome = kind === 'care_home_nursing' || kind === 'care_home_residential'
    const authorityIndex = random.int(0, authorities.length - 1)
    const authority = authorities[authorityIndex]!
    const rated = asc ? random.chance(kind === 'home_care' ? 0.45 : 0.92) : random.chance(0.6)
    const rating = rated ? random.weighted(RATINGS) : null
    const keyQuestions: Record<string, string> = {}
    if (rating) for (const q of KEY_QUESTIONS) keyQuestions[q] = random.chance(0.8) ? rating : random.weighted(RATINGS)
    const providerIndex = asc ? random.int(0, ascProviders - 1) : random.int(ascProviders, providers.length - 1)
    const letters = 'ABDEFGHJLNPQRSTUWXYZ'
    return {
      index,
      id: `1-${100_000_000 + index * 17}`,
      name: `${random.pick(WORDS)} ${random.pick(PLACES)}${kind === 'home_care' ? ' Home Care' : ''} ${index}`,
      kind,
      asc,
      providerIndex,
      localAuthority: authority.name,
      region: authority.region,
      postcode: `${letters[random.int(0, 19)]}${letters[random.int(0, 19)]}${random.int(1, 40)} ${random.int(1, 9)}${letters[random.int(0, 19)]}${letters[random.int(0, 19)]}`,
      beds: careHome ? random.int(8, 120) : null,
      registeredOn: isoDate(random, 2011, 2025),
      rating,
      ratingDate: rating ? isoDate(random, 2019, 2026) : null,
      keyQuestions,
      manager: asc && random.chance(0.88) ? `${random.pick(WORDS)} ${random.pick(WORDS)}son` : null,
      dormant: random.chance(0.018),
      fhrsId: careHome && random.chance(0.9) ? nextFhrsId++ : null,
      authorityIndex,
    }
  })

  const ascIndexes = locations.filter((l) => l.asc).map((l) => l.index)
  const register = ascIndexes.slice(0, Math.min(ascIndexes.length, n(NATIONAL.registerServices)))
  return { scale, seed, locations, providers, authorities, register }
}

export function serviceTypeOf(kind: LocationKind): ServiceType {
  return kind === 'other' ? 'other' : kind
}

export function contractStatusOf(index: number): ContractStatus {
  return index % 10 < 7 ? 'contracted' : index % 10 < 9 ? 'spot' : 'off_contract'
}

/** The 1% of locations the CQC changes feed lists for the incremental night: every 100th location. */
export function changedLocations(model: Model): Location[] {
  return model.locations.filter((l) => l.index % 100 === 37)
}
