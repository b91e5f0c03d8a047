import { z } from 'zod'
import { describeIssues, type RejectedRecord } from '../types.js'
import { normaliseCompanyNumber } from './connector.js'
import { companyProfileSchema, type CompanyProfile } from './profile.js'

/**
 * The Companies House streaming API's company-profile stream (`GET {stream}/companies?timepoint=N`): one JSON event
 * per line, blank lines as heartbeats, an open connection that never ends by itself. Each event carries the whole
 * profile and its place in the stream (`event.timepoint`). The read resumes from the last timepoint handled and
 * skips any event at or before it, so a reconnect (or a server that resends the event at the timepoint asked for)
 * neither loses nor doubles an event.
 *
 * It stops when caught up: after the first event published at or after `stopAt` (the run's start), or when no
 * event has arrived for `idleMs` (heartbeats alone mean there is nothing new), whichever comes first.
 */
export const streamEventSchema = z.object({
  resource_kind: z.string().nullish(),
  resource_id: z.string().trim().min(1),
  data: z.unknown(),
  event: z.object({
    timepoint: z.number().int().nonnegative(),
    published_at: z.string().trim().min(1),
    type: z.enum(['changed', 'deleted']),
  }),
})

export interface CompanyStreamEvent {
  timepoint: number
  /** ISO date of publication, the date the change was first seen. */
  publishedOn: string
  type: 'changed' | 'deleted'
  companyNumber: string
  /** The profile of a changed event; null for a deleted one. */
  profile: CompanyProfile | null
}

export interface CompanyStreamBatch {
  events: CompanyStreamEvent[]
  rejects: RejectedRecord[]
  /** The last timepoint handled so far (kept or not), to store with the batch; null before the first event. */
  timepoint: number | null
}

export interface CompanyStreamOptions {
  /** e.g. https://stream.companieshouse.gov.uk */
  baseUrl: string
  apiKey?: string
  fromTimepoint: number | null
  stopAt: Date
  /** Companies whose events are kept; the others only move the timepoint on. */
  wanted: (companyNumber: string) => boolean
  /** Called with each batch, in stream order; the read waits for it (it stores the batch and its timepoint). */
  onBatch: (batch: CompanyStreamBatch) => Promise<void>
  batchSize?: number
  idleMs?: number
  /** Connections in a row that may end without a new event before the read is given up. */
  maxReconnects?: number
  /** Wait before reconnecting after a drop, 429 or 5xx (doubles each time). */
  backoffMs?: number
  onProgress?: (eventsRead: number) => void
}

export interface CompanyStreamSummary {
  linesRead: number
  eventsRead: number
  eventsKept: number
  rejected: number
  connections: number
  lastTimepoint: number | null
  stoppedBy: 'caught-up' | 'idle'
}

export class StreamTimepointTooOldError extends Error {}
export class CompanyStreamError extends Error {}

const DEFAULTS = { batchSize: 500, idleMs: 30_000, maxReconnects: 5, backoffMs: 1_000 }

