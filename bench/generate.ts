import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs'
import path from 'node:path'
import { Random } from '../src/demo/random.js'
import { contractStatusOf, serviceTypeOf, type Location, type Model } from './model.js'

/**
 * Writes the model as the real files (FORMATS §2 and §4): the CQC HSCA Active Locations CSV (one row per active
 * location, columns read by name, Y/blank flag families), one FHRS open-data XML file per local authority, and the
 * council's services CSV (`npm run import -- services`).
 */

export interface GeneratedFiles {
  dir: string
  /** CQC_FILE: a folder of the CQC files (HSCA Active Locations, added to by the Latest ratings sheet). */
  cqcDir: string
  hscaFile: string
  fhrsDir: string
  registerFile: string
  hscaRows: number
  fhrsEstablishments: number
  bytes: number
}

const REGULATED_ACTIVITIES = [
  'Accommodation for persons who require nursing or personal care',
  'Accommodation for persons who require treatment for substance misuse',
  'Assessment or medical treatment for persons detained under the Mental Health Act 1983',
  'Diagnostic and screening procedures',
  'Family planning',
  'Management of supply of blood and blood derived products',
  'Maternity and midwifery services',
  'Nursing care',
  'Personal care',
  'Services in slimming clinics',
  'Surgical procedures',
  'Termination of pregnancies',
  'Transport services, triage and medical advice provided remotely',
  'Treatment of disease, disorder or injury',
]
const SERVICE_TYPES = [
  'Acute services with overnight beds',
  'Acute services without overnight beds / listed acute services with or without overnight beds',
  'Ambulance service',
  'Blood and Transplant service',
  'Care home service with nursing',
  'Care home service without nursing',
  'Community based services for people who misuse substances',
  'Community based services for people with a learning disability',
  'Community based services for people with mental health needs',
  'Community health care services - Nurses Agency only',
  'Community healthcare service',
  'Dental service',
  'Diagnostic and/or screening service',
  'Diagnostic and/or screening service - single handed sessional providers',
  'Doctors consultation service',
  'Doctors treatment service',
  'Domiciliary care service',
  'Extra Care housing services',
  'Hospice services',
  'Hospital services for people with mental health needs, learning disabilities and problems with substance misuse',
  'Long term conditions services',
  'Mobile doctors service',
  'Prison Healthcare Services',
  'Rehabilitation services',
  'Remote clinical advice service',
  'Residential substance misuse treatment and rehabilitation service',
  'Shared Lives',
  'Specialist college service',
  'Supported living service',
  'Urgent care services',
]
const USER_BANDS = [
  'Children 0-18 years',
  'Dementia',
  'Learning disabilities or autistic spectrum disorder',
  'Mental Health',
  'Older People',
  'People detained under the Mental Health Act',
  'People who misuse drugs and alcohol',
  'People with an eating disorder',
  'Physical Disability',
  'Sensory Impairment',
  'Whole Population',
  'Younger Adults',
]

export const HSCA_HEADER = [
  'Location ID',
  'Location HSCA start date',
  'Dormant (Y/N)',
  'Care home?',
  'Location Name',
  'Location ODS Code',
  'Location Telephone Number',
  'Registered manager',
  'Location Web Address',
  'Care homes beds',
  'Location Type/Sector',
  'Location Inspection Directorate',
  'Location Primary Inspection Category',
  'Location Latest Overall Rating',
  'Publication Date',
  'Inherited Rating (Y/N)',
  'Location Region',
  'Location NHS Region',
  'Location Local Authority',
  'Location ONSPD CCG Code',
  'Location ONSPD CCG',
  'Location Commissioning CCG Code',
  'Location Commissioning CCG',
  'Location Street Address',
  'Location Address Line 2',
  'Location City',
  'Location County',
  'Location Postal Code',
  'Location PAF ID',
  'Location UPRN ID',
  'Location Latitude',
  'Location Longitude',
  'Location Parliamentary Constituency',
  'Brand ID',
  'Brand Name',
  'Provider Companies House Number',
  'Provider Charity Number',
  'Provider ID',
  'Provider Name',
  'Provider HSCA start date',
  'Provider Type/Sector',
  'Provider Inspection Directorate',
  'Provider Primary Inspection Category',
  'Provider Ownership Type',
  'Provider Telephone Number',
  'Provider Web Address',
  'Provider Street Address',
  'Provider Address Line 2',
  'Provider City',
  'Provider County',
  'Provider Postal Code',
  'Provider Local Authority',
  'Provider Region',
  'Provider Nominated Individual Name',
  'Provider Main Partner Name',
  ...REGULATED_ACTIVITIES.map((a) => `Regulated activity - ${a}`),
  ...SERVICE_TYPES.map((s) => `Service type - ${s}`),
  ...USER_BANDS.map((b) => `Service user band - ${b}`),
]

