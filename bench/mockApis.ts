import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { changedLocations, type Location, type Model } from './model.js'

/**
 * A local stand-in for the CQC syndication API and the Companies House API (FORMATS §1 and §5), answering from the
 * bench's model on 127.0.0.1: `GET /public/v1/locations` (paged), `/locations/{id}`, `/providers/{id}`,
 * `/changes/location` (paged), and `GET /company/{number}`. Limits as the real services: CQC 2,000 requests a minute
 * (beyond it, alternately a 429 with Retry-After and CQC's soft limit, a 200 whose body says 429); Companies House
 * 600 per 5 minutes, then 429 for every request until the window resets.
 */

export interface MockApis {
  base: string
  cqcBase: string
  stats: { cqc: number; companiesHouse: number; throttled: number; notFound: number }
  close(): Promise<void>
}

const CQC_LIMIT = { limit: 2000, windowMs: 60_000 }
const CH_LIMIT = { limit: 600, windowMs: 5 * 60_000 }

class SlidingWindow {
  private readonly started: number[] = []
  constructor(private readonly options: { limit: number; windowMs: number }) {}
  /** null when allowed, else seconds until a slot frees. */
  take(now = Date.now()): number | null {
    while (this.started.length > 0 && (this.started[0] as number) <= now - this.options.windowMs) this.started.shift()
    if (this.started.length >= this.options.limit) {
      return Math.ceil(((this.started[0] as number) + this.options.windowMs - now) / 1000)
    }
    this.started.push(now)
    return null
  }
}

class FixedWindow {
  private windowStart = 0
  private count = 0
  constructor(private readonly options: { limit: number; windowMs: number }) {}
  take(now = Date.now()): number | null {
    if (now - this.windowStart >= this.options.windowMs) {
      this.windowStart = now
      this.count = 0
    }
    if (this.count >= this.options.limit) return Math.ceil((this.windowStart + this.options.windowMs - now) / 1000)
    this.count++
    return null
  }
}

function ratingAfterChange(l: Location): string {
  return l.rating === 'Good' ? 'Requires improvement' : 'Good'
}

/** A location as GET /locations/{id} returns it (the shape of samples/cqc-location-1-125856395.json). */
export function locationPayload(model: Model, l: Location, changed: boolean): unknown {
  const p = model.providers[l.providerIndex]!
  const careHome = l.kind === 'care_home_nursing' || l.kind === 'care_home_residential'
  const rating = changed ? ratingAfterChange(l) : l.rating
  const reportDate = changed ? '2026-09-15' : l.ratingDate
  const contacts = l.manager
    ? [
        {
          personTitle: 'Ms',
          personGivenName: l.manager.split(' ')[0],
          personFamilyName: l.manager.split(' ')[1],
          personRoles: ['Registered Manager'],
        },
      ]
    : []
  return {
    locationId: l.id,
    providerId: p.id,
    organisationType: 'Location',
    type: l.asc ? 'Social Care Org' : 'Primary Medical Services',
    name: l.name,
    registrationStatus: 'Registered',
    registrationDate: l.registeredOn,
    dormancy: l.dormant ? 'Y' : 'N',
    numberOfBeds: l.beds ?? 0,
    website: 'www.example.org.uk',
    postalAddressLine1: `${(l.index % 200) + 1} ${l.name.split(' ')[0]} Road`,
    postalAddressTownCity: l.localAuthority,
    region: l.region,
    postalCode: l.postcode,
    careHome: careHome ? 'Y' : 'N',
    inspectionDirectorate: l.asc ? 'Adult social care' : 'Primary medical services',
    mainPhoneNumber: `0${1_200_000_000 + l.index}`,
    localAuthority: l.localAuthority,
    ...(l.manager ? {} : { registeredManagerAbsentDate: '2026-06-01' }),
    lastInspection: { date: reportDate ?? l.registeredOn },
    relationships: [],
    locationTypes: [],
    regulatedActivities: [
      {
        name: careHome ? 'Accommodation for persons who require nursing or personal care' : 'Personal care',
        code: careHome ? 'RA2' : 'RA1',
        contacts,
      },
    ],
    gacServiceTypes: [
      careHome
        ? { name: 'Residential homes', description: 'Care home service without nursing' }
        : { name: 'Homecare agencies', description: 'Domiciliary care service' },
    ],
    inspectionCategories: [
      {
        code: careHome ? 'S1' : 'S2',
        primary: 'true',
        name: careHome ? 'Residential social care' : 'Community based adult social care services',
      },
    ],
    specialisms: [{ name: 'Caring for adults over 65 yrs' }, { name: 'Dementia' }],
    currentRatings: rating
      ? {
          overall: {
            rating,
            reportDate,
            reportLinkId: `link-${l.index}${changed ? '-new' : ''}`,
            keyQuestionRatings: Object.entries(l.keyQuestions).map(([name, value]) => ({
              name,
              rating: changed ? rating : value,
              reportDate,
              reportLinkId: `link-${l.index}`,
            })),
          },
          reportDate,
        }
      : {},
    historicRatings: [],
    reports: [],
  }
}

