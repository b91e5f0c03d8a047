/**
 * A small JSON/text client over global fetch for the external sources: per-request timeouts, retries with
 * exponential backoff and jitter on 429 / 5xx / network failures, Retry-After, an optional rate limiter,
 * and one error class per way a request can fail.
 */

export type Query = Record<string, string | number | boolean | undefined>

interface FailureContext {
  source: string
  method: string
  /** Path and query as asked for, e.g. `/locations/1-123`: what a person reads in the run log. */
  path: string
  url: string
  attempts: number
}

/** Base class: an HTTP request to a source failed for good. `status` is set when the source answered. */
export class SourceHttpError extends Error {
  readonly source: string
  readonly url: string
  readonly path: string
  readonly attempts: number
  readonly status: number | undefined

  constructor(context: FailureContext, problem: string, status?: number, options?: { cause?: unknown }) {
    const tries = context.attempts === 1 ? '1 attempt' : `${context.attempts} attempts`
    super(`${context.source}: ${context.method} ${context.path} failed after ${tries}: ${problem}`, options)
    this.name = 'SourceHttpError'
    this.source = context.source
    this.url = context.url
    this.path = context.path
    this.attempts = context.attempts
    this.status = status
  }

  get notFound(): boolean {
    return this.status === 404
  }
}

/** No answer within the timeout, on every attempt. */
export class SourceTimeoutError extends SourceHttpError {
  constructor(context: FailureContext, timeoutMs: number) {
    super(context, `no response within ${timeoutMs} ms`)
    this.name = 'SourceTimeoutError'
  }
}

/** The connection failed (refused, reset, DNS...), on every attempt. */
export class SourceNetworkError extends SourceHttpError {
  constructor(context: FailureContext, cause: unknown) {
    super(context, `network error: ${describeCause(cause)}`, undefined, { cause })
    this.name = 'SourceNetworkError'
  }
}

/** The source answered 2xx but the body is not the JSON it should be. Not retried. */
export class SourceMalformedResponseError extends SourceHttpError {
  constructor(context: FailureContext, status: number, problem: string) {
    super(context, problem, status)
    this.name = 'SourceMalformedResponseError'
  }
}

export interface RequestGate {
  acquire(): Promise<void>
}

/**
 * Recognises a "soft" rate limit: a 2xx whose body says to slow down (CQC answers 200 with
 * `{"statusCode":429,"message":"... N seconds ..."}`). Returns how long to wait, or null for a real answer.
 */
export type SoftLimitDetector = (body: unknown) => { waitMs?: number } | null

export interface HttpClientOptions {
  /** Used in error messages: "CQC API", "Companies House"... */
  sourceName: string
  baseUrl: string
  headers?: Record<string, string>
  timeoutMs?: number
  maxAttempts?: number
  /** Delay before the first retry; doubles each time (with jitter) up to `maxBackoffMs`. */
  backoffMs?: number
  maxBackoffMs?: number
  /** Upper bound on a wait asked for by Retry-After or a soft limit. */
  maxRetryAfterMs?: number
  sleep?: (ms: number) => Promise<void>
  random?: () => number
  rateLimiter?: RequestGate
  softLimit?: SoftLimitDetector
  fetch?: typeof fetch
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

type Outcome =
  | { kind: 'answer'; status: number; text: string; headers: Headers }
  | { kind: 'timeout' }
  | { kind: 'network'; cause: unknown }

export class HttpClient {
  readonly sourceName: string
  private readonly base: URL
  private readonly headers: Record<string, string>
  private readonly timeoutMs: number
  private readonly maxAttempts: number
  private readonly backoffMs: number
  private readonly maxBackoffMs: number
  private readonly maxRetryAfterMs: number
  private readonly sleep: (ms: number) => Promise<void>
  private readonly random: () => number
  private readonly rateLimiter: RequestGate | undefined
  private readonly softLimit: SoftLimitDetector | undefined
  private readonly fetchImpl: typeof fetch

  constructor(options: HttpClientOptions) {
    this.sourceName = options.sourceName
    this.base = new URL(options.baseUrl)
    this.headers = options.headers ?? {}
    this.timeoutMs = options.timeoutMs ?? 30_000
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3)
    this.backoffMs = options.backoffMs ?? 500
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 6 * 60_000
    this.sleep = options.sleep ?? defaultSleep
    this.random = options.random ?? Math.random
    this.rateLimiter = options.rateLimiter
    this.softLimit = options.softLimit
    this.fetchImpl = options.fetch ?? globalThis.fetch
  }

  /** GET and parse JSON; any non-2xx status (after retries) throws. */
  async getJson(path: string, query?: Query): Promise<unknown> {
    return this.request(path, query, 'json', false)
  }

  /** GET and parse JSON, or `undefined` when the source answers 404. */
  async getJsonIfExists(path: string, query?: Query): Promise<unknown> {
    return this.request(path, query, 'json', true)
  }

  async getText(path: string, query?: Query): Promise<string> {
    return (await this.request(path, query, 'text', false)) as string
  }

