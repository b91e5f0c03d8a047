import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  HttpClient,
  mapConcurrently,
  parseRetryAfter,
  SourceHttpError,
  SourceMalformedResponseError,
  SourceNetworkError,
  SourceTimeoutError,
  type HttpClientOptions,
} from '../../src/ingest/http.js'
import { cqcSoftLimit } from '../../src/ingest/cqc/apiClient.js'
import { RecordedServer } from '../helpers/recordedServer.js'

let server: RecordedServer
let sleeps: number[]

beforeEach(async () => {
  server = await RecordedServer.start()
  sleeps = []
})
afterEach(async () => {
  await server.close()
})

function client(options: Partial<HttpClientOptions> = {}) {
  return new HttpClient({
    sourceName: 'CQC API',
    baseUrl: server.baseUrl,
    timeoutMs: 1000,
    maxAttempts: 3,
    backoffMs: 10,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms)
    },
    ...options,
  })
}

describe('HttpClient', () => {
  it('retries a 429 and honours Retry-After', async () => {
    server.on('/locations/1-123', { status: 429, headers: { 'Retry-After': '2' } }, { json: { ok: true } })
    await expect(client().getJson('/locations/1-123')).resolves.toEqual({ ok: true })
    expect(sleeps).toEqual([2000])
    expect(server.requestsTo('/locations/1-123')).toHaveLength(2)
  })

  it('caps a Retry-After wait at maxRetryAfterMs', async () => {
    server.on('/x', { status: 429, headers: { 'Retry-After': '3600' } }, { json: 1 })
    await client({ maxRetryAfterMs: 5000 }).getJson('/x')
    expect(sleeps).toEqual([5000])
  })

  it('gives up after the maximum attempts on repeated 5xx, with a message naming the source, path and status', async () => {
    server.on('/locations/1-123', { status: 500 })
    const error = await client()
      .getJson('/locations/1-123')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SourceHttpError)
    expect((error as SourceHttpError).message).toBe('CQC API: GET /locations/1-123 failed after 3 attempts: HTTP 500')
    expect((error as SourceHttpError).status).toBe(500)
    expect((error as SourceHttpError).attempts).toBe(3)
    expect((error as SourceHttpError).url).toBe(`${server.baseUrl}/locations/1-123`)
    expect(server.requestsTo('/locations/1-123')).toHaveLength(3)
  })

  it('backs off exponentially between retries, with jitter bounded to [delay/2, delay]', async () => {
    server.on('/x', { status: 503 })
    await client({ maxAttempts: 4, backoffMs: 100, random: () => 1 })
      .getJson('/x')
      .catch(() => undefined)
    expect(sleeps).toEqual([100, 200, 400])
    sleeps = []
    await client({ maxAttempts: 3, backoffMs: 100, random: () => 0 })
      .getJson('/x')
      .catch(() => undefined)
    expect(sleeps).toEqual([50, 100])
  })

  it('recovers when a 5xx is followed by success', async () => {
    server.on('/x', { status: 502 }, { status: 500 }, { json: [1, 2] })
    await expect(client().getJson('/x')).resolves.toEqual([1, 2])
  })

  it('times out a slow answer on every attempt and says so', async () => {
    server.on('/slow', { delayMs: 2000, json: {} })
    const started = Date.now()
    const error = await client({ timeoutMs: 50, maxAttempts: 2 })
      .getJson('/slow')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SourceTimeoutError)
    expect((error as Error).message).toBe('CQC API: GET /slow failed after 2 attempts: no response within 50 ms')
    expect(Date.now() - started).toBeLessThan(1500)
  })

  it('reports malformed JSON clearly and does not retry it', async () => {
    server.on('/bad', { body: '{"locationId": "1-1", oops' })
    const error = await client()
      .getJson('/bad')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SourceMalformedResponseError)
    expect((error as Error).message).toMatch(/^CQC API: GET \/bad failed after 1 attempt: malformed JSON/)
    expect((error as Error).message).toContain('body starts "{"locationId": "1-1", oops"')
    expect(server.requestsTo('/bad')).toHaveLength(1)
  })

  it('reports an empty body where JSON was expected', async () => {
    server.on('/empty', { body: '' })
    await expect(client().getJson('/empty')).rejects.toThrow('empty body where JSON was expected')
  })

  it('does not retry other 4xx and hints at the key on 401/403', async () => {
    server.on('/secret', { status: 403 })
    await expect(client().getJson('/secret')).rejects.toThrow(
      'CQC API: GET /secret failed after 1 attempt: HTTP 403 (check the API key)',
    )
    expect(server.requestsTo('/secret')).toHaveLength(1)
  })

  it('returns undefined for 404 only when asked, and throws a notFound error otherwise', async () => {
    await expect(client().getJsonIfExists('/missing')).resolves.toBeUndefined()
    const error = await client()
      .getJson('/missing')
      .catch((e: unknown) => e)
    expect((error as SourceHttpError).notFound).toBe(true)
  })

  it('waits and retries on the CQC soft limit (HTTP 200 with statusCode 429)', async () => {
    server.on(
      '/locations/1-1',
      { json: { statusCode: 429, message: 'Rate limit is exceeded. Try again in 3 seconds.' } },
      { json: { locationId: '1-1' } },
    )
    await expect(client({ softLimit: cqcSoftLimit }).getJson('/locations/1-1')).resolves.toEqual({
      locationId: '1-1',
    })
    expect(sleeps).toEqual([3000])
  })

  it('fails with a clear message when the soft limit persists', async () => {
    server.on('/x', { json: { statusCode: 429, message: 'Try again in 1 seconds.' } })
    await expect(client({ softLimit: cqcSoftLimit, maxAttempts: 2 }).getJson('/x')).rejects.toThrow(
      'CQC API: GET /x failed after 2 attempts: rate limited (HTTP 200 with statusCode 429: Try again in 1 seconds.)',
    )
  })

  it('reports a refused connection as a network error after retrying', async () => {
    const deadUrl = server.baseUrl
    await server.close()
    server = await RecordedServer.start()
    const error = await client({ baseUrl: deadUrl })
      .getJson('/x')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SourceNetworkError)
    expect((error as Error).message).toMatch(/^CQC API: GET \/x failed after 3 attempts: network error/)
  })

  it('keeps the base path and base query, and adds the request query', async () => {
    server.on('/public/v1/locations', { json: {} })
    await client({ baseUrl: `${server.baseUrl}/public/v1/?partnerCode=ACME` }).getJson('/locations', {
      page: 2,
      skip: undefined,
    })
    const [request] = server.requestsTo('/public/v1/locations')
    expect(request?.query.get('partnerCode')).toBe('ACME')
    expect(request?.query.get('page')).toBe('2')
    expect(request?.query.has('skip')).toBe(false)
  })

  it('asks the rate limiter before every attempt', async () => {
    let acquired = 0
    server.on('/x', { status: 500 }, { json: 1 })
    await client({ rateLimiter: { acquire: async () => void acquired++ } }).getJson('/x')
    expect(acquired).toBe(2)
  })
})

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2026-03-14T02:00:00Z')
    expect(parseRetryAfter('5', now)).toBe(5000)
    expect(parseRetryAfter('Sat, 14 Mar 2026 02:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter('Sat, 14 Mar 2026 01:00:00 GMT', now)).toBe(0)
    expect(parseRetryAfter('soon', now)).toBeNull()
    expect(parseRetryAfter(null, now)).toBeNull()
  })
})

describe('mapConcurrently', () => {
  it('keeps order and never runs more than the limit at once', async () => {
    let running = 0
    let peak = 0
    const result = await mapConcurrently([5, 1, 4, 2, 3], 2, async (n) => {
      running++
      peak = Math.max(peak, running)
      await new Promise((resolve) => setTimeout(resolve, n))
      running--
      return n * 10
    })
    expect(result).toEqual([50, 10, 40, 20, 30])
    expect(peak).toBe(2)
  })
})
