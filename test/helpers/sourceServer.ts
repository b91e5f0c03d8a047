import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { recordedJson } from './recordedServer.js'

/** One scripted answer (see SourceServer.script). */
export interface ScriptedAnswer {
  status?: number
  headers?: Record<string, string>
  /** Sent as is, e.g. malformed JSON. */
  body?: string
  /** Answer this late (after the client's timeout, say). */
  delayMs?: number
  /** The JSON payload: given what the source would normally answer for the path (a schema change, say). */
  json?: (normal: unknown) => unknown
}

const recorded = new Map<string, unknown>()
/** A fresh copy of a recorded payload, read from disk once. */
function recordedCopy<T>(name: string): T {
  if (!recorded.has(name)) recorded.set(name, recordedJson(name))
  return structuredClone(recorded.get(name)) as T
}

/**
 * A local stand-in for all three external sources at once, on 127.0.0.1, answering for ANY identifier with the
 * recorded real payloads (re-labelled with the identifier asked for), so a whole register can be refreshed offline:
 *   CQC               `${baseUrl}/cqc`  /locations/{id}, /providers/{id}, /changes/location
 *   FSA food hygiene  `${baseUrl}/fhrs` /Establishments/{id}
 *   Companies House   `${baseUrl}/ch`   /company/{number}
 * Tests change what a source says (a rating, a status), make identifiers unknown (404), make a source fail (any
 * status) or slow (delay), and read which requests arrived.
 */
export class SourceServer {
  readonly requests: Array<{ path: string; query: URLSearchParams }> = []
  /** CQC overall rating and report date per location; default: the recorded location's (Outstanding, 2019-10-31). */
  readonly cqcRatings = new Map<string, { rating: string; reportDate: string }>()
  /** CQC's registeredManagerAbsentDate per location (its registered manager contacts then removed). */
  readonly cqcManagerAbsentSince = new Map<string, string>()
  /** Company number CQC holds for a provider. */
  readonly cqcProviderCompanies = new Map<string, string>()
  /** Location ids the CQC changes feed lists. */
  readonly cqcChanged = new Set<string>()
  /** Whole CQC location payloads to serve for an id instead of the relabelled recorded one. */
  readonly cqcPayloads = new Map<string, Record<string, unknown>>()
  /** FHRS rating value and date per FHRSID; default: the recorded 5 of 2016-09-16. */
  readonly fhrsRatings = new Map<string, { value: string; date: string }>()
  /** Companies House status per company number; default: active. */
  readonly companyStatuses = new Map<string, string>()
  /** Identifiers that answer 404 (any source). */
  readonly unknown = new Set<string>()
  private readonly failures = new Map<string, number>()
  private readonly scripts = new Map<string, ScriptedAnswer[]>()
  private readonly delays = new Map<string, number>()
  private readonly waiters: Array<{ prefix: string; resolve: () => void }> = []
  private address = ''

  private constructor(private readonly server: Server) {}

  static async start(port = 0): Promise<SourceServer> {
    const server = createServer((req, res) => instance.handle(req, res))
    const instance = new SourceServer(server)
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    instance.address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    return instance
  }

  get baseUrl(): string {
    return this.address
  }

  /** Environment for a refresh against this server (config names of SPEC §9). */
  env(): Record<string, string> {
    return {
      CQC_API_BASE: `${this.address}/cqc`,
      CQC_API_KEY: 'test-cqc-key',
      FHRS_API_BASE: `${this.address}/fhrs`,
      COMPANIES_HOUSE_API_BASE: `${this.address}/ch`,
      COMPANIES_HOUSE_API_KEY: 'test-ch-key',
    }
  }

  /** Every request under `prefix` ('/cqc', '/fhrs', '/ch') answers `status` (undefined: back to normal). */
  fail(prefix: string, status: number | undefined): this {
    if (status === undefined) this.failures.delete(prefix)
    else this.failures.set(prefix, status)
    return this
  }

  /**
   * The next requests under `prefix` get these answers, one each, before the source answers normally again: a status
   * (429 with Retry-After...), a raw body (malformed JSON), a delay (a timeout) or a replacement JSON payload.
   */
  script(prefix: string, ...answers: ScriptedAnswer[]): this {
    this.scripts.set(prefix, [...(this.scripts.get(prefix) ?? []), ...answers])
    return this
  }

  /** Every request under `prefix` waits `ms` before answering. */
  delay(prefix: string, ms: number | undefined): this {
    if (ms === undefined) this.delays.delete(prefix)
    else this.delays.set(prefix, ms)
    return this
  }

