import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One line of the stream: an event (with its timepoint) or a raw line a test wants sent as is (malformed). */
export type StreamItem = { timepoint: number; line: string } | { timepoint: null; line: string }

export interface StreamRequest {
  timepoint: number | null
  authorization: string | undefined
}

export interface CompanyStreamServerOptions {
  apiKey?: string
  /** Interval of the blank heartbeat lines once the backlog is sent (and between events). */
  heartbeatMs?: number
  /**
   * Drop the first connection after sending this many lines: the next line goes half-way, then the socket is
   * destroyed, as a network failure would.
   */
  dropFirstConnectionAfter?: number
  /** Answer with this status instead of the stream (e.g. 416 for a timepoint too old). */
  status?: number
  /** Without a timepoint the stream starts "now": at this item (default: the end, nothing old). */
  liveFrom?: number
}

/** A company-profile stream event as Companies House sends it (resource_kind, resource_id, data, event). */
export function companyEvent(
  timepoint: number,
  companyNumber: string,
  publishedAt: string,
  profile: Record<string, unknown> | null,
  type: 'changed' | 'deleted' = 'changed',
): StreamItem {
  const event = {
    resource_kind: 'company-profile',
    resource_uri: `/company/${companyNumber}`,
    resource_id: companyNumber,
    data: profile ?? { company_number: companyNumber },
    event: { timepoint, published_at: publishedAt, type },
  }
  return { timepoint, line: JSON.stringify(event) }
}

/**
 * A local Companies House streaming API on 127.0.0.1: `GET /companies?timepoint=N` sends, chunked, every item from
 * the first event at or after N (the event at N itself again, as a resume may), with heartbeat blank lines between,
 * then heartbeats until the client goes. It can drop the first connection mid-line.
 */
export class CompanyStreamServer {
  readonly requests: StreamRequest[] = []
  items: StreamItem[] = []
  private readonly server: Server
  private readonly open = new Set<ServerResponse>()
  private address = ''

  private constructor(private readonly options: CompanyStreamServerOptions) {
    this.server = createServer((req, res) => void this.handle(req, res))
  }

  static async start(options: CompanyStreamServerOptions = {}): Promise<CompanyStreamServer> {
    const instance = new CompanyStreamServer(options)
    await new Promise<void>((resolve) => instance.server.listen(0, '127.0.0.1', resolve))
    instance.address = `http://127.0.0.1:${(instance.server.address() as AddressInfo).port}`
    return instance
  }

  get baseUrl(): string {
    return this.address
  }

  async close(): Promise<void> {
    for (const res of this.open) res.destroy()
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const raw = url.searchParams.get('timepoint')
    const timepoint = raw === null ? null : Number(raw)
    this.requests.push({ timepoint, authorization: req.headers.authorization })
    const expected = this.options.apiKey ? `Basic ${Buffer.from(`${this.options.apiKey}:`).toString('base64')}` : null
    if (expected && req.headers.authorization !== expected) return void res.writeHead(401).end()
    if (url.pathname !== '/companies') return void res.writeHead(404).end()
    if (this.options.status) return void res.writeHead(this.options.status).end()

    const start =
      timepoint === null
        ? (this.options.liveFrom ?? this.items.length)
        : this.items.findIndex((item) => item.timepoint !== null && item.timepoint >= timepoint)
    const toSend = start < 0 ? [] : this.items.slice(start)
    const drop = this.requests.length === 1 ? this.options.dropFirstConnectionAfter : undefined
    res.writeHead(200, { 'Content-Type': 'application/json' })
    this.open.add(res)
    res.on('close', () => this.open.delete(res))
    const heartbeatMs = this.options.heartbeatMs ?? 20
    let sent = 0
    for (const item of toSend) {
      if (res.destroyed) return
      if (drop !== undefined && sent === drop) {
        res.write(item.line.slice(0, Math.floor(item.line.length / 2)))
        await pause(5)
        res.socket?.destroy()
        return
      }
      // A line in two chunks, then a heartbeat: the reader must join chunks and skip blank lines.
      const half = Math.floor(item.line.length / 2)
      res.write(item.line.slice(0, half))
      await pause(1)
      res.write(`${item.line.slice(half)}\n\n`)
      sent++
    }
    while (!res.destroyed) {
      res.write('\n')
      await pause(heartbeatMs)
    }
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