export async function readCompanyStream(options: CompanyStreamOptions): Promise<CompanyStreamSummary> {
  const settings = { ...DEFAULTS, ...stripUndefined(options) }
  const summary: CompanyStreamSummary = {
    linesRead: 0,
    eventsRead: 0,
    eventsKept: 0,
    rejected: 0,
    connections: 0,
    lastTimepoint: options.fromTimepoint,
    stoppedBy: 'idle',
  }
  let batch: CompanyStreamBatch = { events: [], rejects: [], timepoint: options.fromTimepoint }
  let storedTimepoint = options.fromTimepoint
  /** Hands over what was read since the last batch, so it is stored with the timepoint it reached. */
  const flushIfMoved = async () => {
    if (batch.events.length === 0 && batch.rejects.length === 0 && summary.lastTimepoint === storedTimepoint) return
    const full = { ...batch, timepoint: summary.lastTimepoint }
    batch = { events: [], rejects: [], timepoint: summary.lastTimepoint }
    await options.onBatch(full)
    storedTimepoint = full.timepoint
  }

  // A line that is not an event has no timepoint to skip it by when a resume sends it again: remembered instead.
  const rejectedLines = new Set<string>()
  const handleLine = async (line: string): Promise<'go-on' | 'caught-up'> => {
    summary.linesRead++
    const outcome = readLine(line, summary.lastTimepoint, options)
    if (outcome.kind === 'heartbeat' || outcome.kind === 'already-handled') return 'go-on'
    if (outcome.kind === 'reject' && outcome.timepoint === null) {
      if (rejectedLines.has(line)) return 'go-on'
      rejectedLines.add(line)
    }
    if (outcome.kind === 'reject') {
      summary.rejected++
      batch.rejects.push(outcome.reject)
      if (outcome.timepoint !== null) summary.lastTimepoint = outcome.timepoint
    } else {
      summary.eventsRead++
      summary.lastTimepoint = outcome.event.timepoint
      if (options.wanted(outcome.event.companyNumber)) {
        summary.eventsKept++
        batch.events.push(outcome.event)
      }
      options.onProgress?.(summary.eventsRead)
    }
    if (batch.events.length + batch.rejects.length >= settings.batchSize) await flushIfMoved()
    return outcome.kind === 'event' && outcome.publishedAt >= options.stopAt.getTime() ? 'caught-up' : 'go-on'
  }

  let fruitless = 0
  let backoff = settings.backoffMs
  for (;;) {
    summary.connections++
    const before = summary.eventsRead + summary.rejected
    const ending = await readOneConnection(options, summary.lastTimepoint, settings.idleMs, handleLine)
    await flushIfMoved()
    if (ending === 'caught-up' || ending === 'idle') {
      summary.stoppedBy = ending
      return summary
    }
    fruitless = summary.eventsRead + summary.rejected > before ? 0 : fruitless + 1
    if (fruitless > settings.maxReconnects) {
      throw new CompanyStreamError(
        `Companies House stream: ${fruitless} connections in a row ended without an event (last: ${ending.reason})`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, fruitless === 0 ? 0 : backoff))
    backoff = fruitless === 0 ? settings.backoffMs : Math.min(backoff * 2, 60_000)
  }
}

type LineOutcome =
  | { kind: 'heartbeat' }
  | { kind: 'already-handled' }
  | { kind: 'reject'; reject: RejectedRecord; timepoint: number | null }
  | { kind: 'event'; event: CompanyStreamEvent; publishedAt: number }

function readLine(line: string, lastTimepoint: number | null, options: CompanyStreamOptions): LineOutcome {
  const text = line.trim()
  if (text === '') return { kind: 'heartbeat' }
  const where = `stream line after timepoint ${lastTimepoint ?? 'start'}`
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    return {
      kind: 'reject',
      reject: { record: where, reason: `not JSON: ${(error as Error).message}` },
      timepoint: null,
    }
  }
  const parsed = streamEventSchema.safeParse(json)
  if (!parsed.success) {
    const { field, reason } = describeIssues(parsed.error.issues)
    const timepoint = timepointOf(json)
    if (timepoint !== null && lastTimepoint !== null && timepoint <= lastTimepoint) return { kind: 'already-handled' }
    return { kind: 'reject', reject: { record: where, ...(field ? { field } : {}), reason }, timepoint }
  }
  const { event, resource_id: resourceId, data } = parsed.data
  if (lastTimepoint !== null && event.timepoint <= lastTimepoint) return { kind: 'already-handled' }
  const record = `company ${resourceId} (timepoint ${event.timepoint})`
  const companyNumber = normaliseCompanyNumber(resourceId)
  const published = Date.parse(
    /[zZ]|[+-]\d{2}:?\d{2}$/.test(event.published_at) ? event.published_at : `${event.published_at}Z`,
  )
  if (companyNumber === null || Number.isNaN(published)) {
    const reason =
      companyNumber === null ? `"${resourceId}" is not a company number` : 'event.published_at is not a date'
    return { kind: 'reject', reject: { record, reason }, timepoint: event.timepoint }
  }
  let profile: CompanyProfile | null = null
  if (event.type === 'changed' && options.wanted(companyNumber)) {
    const profileParsed = companyProfileSchema.safeParse(data)
    if (!profileParsed.success) {
      const { field, reason } = describeIssues(profileParsed.error.issues)
      return { kind: 'reject', reject: { record, field: `data.${field ?? ''}`, reason }, timepoint: event.timepoint }
    }
    profile = profileParsed.data
  }
  const publishedOn = new Date(published).toISOString().slice(0, 10)
  return {
    kind: 'event',
    event: { timepoint: event.timepoint, publishedOn, type: event.type, companyNumber, profile },
    publishedAt: published,
  }
}