function companyPayload(number: string): unknown {
  const n = Number.parseInt(number, 10)
  const status = n % 97 === 0 ? 'liquidation' : n % 89 === 0 ? 'administration' : n % 61 === 0 ? 'dissolved' : 'active'
  return {
    company_number: number,
    company_name: `COMPANY ${number} LIMITED`,
    company_status: status,
    type: 'ltd',
    jurisdiction: 'england-wales',
    date_of_creation: '2007-01-26',
    has_insolvency_history: n % 41 === 0,
    has_been_liquidated: false,
    has_charges: false,
    can_file: true,
    accounts: { overdue: n % 37 === 0, next_due: '2027-09-30' },
    confirmation_statement: { overdue: false, next_due: '2026-12-24' },
    registered_office_address: { address_line_1: '1 High Street', locality: 'Leeds', postal_code: 'LS1 4AB' },
    sic_codes: ['87100'],
  }
}

export async function startMockApis(model: Model): Promise<MockApis> {
  const byId = new Map(model.locations.map((l) => [l.id, l]))
  const providers = new Map(model.providers.map((p) => [p.id, p]))
  const companies = new Set(model.providers.map((p) => p.companyNumber).filter((n): n is string => n !== null))
  const changed = changedLocations(model)
  const changedIds = new Set(changed.map((l) => l.id))
  const cqcLimit = new SlidingWindow(CQC_LIMIT)
  const chLimit = new FixedWindow(CH_LIMIT)
  const stats = { cqc: 0, companiesHouse: 0, throttled: 0, notFound: 0 }
  let softToggle = false

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(body)
      res.writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(text),
        ...headers,
      })
      res.end(text)
    }
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1))
    const perPage = Math.min(1000, Math.max(1, Number(url.searchParams.get('perPage') ?? 500)))

    if (url.pathname.startsWith('/company/')) {
      stats.companiesHouse++
      if (!req.headers.authorization?.startsWith('Basic ')) return send(401, { error: 'Invalid Authorization' })
      const wait = chLimit.take()
      if (wait !== null) {
        stats.throttled++
        return send(429, { error: 'Too Many Requests' }, { 'Retry-After': String(wait) })
      }
      const number = decodeURIComponent(url.pathname.slice('/company/'.length))
      if (!companies.has(number)) {
        stats.notFound++
        return send(404, { errors: [{ error: 'company-profile-not-found', type: 'ch:service' }] })
      }
      return send(200, companyPayload(number))
    }

    if (!url.pathname.startsWith('/public/v1/')) return send(404, { message: 'Resource not found' })
    stats.cqc++
    if (!req.headers['user-agent']) return send(403, { message: 'Forbidden' })
    const wait = cqcLimit.take()
    if (wait !== null) {
      stats.throttled++
      softToggle = !softToggle
      return softToggle
        ? send(200, { statusCode: 429, message: `Rate limit is exceeded. Try again in ${wait} seconds.` })
        : send(429, { statusCode: 429, message: 'Rate limit is exceeded.' }, { 'Retry-After': String(wait) })
    }
    const route = url.pathname.slice('/public/v1'.length)
    const paged = <T>(items: T[], key: string, uri: string) => {
      const totalPages = Math.max(1, Math.ceil(items.length / perPage))
      const at = (n: number) => `${uri}?page=${n}&perPage=${perPage}`
      return {
        total: items.length,
        page,
        perPage,
        totalPages,
        firstPageUri: at(1),
        previousPageUri: page > 1 ? at(page - 1) : null,
        nextPageUri: page < totalPages ? at(page + 1) : null,
        lastPageUri: at(totalPages),
        [key]: items.slice((page - 1) * perPage, page * perPage),
        uri,
      }
    }
    if (route === '/locations') {
      const summaries = model.locations.map((l) => ({ locationId: l.id, locationName: l.name, postalCode: l.postcode }))
      return send(200, paged(summaries, 'locations', '/locations'))
    }
    if (route === '/changes/location') {
      if (!url.searchParams.get('startTimestamp') || !url.searchParams.get('endTimestamp')) {
        return send(400, { message: 'startTimestamp and endTimestamp are required' })
      }
      return send(
        200,
        paged(
          changed.map((l) => l.id),
          'changes',
          '/changes/location',
        ),
      )
    }
    const location = /^\/locations\/([^/]+)$/.exec(route)
    if (location) {
      const l = byId.get(decodeURIComponent(location[1] as string))
      if (!l) {
        stats.notFound++
        return send(404, { message: 'Location not found' })
      }
      return send(200, locationPayload(model, l, changedIds.has(l.id)))
    }
    const provider = /^\/providers\/([^/]+)$/.exec(route)
    if (provider) {
      const p = providers.get(decodeURIComponent(provider[1] as string))
      if (!p) {
        stats.notFound++
        return send(404, { message: 'Provider not found' })
      }
      return send(200, {
        providerId: p.id,
        organisationType: 'Provider',
        ownershipType: p.ownership,
        type: 'Social Care Org',
        name: p.name,
        registrationStatus: 'Registered',
        companiesHouseNumber: p.companyNumber ?? '',
        charityNumber: p.charityNumber ?? '',
        locationIds: [],
      })
    }
    return send(404, { message: 'Resource not found' })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as AddressInfo
  const base = `http://127.0.0.1:${port}`
  return {
    base,
    cqcBase: `${base}/public/v1`,
    stats,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
