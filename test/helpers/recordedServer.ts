import { readFileSync } from 'node:fs'
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const RECORDED_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/recorded')

export function recordedPath(name: string): string {
  return path.join(RECORDED_DIR, name)
}

/** A recorded real payload, parsed. A fresh copy each call, so tests may change it. */
export function recordedJson<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(recordedPath(name), 'utf8')) as T
}

export interface ScriptedResponse {
  status?: number
  /** Sent as JSON. */
  json?: unknown
  /** Sent as is (e.g. malformed JSON). */
  body?: string
  headers?: Record<string, string>
  /** Wait this long before answering (for timeouts). */
  delayMs?: number
}

export interface RecordedRequest {
  method: string
  path: string
  query: URLSearchParams
  headers: IncomingHttpHeaders
}

export type Responder = ScriptedResponse | ((request: RecordedRequest) => ScriptedResponse)

/**
 * A local HTTP server on 127.0.0.1 (port 0) that answers with recorded payloads and can script failures.
 * Responses for a path are used in order; the last one repeats. Unknown paths get a 404.
 */
export class RecordedServer {
  readonly requests: RecordedRequest[] = []
  private readonly routes = new Map<string, Responder[]>()
  private readonly timers = new Set<NodeJS.Timeout>()

  private readonly server: Server
  private address = ''

  private constructor() {
    this.server = createServer((req, res) => this.handle(req, res))
  }

  get baseUrl(): string {
    return this.address
  }

  static async start(): Promise<RecordedServer> {
    const instance = new RecordedServer()
    await new Promise<void>((resolve) => instance.server.listen(0, '127.0.0.1', resolve))
    const { port } = instance.server.address() as AddressInfo
    instance.address = `http://127.0.0.1:${port}`
    return instance
  }

  /** Script the answers for `pathname` (no query string). Replaces earlier scripts for it. */
  on(pathname: string, ...responses: Responder[]): this {
    this.routes.set(pathname, responses)
    return this
  }

  requestsTo(pathname: string): RecordedRequest[] {
    return this.requests.filter((request) => request.path === pathname)
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer)
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', this.baseUrl)
    const request: RecordedRequest = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(url.pathname),
      query: url.searchParams,
      headers: req.headers,
    }
    this.requests.push(request)
    const script = this.routes.get(request.path)
    let responder: Responder = { status: 404, json: { error: 'not found' } }
    if (script && script.length > 0)
      responder = script.length > 1 ? (script.shift() as Responder) : (script[0] as Responder)
    const response = typeof responder === 'function' ? responder(request) : responder
    const send = () => {
      const body = response.body ?? (response.json === undefined ? '' : JSON.stringify(response.json))
      res.writeHead(response.status ?? 200, { 'Content-Type': 'application/json', ...response.headers })
      res.end(body)
    }
    if (response.delayMs) {
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        if (!res.destroyed) send()
      }, response.delayMs)
      this.timers.add(timer)
    } else {
      send()
    }
  }
}