  /** Resolves when a request under `prefix` arrives (at once if one already has). */
  waitForRequest(prefix: string): Promise<void> {
    if (this.requests.some((r) => r.path.startsWith(prefix))) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push({ prefix, resolve }))
  }

  requestsTo(prefix: string): Array<{ path: string; query: URLSearchParams }> {
    return this.requests.filter((r) => r.path.startsWith(prefix))
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', this.address)
    const path = decodeURIComponent(url.pathname)
    this.requests.push({ path, query: url.searchParams })
    for (const waiter of this.waiters.splice(0)) {
      if (path.startsWith(waiter.prefix)) waiter.resolve()
      else this.waiters.push(waiter)
    }
    const prefix = `/${path.split('/')[1] ?? ''}`
    const send = (status: number, body: unknown) => {
      if (res.destroyed) return
      res.writeHead(status, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    const scripted = this.scripts.get(prefix)?.shift()
    if (scripted) {
      const reply = () => {
        if (res.destroyed) return
        const found = scripted.json === undefined ? undefined : scripted.json(this.route(path))
        res.writeHead(scripted.status ?? 200, { 'Content-Type': 'application/json', ...scripted.headers })
        res.end(scripted.body ?? (found === undefined ? '' : JSON.stringify(found)))
      }
      if (scripted.delayMs) setTimeout(reply, scripted.delayMs)
      else reply()
      return
    }
    const answer = () => {
      const failure = this.failures.get(prefix)
      if (failure !== undefined) return send(failure, { error: `scripted failure ${failure}` })
      const found = this.route(path)
      if (found === undefined) return send(404, { error: 'not found' })
      send(200, found)
    }
    const delay = this.delays.get(prefix)
    if (delay) setTimeout(answer, delay)
    else answer()
  }

  private route(path: string): unknown {
    let match = /^\/cqc\/locations\/([^/]+)$/.exec(path)
    if (match) return this.unknown.has(match[1]!) ? undefined : this.cqcLocation(match[1]!)
    match = /^\/cqc\/providers\/([^/]+)$/.exec(path)
    if (match) {
      const providerId = match[1]!
      return {
        providerId,
        name: `Provider ${providerId}`,
        companiesHouseNumber: this.cqcProviderCompanies.get(providerId) ?? null,
      }
    }
    if (path === '/cqc/changes/location') {
      return { total: this.cqcChanged.size, page: 1, perPage: 1000, totalPages: 1, changes: [...this.cqcChanged] }
    }
    match = /^\/fhrs\/Establishments\/([^/]+)$/.exec(path)
    if (match) return this.unknown.has(match[1]!) ? undefined : this.establishment(match[1]!)
    match = /^\/ch\/company\/([^/]+)$/.exec(path)
    if (match) return this.unknown.has(match[1]!) ? undefined : this.company(match[1]!)
    return undefined
  }

  private cqcLocation(locationId: string) {
    const payload = this.cqcPayloads.get(locationId)
    if (payload) return structuredClone(payload)
    const location = recordedCopy<Record<string, unknown>>('cqc-location-1-125856395.json')
    location.locationId = locationId
    location.providerId = `P-${locationId}`
    const absentSince = this.cqcManagerAbsentSince.get(locationId)
    if (absentSince) {
      location.registeredManagerAbsentDate = absentSince
      location.regulatedActivities = (location.regulatedActivities as Array<Record<string, unknown>>).map(
        (activity) => ({ ...activity, contacts: [] }),
      )
    }
    const override = this.cqcRatings.get(locationId)
    if (override) {
      location.currentRatings = {
        overall: { rating: override.rating, reportDate: override.reportDate, reportLinkId: `report-${locationId}` },
        reportDate: override.reportDate,
      }
    }
    return location
  }

  private establishment(fhrsId: string) {
    const { establishments } = recordedCopy<{ establishments: Array<Record<string, unknown>> }>(
      'fhrs-establishments.json',
    )
    const establishment: Record<string, unknown> = {
      ...establishments[0]!,
      FHRSID: Number(fhrsId),
      BusinessName: `Kitchen ${fhrsId}`,
    }
    const override = this.fhrsRatings.get(fhrsId)
    if (override) {
      establishment.RatingValue = override.value
      establishment.RatingDate = `${override.date}T00:00:00`
    }
    return establishment
  }

  private company(companyNumber: string) {
    const company = recordedCopy<Record<string, unknown>>('companies-house-company-06070408.json')
    company.company_number = companyNumber
    company.company_status = this.companyStatuses.get(companyNumber) ?? 'active'
    return company
  }
}