export function csvCell(value: string | number | null): string {
  if (value === null) return ''
  const text = String(value)
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

export function ukDate(iso: string): string {
  return `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`
}

/** Buffers lines and writes them in large chunks, waiting for the stream to drain. */
export class ChunkWriter {
  private parts: string[] = []
  private size = 0
  bytes = 0
  private constructor(private readonly stream: WriteStream) {}

  static open(file: string): ChunkWriter {
    return new ChunkWriter(createWriteStream(file))
  }

  async write(text: string): Promise<void> {
    this.parts.push(text)
    this.size += text.length
    if (this.size > 1 << 20) await this.flush()
  }

  private async flush(): Promise<void> {
    const chunk = this.parts.join('')
    this.parts = []
    this.size = 0
    this.bytes += Buffer.byteLength(chunk)
    if (!this.stream.write(chunk)) await new Promise<void>((resolve) => this.stream.once('drain', () => resolve()))
  }

  async close(): Promise<void> {
    await this.flush()
    await new Promise<void>((resolve, reject) =>
      this.stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
    )
  }
}

function hscaRow(model: Model, l: Location): string {
  const p = model.providers[l.providerIndex]!
  const careHome = l.kind === 'care_home_nursing' || l.kind === 'care_home_residential'
  const types = new Set<string>()
  const activities = new Set<string>()
  const bands = new Set<string>(['Older People'])
  if (l.kind === 'care_home_nursing') {
    types.add('Care home service with nursing')
    activities.add(REGULATED_ACTIVITIES[0]!).add('Treatment of disease, disorder or injury')
    bands.add('Dementia')
  } else if (l.kind === 'care_home_residential') {
    types.add('Care home service without nursing')
    activities.add(REGULATED_ACTIVITIES[0]!)
  } else if (l.kind === 'home_care') {
    types.add('Domiciliary care service')
    activities.add('Personal care')
    bands.add('Physical Disability').add('Younger Adults')
  } else if (l.kind === 'supported_living') {
    types.add('Supported living service')
    activities.add('Personal care')
    bands.add('Learning disabilities or autistic spectrum disorder')
  } else {
    types.add(l.index % 3 === 0 ? 'Dental service' : 'Doctors consultation service')
    activities.add('Treatment of disease, disorder or injury').add('Diagnostic and screening procedures')
    bands.add('Whole Population')
  }
  const cells: Array<string | number | null> = [
    l.id,
    ukDate(l.registeredOn),
    l.dormant ? 'Y' : 'N',
    careHome ? 'Y' : 'N',
    l.name,
    `V${(l.index * 7).toString(36).toUpperCase()}`,
    `0${1_200_000_000 + l.index}`,
    l.manager,
    `www.${l.name.toLowerCase().replace(/[^a-z0-9]+/g, '')}.co.uk`,
    l.beds,
    l.asc ? 'Social Care Org' : 'Primary Medical Services',
    l.asc ? 'Adult social care' : 'Primary medical services',
    l.kind === 'home_care' || l.kind === 'supported_living'
      ? 'Community based adult social care services'
      : careHome
        ? 'Residential social care'
        : 'GP Practices',
    l.rating,
    l.ratingDate ? ukDate(l.ratingDate) : null,
    l.index % 40 === 0 && l.rating ? 'Y' : null,
    l.region,
    `NHS England ${l.region}`,
    l.localAuthority,
    `E380000${String(l.authorityIndex % 100).padStart(2, '0')}`,
    `NHS ${l.localAuthority} CCG`,
    `E380000${String(l.authorityIndex % 100).padStart(2, '0')}`,
    `NHS ${l.localAuthority} ICB`,
    `${(l.index % 200) + 1} ${l.name.split(' ')[0]} Road`,
    l.index % 2 ? 'Upper Town' : null,
    l.localAuthority.split(' ')[0] ?? null,
    null,
    l.postcode,
    String(10_000_000 + l.index),
    String(100_000_000_000 + l.index),
    (50 + (l.index % 500) / 100).toFixed(6),
    (-3 + (l.index % 400) / 100).toFixed(6),
    `${l.localAuthority} Central`,
    l.index % 9 === 0 ? `BD${l.providerIndex % 500}` : '-',
    l.index % 9 === 0 ? `BRAND ${p.name}` : '-',
    p.companyNumber,
    p.charityNumber,
    p.id,
    p.name,
    '01/10/2010',
    l.asc ? 'Social Care Org' : 'Primary Medical Services',
    l.asc ? 'Adult social care' : 'Primary medical services',
    l.asc ? 'Residential social care' : 'GP Practices',
    p.ownership,
    `0${1_300_000_000 + p.index}`,
    null,
    `${p.index + 1} High Street`,
    null,
    'Leeds',
    'West Yorkshire',
    'LS1 4AB',
    'Leeds',
    'Yorkshire and The Humber',
    `${p.name.split(' ')[0]} Nominee`,
    null,
    ...REGULATED_ACTIVITIES.map((a) => (activities.has(a) ? 'Y' : null)),
    ...SERVICE_TYPES.map((s) => (types.has(s) ? 'Y' : null)),
    ...USER_BANDS.map((b) => (bands.has(b) ? 'Y' : null)),
  ]
  return `${cells.map(csvCell).join(',')}\r\n`
}

const FHRS_RATINGS: Array<[string, number]> = [
  ['5', 378_432],
  ['4', 64_241],
  ['3', 26_929],
  ['2', 7_089],
  ['1', 6_536],
  ['0', 881],
  ['Exempt', 24_190],
  ['AwaitingInspection', 41_324],
]
const BUSINESS_TYPES: Array<[number, string, number]> = [
  [1, 'Restaurant/Cafe/Canteen', 30],
  [4613, 'Retailers - other', 20],
  [7844, 'Takeaway/sandwich shop', 15],
  [7843, 'Pub/bar/nightclub', 10],
  [7845, 'School/college/university', 6],
  [7841, 'Other catering premises', 6],
  [7846, 'Mobile caterer', 4],
  [7840, 'Retailers - supermarkets/hypermarkets', 3],
  [7842, 'Hotel/bed & breakfast/guest house', 3],
  [7839, 'Manufacturers/packers', 2],
]

function xmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

interface Establishment {
  id: number
  name: string
  typeId: number
  type: string
  postcode: string
  rating: string
  ratingDate: string | null
}

function establishmentXml(e: Establishment, authority: Model['authorities'][number], random: Random): string {
  const numeric = /^\d$/.test(e.rating)
  const scores = numeric
    ? `<Scores><Hygiene>${random.pick([0, 5, 10, 15])}</Hygiene><Structural>${random.pick([0, 5, 10])}</Structural><ConfidenceInManagement>${random.pick([0, 5, 10])}</ConfidenceInManagement></Scores>`
    : '<Scores />'
  const ratingKey = `fhrs_${e.rating.toLowerCase()}_en-GB`
  return (
    `<EstablishmentDetail><FHRSID>${e.id}</FHRSID><LocalAuthorityBusinessID>${authority.code}/${e.id}</LocalAuthorityBusinessID>` +
    `<BusinessName>${xmlText(e.name)}</BusinessName><BusinessType>${xmlText(e.type)}</BusinessType><BusinessTypeID>${e.typeId}</BusinessTypeID>` +
    `<AddressLine1>${(e.id % 300) + 1} Market Street</AddressLine1><AddressLine2>${xmlText(authority.name)}</AddressLine2><AddressLine4>${xmlText(authority.region)}</AddressLine4>` +
    `<PostCode>${e.postcode}</PostCode><RatingValue>${e.rating}</RatingValue><RatingKey>${ratingKey}</RatingKey>` +
    (e.ratingDate ? `<RatingDate>${e.ratingDate}</RatingDate>` : '<RatingDate />') +
    `<LocalAuthorityCode>${authority.code}</LocalAuthorityCode><LocalAuthorityName>${xmlText(authority.name)}</LocalAuthorityName>` +
    `<LocalAuthorityWebSite>http://www.council${authority.code}.gov.uk</LocalAuthorityWebSite><LocalAuthorityEmailAddress>food@council${authority.code}.gov.uk</LocalAuthorityEmailAddress>` +
    `${scores}<SchemeType>FHRS</SchemeType><NewRatingPending>False</NewRatingPending>` +
    `<Geocode><Longitude>${(-2 + (e.id % 300) / 100).toFixed(7)}</Longitude><Latitude>${(51 + (e.id % 400) / 100).toFixed(7)}</Latitude></Geocode></EstablishmentDetail>\n`
  )
}

export async function generateFiles(model: Model, dir: string): Promise<GeneratedFiles> {
  mkdirSync(dir, { recursive: true })
  const fhrsDir = path.join(dir, 'fhrs')
  mkdirSync(fhrsDir, { recursive: true })
  let bytes = 0

  const cqcDir = path.join(dir, 'cqc')
  mkdirSync(cqcDir, { recursive: true })
  const hscaFile = path.join(cqcDir, '01_September_2026_HSCA_Active_Locations.csv')
  const hsca = ChunkWriter.open(hscaFile)
  await hsca.write(`${HSCA_HEADER.map(csvCell).join(',')}\r\n`)
  for (const location of model.locations) await hsca.write(hscaRow(model, location))
  await hsca.close()
  bytes += hsca.bytes

  // Care homes' kitchens, in their own authority's file.
  const kitchens = new Map<number, Location[]>()
  for (const l of model.locations) {
    if (l.fhrsId === null) continue
    const list = kitchens.get(l.authorityIndex) ?? []
    list.push(l)
    kitchens.set(l.authorityIndex, list)
  }
  const random = new Random(model.seed + 1)
  let nextId = 10_000_000
  let establishments = 0
  for (const [index, authority] of model.authorities.entries()) {
    const file = ChunkWriter.open(path.join(fhrsDir, `FHRS${authority.code}en-GB.xml`))
    const own = kitchens.get(index) ?? []
    const count = Math.max(authority.establishments, own.length)
    await file.write(
      `<?xml version="1.0" encoding="utf-8"?>\n<FHRSEstablishment xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
        `<Header><ExtractDate>2026-09-01</ExtractDate><ItemCount>${count}</ItemCount><ReturnCode>Success</ReturnCode></Header><EstablishmentCollection>\n`,
    )
    for (let i = 0; i < count; i++) {
      const kitchen = own[i]
      const rating = random.weighted(FHRS_RATINGS)
      const [typeId, type] = kitchen
        ? [5, 'Hospitals/Childcare/Caring Premises']
        : random.weighted(BUSINESS_TYPES.map(([id, name, w]) => [[id, name] as const, w] as const))
      await file.write(
        establishmentXml(
          {
            id: kitchen ? (kitchen.fhrsId as number) : nextId++,
            name: kitchen
              ? kitchen.name
              : `The ${random.pick(['Golden', 'Red', 'Old', 'New', 'Corner', 'Village'])} ${random.pick(['Cafe', 'Kitchen', 'Bakery', 'Inn', 'Grill', 'Store'])} ${i}`,
            typeId,
            type,
            postcode: kitchen ? kitchen.postcode : `AB${(i % 40) + 1} ${(i % 9) + 1}XY`,
            rating,
            ratingDate:
              rating === 'AwaitingInspection'
                ? null
                : `20${random.int(18, 26)}-0${random.int(1, 9)}-1${random.int(0, 9)}`,
          },
          authority,
          random,
        ),
      )
      establishments++
    }
    await file.write('</EstablishmentCollection></FHRSEstablishment>\n')
    await file.close()
    bytes += file.bytes
  }

  const registerFile = path.join(dir, 'council-services.csv')
  const register = ChunkWriter.open(registerFile)
  await register.write(
    'service_ref,cqc_location_id,name,provider_name,cqc_provider_id,companies_house_number,fhrs_id,service_type,area,capacity,contract_status\r\n',
  )
  for (const [i, index] of model.register.entries()) {
    const l = model.locations[index]!
    const p = model.providers[l.providerIndex]!
    await register.write(
      `${[
        `SVC-${String(i + 1).padStart(5, '0')}`,
        l.id,
        l.name,
        p.name,
        p.id,
        p.companyNumber,
        l.fhrsId,
        serviceTypeOf(l.kind),
        l.localAuthority,
        l.beds,
        contractStatusOf(i),
      ]
        .map(csvCell)
        .join(',')}\r\n`,
    )
  }
  await register.close()
  bytes += register.bytes

  return {
    dir,
    cqcDir,
    hscaFile,
    fhrsDir,
    registerFile,
    hscaRows: model.locations.length,
    fhrsEstablishments: establishments,
    bytes,
  }
}
