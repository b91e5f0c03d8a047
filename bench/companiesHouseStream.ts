/**
 * A national night with the Companies House streaming API (issue 13): the company-profile events of a night, generated
 * at run time (deterministically), served by a local stream on 127.0.0.1 as Companies House sends them (one JSON event
 * a line, blank heartbeat lines), and read by the overnight refresh as the schedule starts it, from the timepoint a
 * previous night stored, every council company already seen. Compared with the REST path: every council company
 * re-read at Companies House's limit of 600 requests per 5 minutes.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CompaniesHouseStreamRepository } from '../src/data/companiesHouseStream.js'
import { openDatabase } from '../src/data/database.js'
import { Random } from '../src/demo/random.js'

/** About the company-profile changes Companies House publishes on a working day (filings move accounts dates). */
export const NATIONAL_EVENTS_PER_NIGHT = 200_000
/** Companies on the register at Companies House: the chance an event is about one of the council's companies. */
const COMPANIES_ON_THE_REGISTER = 5_500_000
const STATUS_CHANGES = ['liquidation', 'administration', 'dissolved', 'voluntary-arrangement'] as const

export interface StreamNightFigures {
  events: number
  councilCompanies: number
  eventsForCouncilCompanies: number
  statusChanges: number
  wallSeconds: number
  cpuSeconds: number | null
  peakRssMb: number | null
  eventsPerSecond: number
  restRecheckMinutesAtLimit: number
  vsRestPath: number
  summary: string
}

interface RefreshOutcome {
  code: number | null
  wallMs: number
  cpuSeconds: number | null
  peakRssMb: number | null
  stdout: string
  stderr: string
}

/** The night's lines: events about random companies, the council's at their share of the register. */
function generateNight(
  companies: readonly string[],
  events: number,
): { lines: string[]; forCouncil: number; statusChanges: number } {
  const random = new Random(20261207)
  const councilShare = Math.max(companies.length / COMPANIES_ON_THE_REGISTER, 0.001)
  const published = Date.parse('2026-12-06T08:00:00Z')
  const lines: string[] = []
  let forCouncil = 0
  let statusChanges = 0
  for (let i = 0; i < events; i++) {
    const timepoint = 1_000_000 + i
    const ours = random.next() < councilShare
    const number = ours
      ? (companies[Math.floor(random.next() * companies.length)] as string)
      : String(20_000_000 + Math.floor(random.next() * 9_000_000)).padStart(8, '0')
    let status = 'active'
    if (ours) {
      forCouncil++
      if (random.next() < 0.1) {
        status = STATUS_CHANGES[Math.floor(random.next() * STATUS_CHANGES.length)] as string
        statusChanges++
      }
    }
    const publishedAt = new Date(published + Math.floor((i / events) * 16 * 3_600_000)).toISOString().slice(0, 19)
    lines.push(
      JSON.stringify({
        resource_kind: 'company-profile',
        resource_uri: `/company/${number}`,
        resource_id: number,
        data: {
          company_number: number,
          company_name: `COMPANY ${number} LIMITED`,
          company_status: status,
          type: 'ltd',
          date_of_creation: '2010-04-01',
          ...(status === 'dissolved' ? { date_of_cessation: '2026-12-06' } : {}),
          has_insolvency_history: status !== 'active' && status !== 'dissolved',
          accounts: { overdue: false, next_due: '2027-06-30' },
          registered_office_address: {
            address_line_1: '1 High Street',
            locality: 'Northbridge',
            postal_code: 'NB1 1AA',
          },
          sic_codes: ['87100'],
          links: { self: `/company/${number}` },
        },
        event: { timepoint, published_at: publishedAt, type: 'changed' },
      }),
    )
  }
  // Live events follow the backlog: the first published after the run started ends the read.
  lines.push(
    JSON.stringify({
      resource_kind: 'company-profile',
      resource_id: '29999999',
      data: { company_number: '29999999', company_status: 'active' },
      event: { timepoint: 1_000_000 + events, published_at: '2099-01-01T00:00:00', type: 'changed' },
    }),
  )
  return { lines, forCouncil, statusChanges }
}

/** The stream: the night's lines in chunks of about 64 KB with a heartbeat between, from the timepoint asked for. */
async function serveStream(lines: readonly string[]): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const timepoint = Number(new URL(req.url ?? '/', 'http://127.0.0.1').searchParams.get('timepoint') ?? 0)
    const start = Math.max(0, timepoint - 1_000_000)
    res.writeHead(200, { 'Content-Type': 'application/json' })
    let i = start
    const pump = () => {
      while (i < lines.length) {
        let chunk = ''
        while (i < lines.length && chunk.length < 65_536) chunk += `${lines[i++]}\n`
        if (!res.write(`${chunk}\n`)) return void res.once('drain', pump)
      }
      const heartbeat = setInterval(() => res.write('\n'), 1_000)
      res.on('close', () => clearInterval(heartbeat))
    }
    pump()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

export async function measureStreamNight(options: {
  databasePath: string
  companies: readonly string[]
  scale: number
  restApiBase: string
  env: NodeJS.ProcessEnv
  runRefresh: (env: NodeJS.ProcessEnv) => Promise<RefreshOutcome>
}): Promise<StreamNightFigures> {
  const events = Math.max(1_000, Math.round(NATIONAL_EVENTS_PER_NIGHT * options.scale))
  const night = generateNight(options.companies, events)
  {
    // As a previous night with the stream leaves it: its timepoint stored, every council company read once.
    const db = openDatabase(options.databasePath)
    await new CompaniesHouseStreamRepository(db).recordBatch({
      timepoint: 1_000_000,
      seen: options.companies,
      seenOn: '2026-12-06',
    })
    db.close()
  }
  const { server, base } = await serveStream(night.lines)
  try {
    const outcome = await options.runRefresh({
      ...options.env,
      COMPANIES_HOUSE_STREAM_URL: base,
      COMPANIES_HOUSE_STREAM_KEY: 'bench-stream-key',
      COMPANIES_HOUSE_API_BASE: options.restApiBase,
      COMPANIES_HOUSE_API_KEY: 'bench',
    })
    if (outcome.code !== 0) throw new Error(`stream night failed (${outcome.code}): ${outcome.stderr.slice(-2000)}`)
    const restSeconds = (options.companies.length / 600) * 5 * 60
    return {
      events,
      councilCompanies: options.companies.length,
      eventsForCouncilCompanies: night.forCouncil,
      statusChanges: night.statusChanges,
      wallSeconds: Number((outcome.wallMs / 1000).toFixed(2)),
      cpuSeconds: outcome.cpuSeconds,
      peakRssMb: outcome.peakRssMb,
      eventsPerSecond: Math.round(events / (outcome.wallMs / 1000)),
      restRecheckMinutesAtLimit: Math.round(restSeconds / 60),
      vsRestPath: Number((outcome.wallMs / 1000 / restSeconds).toFixed(4)),
      summary: (/Services computed:.*$/m.exec(outcome.stdout)?.[0] ?? '').trim(),
    }
  } finally {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