  urlFor(path: string, query?: Query): URL {
    const url = new URL(this.base.href)
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value))
    }
    return url
  }

  private async request(path: string, query: Query | undefined, as: 'json' | 'text', allowNotFound: boolean) {
    const url = this.urlFor(path, query)
    const shownPath = displayPath(path, query)
    const context = (attempts: number): FailureContext => ({
      source: this.sourceName,
      method: 'GET',
      path: shownPath,
      url: url.href,
      attempts,
    })
    const headers = { Accept: as === 'json' ? 'application/json' : 'text/plain', ...this.headers }
    let lastFailure: () => SourceHttpError = () => new SourceHttpError(context(0), 'no attempt made')

    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const isLast = attempt === this.maxAttempts
      const outcome = await this.attempt(url, headers)
      let waitMs = this.backoff(attempt)

      if (outcome.kind === 'timeout') {
        lastFailure = () => new SourceTimeoutError(context(attempt), this.timeoutMs)
      } else if (outcome.kind === 'network') {
        lastFailure = () => new SourceNetworkError(context(attempt), outcome.cause)
      } else if (outcome.status === 404 && allowNotFound) {
        return undefined
      } else if (outcome.status === 429 || outcome.status >= 500) {
        const status = outcome.status
        lastFailure = () => new SourceHttpError(context(attempt), `HTTP ${status}${statusHint(status)}`, status)
        const retryAfter = parseRetryAfter(outcome.headers.get('retry-after'), Date.now())
        if (retryAfter !== null) waitMs = Math.min(retryAfter, this.maxRetryAfterMs)
      } else if (outcome.status < 200 || outcome.status >= 300) {
        throw new SourceHttpError(
          context(attempt),
          `HTTP ${outcome.status}${statusHint(outcome.status)}`,
          outcome.status,
        )
      } else if (as === 'text') {
        return outcome.text
      } else {
        const body = parseJson(outcome.text, () => context(attempt), outcome.status)
        const soft = this.softLimit?.(body) ?? null
        if (soft === null) return body
        const message = softLimitMessage(body)
        lastFailure = () =>
          new SourceHttpError(context(attempt), `rate limited (HTTP 200 with statusCode 429${message})`, 429)
        if (soft.waitMs !== undefined) waitMs = Math.min(soft.waitMs, this.maxRetryAfterMs)
      }

      if (isLast) break
      await this.sleep(waitMs)
    }
    throw lastFailure()
  }

  private async attempt(url: URL, headers: Record<string, string>): Promise<Outcome> {
    await this.rateLimiter?.acquire()
    try {
      const response = await this.fetchImpl(url, { headers, signal: AbortSignal.timeout(this.timeoutMs) })
      const text = await response.text()
      return { kind: 'answer', status: response.status, text, headers: response.headers }
    } catch (error) {
      if (isTimeout(error)) return { kind: 'timeout' }
      return { kind: 'network', cause: error }
    }
  }

  /** Exponential backoff with "equal jitter": half the delay fixed, half random. */
  private backoff(attempt: number): number {
    const delay = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempt - 1))
    return Math.round(delay / 2 + (this.random() * delay) / 2)
  }
}

function parseJson(text: string, context: () => FailureContext, status: number): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    const preview = text.trim().slice(0, 60).replace(/\s+/g, ' ')
    const problem =
      text.trim() === '' ? 'empty body where JSON was expected' : `malformed JSON (${describeCause(error)})`
    throw new SourceMalformedResponseError(
      context(),
      status,
      preview ? `${problem}; body starts "${preview}"` : problem,
    )
  }
}

/** Retry-After is either delay-seconds or an HTTP date. Returns milliseconds, or null when absent/unreadable. */
export function parseRetryAfter(header: string | null, nowMs: number): number | null {
  if (header === null) return null
  const text = header.trim()
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000)
  const at = Date.parse(text)
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs)
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
}

function describeCause(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : ''
    return `${error.message}${cause}`
  }
  return String(error)
}

function statusHint(status: number): string {
  if (status === 401 || status === 403) return ' (check the API key)'
  if (status === 429) return ' (rate limited)'
  return ''
}

function softLimitMessage(body: unknown): string {
  const message = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : undefined
  return typeof message === 'string' ? `: ${message}` : ''
}

function displayPath(path: string, query: Query | undefined): string {
  const shown = path.startsWith('/') ? path : `/${path}`
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) params.set(key, String(value))
  const search = params.toString()
  return search ? `${shown}?${search}` : shown
}

/**
 * Runs `task` over `items` with at most `concurrency` in flight; results keep the input order. When a task throws, no
 * further item is started, the tasks already in flight are awaited, and the first error is thrown.
 */
export async function mapConcurrently<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  let failure: { error: unknown } | undefined
  const worker = async () => {
    while (next < items.length && failure === undefined) {
      const index = next++
      try {
        results[index] = await task(items[index] as T, index)
      } catch (error) {
        failure ??= { error }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker))
  if (failure) throw failure.error
  return results
}

/** A source that keeps failing request after request: the connector gave up instead of trying every identifier. */
export class SourceUnavailableError extends Error {
  readonly source: string
  readonly lastFailure: SourceHttpError

  constructor(source: string, failures: number, lastFailure: SourceHttpError) {
    super(
      `${source}: gave up after ${failures} requests in a row failed (each retried); the source looks unavailable. ` +
        `Last: ${lastFailure.message}`,
      { cause: lastFailure },
    )
    this.name = 'SourceUnavailableError'
    this.source = source
    this.lastFailure = lastFailure
  }
}

/** Requests in a row that may fail (after their retries) before a connector gives the whole source up. */
export const DEFAULT_MAX_CONSECUTIVE_FAILURES = 10

/**
 * Counts requests that failed for good since the last one that got an answer. A source that is down or hanging would
 * otherwise cost every identifier its full timeout and retries (hours for a national register) and hold up the
 * sources after it; past `limit` failures in a row, `failed` throws SourceUnavailableError and the source fails.
 */
export class FailureStreak {
  private streak = 0

  constructor(
    private readonly source: string,
    private readonly limit: number = DEFAULT_MAX_CONSECUTIVE_FAILURES,
  ) {}

  /** A request was answered (even 404 or an unusable payload): the source is up. */
  answered(): void {
    this.streak = 0
  }

  failed(error: SourceHttpError): void {
    this.streak++
    if (this.limit > 0 && this.streak >= this.limit) throw new SourceUnavailableError(this.source, this.streak, error)
  }
}