function timepointOf(json: unknown): number | null {
  const shape = z.object({ event: z.object({ timepoint: z.number().int().nonnegative() }) }).safeParse(json)
  return shape.success ? shape.data.event.timepoint : null
}

type ConnectionEnding = 'caught-up' | 'idle' | { reason: string }

/** One connection: reads lines until caught up, idle, or the connection ends (a drop, or a refusal to retry). */
async function readOneConnection(
  options: CompanyStreamOptions,
  timepoint: number | null,
  idleMs: number,
  handleLine: (line: string) => Promise<'go-on' | 'caught-up'>,
): Promise<ConnectionEnding> {
  const url = new URL(`${options.baseUrl.replace(/\/+$/, '')}/companies`)
  if (timepoint !== null) url.searchParams.set('timepoint', String(timepoint))
  const abort = new AbortController()
  let idleTimer: NodeJS.Timeout | undefined
  let idled = false
  const armIdle = () => {
    clearTimeout(idleTimer)
    idleTimer = setTimeout(() => {
      idled = true
      abort.abort()
    }, idleMs)
  }
  try {
    armIdle()
    const response = await fetch(url, {
      headers: options.apiKey ? { Authorization: `Basic ${Buffer.from(`${options.apiKey}:`).toString('base64')}` } : {},
      signal: abort.signal,
    })
    if (response.status === 416) {
      throw new StreamTimepointTooOldError(`Companies House stream: timepoint ${timepoint} is too old (416)`)
    }
    if (response.status === 401 || response.status === 403) {
      throw new CompanyStreamError(`Companies House stream refused the key (${response.status})`)
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel().catch(() => undefined)
      return { reason: `HTTP ${response.status}` }
    }
    const decoder = new TextDecoder()
    let pending = ''
    for await (const chunk of response.body) {
      pending += decoder.decode(chunk as Uint8Array, { stream: true })
      let newline = pending.indexOf('\n')
      while (newline >= 0) {
        const line = pending.slice(0, newline)
        pending = pending.slice(newline + 1)
        // Heartbeats keep the connection open but say nothing new: only an event (and the time taken to store it)
        // holds the idle stop off.
        const isEvent = line.trim() !== ''
        if (isEvent) clearTimeout(idleTimer)
        const verdict = await handleLine(line).catch((error: unknown) => {
          throw new HandlerFailure(error)
        })
        if (verdict === 'caught-up') return 'caught-up'
        if (isEvent) armIdle()
        newline = pending.indexOf('\n')
      }
    }
    // The connection ended (the stream never ends by itself): a partial last line is resent after the resume.
    return { reason: 'the connection ended' }
  } catch (error) {
    if (error instanceof HandlerFailure) throw error.cause
    if (error instanceof StreamTimepointTooOldError || error instanceof CompanyStreamError) throw error
    if (idled) return 'idle'
    return { reason: (error as Error).message }
  } finally {
    clearTimeout(idleTimer)
    abort.abort()
  }
}

/** An error of the batch handler (storing), which must end the read, unlike a dropped connection. */
class HandlerFailure {
  constructor(readonly cause: unknown) {}
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
