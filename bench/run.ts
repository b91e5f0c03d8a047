/**
 * npm run bench [-- --scale 0.1] [--keep] [--duration 10] [--inbox-only]
 *
 * The national-scale benchmark (issue 8). Generates the market at run time in a temp folder (nothing large is
 * committed), then measures with the project's own code paths: the refresh entry point jobs/refresh.ts in a child
 * process, the container, createApp. Prints a table and writes bench/results.json.
 */
import { spawn, fork, type ChildProcess } from 'node:child_process'
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon, { type Options as CannonOptions, type Result as CannonResult } from 'autocannon'
import { loadConfig } from '../src/config.js'
import { ApiTokensRepository } from '../src/data/apiTokens.js'
import { migrate, openDatabase } from '../src/data/database.js'
import { createLogger } from '../src/logger.js'
import { refreshCommand } from '../jobs/schedule.js'
import { createServices } from '../src/services/container.js'
import { RefreshService } from '../src/services/refreshService.js'
import { CQC_STATE } from '../src/services/sources/index.js'
import { measureStreamNight, type StreamNightFigures } from './companiesHouseStream.js'
import { generateFiles, type GeneratedFiles } from './generate.js'
import { generateRatingsSheet } from './generateRatings.js'
import { measureInboxAtScale, type InboxBenchFigures } from './inboxScale.js'
import { startMockApis } from './mockApis.js'
import { buildModel, changedLocations, type Model } from './model.js'
import type { ParentMessage, ServerMessage } from './server.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..')

interface Args {
  scale: number
  keep: boolean
  duration: number
  /** Only the inbox at scale (a 200,000-row council file), about a minute. */
  inboxOnly: boolean
}

function parseArgs(argv: string[]): Args {
  const value = (name: string) => {
    const i = argv.indexOf(name)
    return i >= 0 ? argv[i + 1] : undefined
  }
  const scale = Number(value('--scale') ?? 1)
  const duration = Number(value('--duration') ?? 10)
  if (!(scale > 0 && scale <= 2)) throw new Error('--scale must be in (0, 2]')
  if (!(duration >= 1)) throw new Error('--duration must be at least 1 (seconds)')
  return { scale, keep: argv.includes('--keep'), duration, inboxOnly: argv.includes('--inbox-only') }
}

const say = (line: string) => process.stdout.write(`${line}\n`)
const seconds = (ms: number) => Number((ms / 1000).toFixed(2))

interface ChildOutcome {
  code: number | null
  wallMs: number
  peakRssMb: number | null
  /** User + system CPU seconds: less sensitive than wall time to other processes sharing the cores. */
  cpuSeconds: number | null
  stdout: string
  stderr: string
}

const TIME = '/usr/bin/time'

/** A process's CPU time so far (user + system, ms), from /proc; 0 where there is none. */
function processCpuMs(pid: number | undefined): number {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return 0
  // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100 a second on Linux).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/** Runs a node script as a child, timing it and (with /usr/bin/time) reading its peak RSS. */
function runNode(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; done: Promise<ChildOutcome> } {
  return runCommand(process.execPath, ['--import', 'tsx', script, ...args], env)
}

/** The overnight refresh exactly as the server's schedule starts it (jobs/schedule.ts), node flags included. */
function runRefresh(trigger: string, env: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<ChildOutcome> } {
  // The build `npm run bench` makes first (prebench), as `npm start` runs it: not the source through tsx, whose
  // start-up (compiling TypeScript, about 0.4 s) production does not pay.
  const { command, args } = refreshCommand(path.join(root, 'dist', 'jobs'))
  return runCommand(command, [...args, '--trigger', trigger], env)
}

function runCommand(
  executable: string,
  nodeArgs: string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; done: Promise<ChildOutcome> } {
  const timed = existsSync(TIME)
  const command = timed ? TIME : executable
  const commandArgs = timed ? ['-f', 'BENCH_MAXRSS_KB=%M BENCH_CPU=%U+%S', executable, ...nodeArgs] : nodeArgs
  const started = performance.now()
  const child = spawn(command, commandArgs, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const done = new Promise<ChildOutcome>((resolve) => {
    child.on('close', (code) => {
      const rss = /BENCH_MAXRSS_KB=(\d+)/.exec(stderr)
      const cpu = /BENCH_CPU=([\d.]+)\+([\d.]+)/.exec(stderr)
      resolve({
        code,
        wallMs: performance.now() - started,
        peakRssMb: rss ? Math.round(Number(rss[1]) / 1024) : null,
        cpuSeconds: cpu ? Number((Number(cpu[1]) + Number(cpu[2])).toFixed(1)) : null,
        stdout,
        stderr: stderr.replace(/BENCH_MAXRSS_KB=\d+ BENCH_CPU=\S+\s*/, ''),
      })
    })
  })
  return { child, done }
}

function baseEnv(databasePath: string, dir: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    TZ: 'Europe/London',
    DATABASE_PATH: databasePath,
    INBOX_DIR: path.join(dir, 'no-inbox'),
    BACKUP_DIR: path.join(dir, 'backups'),
    LOG_LEVEL: 'warn',
    REFRESH_SCHEDULE_ENABLED: 'false',
    SESSION_SECRET: 'bench-session-secret-bench-session-secret',
  }
}

function refreshEnv(databasePath: string, files: GeneratedFiles): NodeJS.ProcessEnv {
  return { ...baseEnv(databasePath, files.dir), CQC_FILE: files.cqcDir, FHRS_XML_DIR: files.fhrsDir }
}

function assertOk(name: string, outcome: ChildOutcome): void {
  if (outcome.code !== 0) {
    throw new Error(`${name} exited ${outcome.code}:\n${outcome.stdout.slice(-3000)}\n${outcome.stderr.slice(-3000)}`)
  }
}

/** The register (30,000 services at scale 1), one DPS with a lot per service type admitting every service, a token. */
async function setUpDatabase(databasePath: string, files: GeneratedFiles): Promise<{ token: string; refs: string[] }> {
  const db = openDatabase(databasePath)
  try {
    migrate(db)
    const config = loadConfig(baseEnv(databasePath, files.dir))
    const services = createServices(db, config, createLogger('warn'))
    const imported = await services.importer.importFile('services', createReadStream(files.registerFile), {
      actor: 'bench',
      source: 'council_csv',
      fileLabel: path.basename(files.registerFile),
      recompute: false,
    })
    if (imported.fileError || imported.rejects.length > 0) {
      throw new Error(`register import: ${imported.fileError ?? JSON.stringify(imported.rejects.slice(0, 5))}`)
    }
    const all = await services.serviceRepository.listAll()
    const types = [...new Set(all.map((s) => s.serviceType))]
    const dps = await services.dpsRepository.createDps(
      {
        name: 'National adult social care DPS',
        gates: {},
        lots: types.map((serviceType) => ({ name: `All areas: ${serviceType}`, tier: 'tier1' as const, serviceType })),
      },
      'bench',
    )
    const lotByType = new Map(dps.lots.map((lot) => [lot.serviceType, lot.id]))
    db.transaction(() => {
      for (const service of all) {
        void services.dpsRepository.admitMember(
          { lotId: lotByType.get(service.serviceType) as number, serviceId: service.id, on: '2026-01-05' },
          'bench',
        )
      }
    })()
    const { secret } = await new ApiTokensRepository(db).create({ name: 'bench', role: 'admin' }, 'bench')
    return { token: secret, refs: all.map((s) => s.ref) }
  } finally {
    db.close()
  }
}

function cannon(options: CannonOptions): Promise<CannonResult> {
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)))
  })
}

/** Load until `until` settles. */
function cannonUntil(options: CannonOptions, until: Promise<unknown>): Promise<CannonResult> {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ ...options, duration: 3600 }, (error, result) =>
      error ? reject(error) : resolve(result),
    )
    void until.finally(() => instance.stop())
  })
}

interface LoadFigures {
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  errors: number
  requests: number
}

function figures(result: CannonResult): LoadFigures {
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    requests: result.requests.total,
  }
}

function startServer(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number; barePort: number }> {
  const child = fork(path.join(here, 'server.ts'), [], {
    cwd: root,
    env,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`bench server exited ${code}`)))
    child.on('message', (message: ServerMessage) => {
      if (message.type === 'ready') resolve({ child, port: message.port, barePort: message.barePort })
    })
  })
}

function readStalls(child: ChildProcess): Promise<{ maxMs: number; p99Ms: number; intervalMaxMs: number }> {
  return new Promise((resolve) => {
    const onMessage = (message: ServerMessage) => {
      if (message.type !== 'stalls') return
      child.off('message', onMessage)
      resolve(message)
    }
    child.on('message', onMessage)
    const ask: ParentMessage = { type: 'read-stalls' }
    child.send(ask)
  })
}

/** The inbox at scale: a 200,000-row council file imported by the scheduled refresh, its peak RSS against the target. */
async function inboxAtScale(dir: string): Promise<InboxBenchFigures> {
  say('Inbox at scale: a 200,000-row council file ...')
  const figures = await measureInboxAtScale(
    dir,
    (env) => runRefresh('bench-inbox', { ...baseEnv(env.DATABASE_PATH, dir), INBOX_DIR: env.INBOX_DIR }).done,
  )
  say(`  ${JSON.stringify(figures)}`)
  return figures
}

function inboxLine(figures: InboxBenchFigures): [string, string, string] {
  return [
    `Inbox file, ${figures.rows.toLocaleString('en-GB')} rows (${figures.megabytes} MB)`,
    `${figures.wallSeconds} s, CPU ${figures.cpuSeconds} s, peak RSS ${figures.peakRssMb} MB: ${figures.met ? 'met' : 'MISSED'}`,
    `RSS < ${figures.targetMb} MB`,
  ]
}

function streamLine(figures: StreamNightFigures): [string, string, string] {
  return [
    `Companies House night, stream (${figures.events.toLocaleString('en-GB')} events)`,
    `${figures.wallSeconds} s, CPU ${figures.cpuSeconds} s, ${figures.eventsPerSecond} events/s = ` +
      `${(figures.vsRestPath * 100).toFixed(2)}% of the REST path (${figures.restRecheckMinutesAtLimit} min at 600/5 min)`,
    '',
  ]
}

function refreshSummaryLine(stdout: string): string {
  return (/Services computed:.*$/m.exec(stdout)?.[0] ?? '').trim()
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const dir = mkdtempSync(path.join(os.tmpdir(), 'prd-bench-'))
  const databasePath = path.join(dir, 'bench.sqlite')
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
  }
  say(`Bench at scale ${args.scale} in ${dir} (${machine.cpus} cores, ${machine.cpuModel}, Node ${machine.node})`)
  const loadAverage = () =>
    os
      .loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')
  const results: Record<string, unknown> = {
    scale: args.scale,
    machine,
    startedAt: new Date().toISOString(),
    // Other processes on the machine share its cores: the 1, 5 and 15 minute load averages put the figures in context.
    loadAverageAtStart: loadAverage(),
  }
  let server: ChildProcess | undefined
  if (args.inboxOnly) {
    try {
      const [name, value, target] = inboxLine(await inboxAtScale(dir))
      say(`\n${name}  ${value}   (target ${target})`)
    } finally {
      if (!args.keep) rmSync(dir, { recursive: true, force: true })
    }
    return
  }
  try {
    // 0. The data set.
    let started = performance.now()
    const model: Model = buildModel(args.scale)
    const files = await generateFiles(model, dir)
    const ratings = await generateRatingsSheet(model, files.cqcDir)
    files.bytes += ratings.bytes
    const sourceRows = files.hscaRows + ratings.ratingsRows + files.fhrsEstablishments
    say(
      `Generated ${files.hscaRows} CQC locations, ${ratings.ratingsRows} CQC ratings rows, ${files.fhrsEstablishments} FHRS establishments in ${model.authorities.length} files, ` +
        `${model.register.length} council services (${(files.bytes / 2 ** 20).toFixed(0)} MB) in ${seconds(performance.now() - started)} s`,
    )
    started = performance.now()
    const { token, refs } = await setUpDatabase(databasePath, files)
    say(`Register imported and admitted to a DPS in ${seconds(performance.now() - started)} s`)
    results.dataSet = {
      cqcLocations: files.hscaRows,
      cqcRatingsRows: ratings.ratingsRows,
      fhrsEstablishments: files.fhrsEstablishments,
      fhrsFiles: model.authorities.length,
      services: refs.length,
      registerCompanies: new Set(
        model.register.map((i) => model.providers[model.locations[i]!.providerIndex]!.companyNumber).filter(Boolean),
      ).size,
      megabytes: Math.round(files.bytes / 2 ** 20),
    }

    // 2. The floor: same files, same parsers, raw rows into one table.
    say('Floor: parse + insert raw rows ...')
    const floorRun = runNode(
      path.join(here, 'floor.ts'),
      [path.join(dir, 'floor.sqlite'), files.cqcDir, files.fhrsDir],
      {
        PATH: process.env.PATH,
      },
    )
    const floorOutcome = await floorRun.done
    assertOk('floor', floorOutcome)
    const floor = JSON.parse(floorOutcome.stdout.trim().split('\n').pop() as string) as {
      rows: number
      seconds: number
      insertSeconds: number
      insertRowsPerSecond: number
      parseSeconds: number
    }
    rmSync(path.join(dir, 'floor.sqlite'), { force: true })
    results.floor = {
      rows: floor.rows,
      wallSeconds: seconds(floorOutcome.wallMs),
      rowsPerSecond: Math.round(floor.rows / (floorOutcome.wallMs / 1000)),
      parseSeconds: seconds(floor.parseSeconds * 1000),
      insertSeconds: seconds(floor.insertSeconds * 1000),
      insertRowsPerSecond: Math.round(floor.insertRowsPerSecond),
      peakRssMb: floorOutcome.peakRssMb,
      cpuSeconds: floorOutcome.cpuSeconds,
    }
    say(`  ${JSON.stringify(results.floor)}`)

    // 1. Full refresh from files, through the real entry point in a child process.
    say('Full refresh from files (jobs/refresh.ts) ...')
    const full = await runRefresh('bench', refreshEnv(databasePath, files)).done
    assertOk('full refresh', full)
    results.fullRefresh = {
      wallSeconds: seconds(full.wallMs),
      rowsRead: sourceRows,
      rowsPerSecond: Math.round(sourceRows / (full.wallMs / 1000)),
      peakRssMb: full.peakRssMb,
      vsFloor: Number((full.wallMs / floorOutcome.wallMs).toFixed(2)),
      cpuSeconds: full.cpuSeconds,
      vsFloorCpu:
        full.cpuSeconds && floorOutcome.cpuSeconds
          ? Number((full.cpuSeconds / floorOutcome.cpuSeconds).toFixed(2))
          : null,
      summary: refreshSummaryLine(full.stdout),
    }
    say(`  ${JSON.stringify(results.fullRefresh)}`)

    // 3. Risk and eligibility recompute alone: a run with no sources (stage every service, publish, DPS gate).
    say('Recompute alone ...')
    {
      const db = openDatabase(databasePath)
      const services = createServices(db, loadConfig(baseEnv(databasePath, dir)), createLogger('warn'))
      const t = performance.now()
      // Every service, whatever is due: a forced full recompute (the nightly default recomputes only due services).
      const summary = await new RefreshService(services, []).run({ trigger: 'bench-recompute', all: true })
      const ms = performance.now() - t
      db.close()
      results.recompute = {
        services: summary.servicesComputed,
        wallSeconds: seconds(ms),
        servicesPerSecond: Math.round(summary.servicesComputed / (ms / 1000)),
      }
      say(`  ${JSON.stringify(results.recompute)}`)
    }

    // 4. An incremental night: the CQC changes feed lists 1% of locations; only the council's among them are fetched.
    say('Incremental night (CQC changes feed) ...')
    const apis = await startMockApis(model)
    try {
      {
        const db = openDatabase(databasePath)
        const services = createServices(db, loadConfig(baseEnv(databasePath, dir)), createLogger('warn'))
        const ids = (await services.serviceRepository.listAll())
          .map((s) => s.cqcLocationId)
          .filter((id): id is string => !!id)
        // As after a first load from the API: the window starts at the last run, every council location loaded.
        await services.sourceState.set(CQC_STATE.source, CQC_STATE.changesWindowEnd, '2026-09-01T02:00:00Z')
        await services.sourceState.setJson(CQC_STATE.source, CQC_STATE.loadedLocationIds, ids.sort())
        db.close()
      }
      const nightEnv = { ...baseEnv(databasePath, dir), CQC_API_BASE: apis.cqcBase, CQC_API_KEY: 'bench-key' }
      const night = await runRefresh('bench-night', nightEnv).done
      assertOk('incremental night', night)
      const councilLocations = new Set(model.register.map((i) => model.locations[i]!.id))
      results.incremental = {
        changedInFeed: changedLocations(model).length,
        councilLocationsFetched: changedLocations(model).filter((l) => councilLocations.has(l.id)).length,
        wallSeconds: seconds(night.wallMs),
        vsFullRefresh: Number((night.wallMs / full.wallMs).toFixed(3)),
        cpuSeconds: night.cpuSeconds,
        vsFullRefreshCpu:
          night.cpuSeconds && full.cpuSeconds ? Number((night.cpuSeconds / full.cpuSeconds).toFixed(3)) : null,
        peakRssMb: night.peakRssMb,
        apiRequests: apis.stats.cqc,
        summary: refreshSummaryLine(night.stdout),
      }
      say(`  ${JSON.stringify(results.incremental)}`)

      // Companies House at its real limit: 650 requests in a burst, the mock refuses all beyond 600 in 5 minutes.
      const companies = [
        ...new Set(model.register.map((i) => model.providers[model.locations[i]!.providerIndex]!.companyNumber)),
      ].filter((n): n is string => n !== null)
      let ok = 0
      let limited = 0
      for (let i = 0; i < 650; i++) {
        const response = await fetch(`${apis.base}/company/${companies[i % companies.length]}`, {
          headers: { Authorization: `Basic ${Buffer.from('bench:').toString('base64')}` },
        })
        await response.arrayBuffer()
        if (response.status === 429) limited++
        else ok++
      }
      results.companiesHouse = {
        companies: companies.length,
        burstOf650: { answered: ok, refused429: limited },
        nightlyRecheckMinutesAtLimit: Math.round((companies.length / 600) * 5),
      }
      say(`  Companies House: ${JSON.stringify(results.companiesHouse)}`)

      // A national night with the Companies House stream: the REST API only for companies never seen (none here).
      say('Companies House night with the streaming API ...')
      results.companiesHouseStream = await measureStreamNight({
        databasePath,
        companies,
        scale: args.scale,
        restApiBase: apis.base,
        env: baseEnv(databasePath, dir),
        runRefresh: (env) => runRefresh('bench-stream', env).done,
      })
      say(`  ${JSON.stringify(results.companiesHouseStream)}`)
    } finally {
      await apis.close()
    }

    // 5. The dashboard under load, against the bare route sending the same bytes.
    say('Dashboard under load ...')
    const serverEnv = { ...baseEnv(databasePath, dir) }
    const started5 = await startServer(serverEnv)
    server = started5.child
    const base = `http://127.0.0.1:${started5.port}`
    const headers = { authorization: `Bearer ${token}` }
    const dashboardPath = '/?rag=red&rag=amber'
    const page = await fetch(`${base}${dashboardPath}`, { headers })
    const body = await page.text()
    if (page.status !== 200 || !body.includes('<table')) throw new Error(`dashboard page answered ${page.status}`)
    const barePage: ParentMessage = { type: 'bare-page', body }
    server.send(barePage)
    let refIndex = 0
    const nextRef = () => refs[(refIndex = (refIndex + 7919) % refs.length)] as string
    const targets: Array<{ name: string; options: CannonOptions }> = [
      { name: 'dashboard page (50 of ' + refs.length + ')', options: { url: `${base}${dashboardPath}`, headers } },
      {
        name: 'service page',
        options: {
          url: base,
          headers,
          requests: [{ setupRequest: (request) => ({ ...request, path: `/services/${nextRef()}` }) }],
        },
      },
      { name: 'GET /api/v1/services', options: { url: `${base}/api/v1/services`, headers } },
      { name: 'bare Express, same bytes', options: { url: `http://127.0.0.1:${started5.barePort}/` } },
    ]
    const load: Record<string, LoadFigures & { serverCpuUsPerRequest: number; longestEventLoopStallMs: number }> = {}
    for (const target of targets) {
      await cannon({ ...target.options, connections: 50, duration: 3 }) // warm up
      server.send({ type: 'reset-stalls' } satisfies ParentMessage)
      const cpuBefore = processCpuMs(server.pid)
      const measured = figures(await cannon({ ...target.options, connections: 50, duration: args.duration }))
      const cpuUsed = processCpuMs(server.pid) - cpuBefore
      const stalls = await readStalls(server)
      load[target.name] = {
        ...measured,
        // The server's own CPU per answer: steadier than req/s when autocannon and other work share the cores.
        serverCpuUsPerRequest: Math.round((cpuUsed * 1000) / Math.max(1, measured.requests)),
        longestEventLoopStallMs: Number(Math.max(stalls.maxMs, stalls.intervalMaxMs).toFixed(1)),
      }
      say(`  ${target.name}: ${JSON.stringify(load[target.name])}`)
    }
    const dashboardIdle = load[targets[0]!.name] as LoadFigures & {
      serverCpuUsPerRequest: number
      longestEventLoopStallMs: number
    }
    const bareIdle = load[targets[3]!.name] as LoadFigures
    results.load = {
      connections: 50,
      durationSeconds: args.duration,
      pageBytes: Buffer.byteLength(body),
      targets: load,
      dashboardVsBare: Number((dashboardIdle.requestsPerSecond / bareIdle.requestsPerSecond).toFixed(2)),
      dashboardVsBareCpu: Number(
        (
          (load[targets[3]!.name]?.serverCpuUsPerRequest ?? 0) / Math.max(1, dashboardIdle.serverCpuUsPerRequest)
        ).toFixed(2),
      ),
    }

    // 6. The same dashboard load while a full refresh runs (the refresh in its own process, as the schedule runs it).
    say('Dashboard under load during a full refresh ...')
    server.send({ type: 'reset-stalls' } satisfies ParentMessage)
    const cpuBeforeRefresh = processCpuMs(server.pid)
    const during = runRefresh('bench-during-load', refreshEnv(databasePath, files))
    const busy = figures(await cannonUntil({ ...targets[0]!.options, connections: 50 }, during.done))
    const serverCpuUsPerRequest = Math.round(
      ((processCpuMs(server.pid) - cpuBeforeRefresh) * 1000) / Math.max(1, busy.requests),
    )
    const duringOutcome = await during.done
    assertOk('refresh during load', duringOutcome)
    const stalls = await readStalls(server)
    results.duringRefresh = {
      refreshWallSeconds: seconds(duringOutcome.wallMs),
      refreshSummary: refreshSummaryLine(duringOutcome.stdout),
      dashboard: { ...busy, serverCpuUsPerRequest },
      p99VsIdle: Number((busy.p99Ms / Math.max(1, dashboardIdle.p99Ms)).toFixed(2)),
      longestEventLoopStallMs: Number(Math.max(stalls.maxMs, stalls.intervalMaxMs).toFixed(1)),
      idleLongestEventLoopStallMs: dashboardIdle.longestEventLoopStallMs,
    }
    say(`  ${JSON.stringify(results.duringRefresh)}`)

    // 7. The server's event loop with no load: first for as long as a refresh takes with nothing running (the
    // machine's own scheduling noise), then during a refresh. The difference is what the refresh costs the server.
    say('Event loop with no load, no refresh (control) ...')
    server.send({ type: 'reset-stalls' } satisfies ParentMessage)
    await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, Math.max(5_000, full.wallMs / 2))))
    const control = await readStalls(server)
    results.quietControl = {
      seconds: seconds(Math.min(30_000, Math.max(5_000, full.wallMs / 2))),
      longestEventLoopStallMs: Number(Math.max(control.maxMs, control.intervalMaxMs).toFixed(1)),
    }
    say(`  ${JSON.stringify(results.quietControl)}`)
    say('Event loop during a refresh, no load ...')
    server.send({ type: 'reset-stalls' } satisfies ParentMessage)
    const quiet = await runRefresh('bench-quiet', refreshEnv(databasePath, files)).done
    assertOk('refresh without load', quiet)
    const quietStalls = await readStalls(server)
    results.quietRefresh = {
      refreshWallSeconds: seconds(quiet.wallMs),
      peakRssMb: quiet.peakRssMb,
      longestEventLoopStallMs: Number(Math.max(quietStalls.maxMs, quietStalls.intervalMaxMs).toFixed(1)),
    }
    say(`  ${JSON.stringify(results.quietRefresh)}`)

    // 8. The inbox at scale: one large council file, the refresh's peak memory.
    results.inbox = await inboxAtScale(dir)
    results.finishedAt = new Date().toISOString()
    results.loadAverageAtEnd = loadAverage()
    writeFileSync(path.join(here, 'results.json'), `${JSON.stringify(results, null, 2)}\n`)
    printTable(results)
  } finally {
    server?.kill()
    if (!args.keep) rmSync(dir, { recursive: true, force: true })
    else say(`Kept ${dir}`)
  }
}

function printTable(r: Record<string, unknown>): void {
  const get = (p: string): unknown =>
    p.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], r)
  const load = (get('load.targets') ?? {}) as Record<string, LoadFigures>
  const rows: Array<[string, string, string]> = [
    [
      'Full refresh from files',
      `${get('fullRefresh.wallSeconds')} s, ${get('fullRefresh.rowsPerSecond')} rows/s, peak RSS ${Math.round(Number(get('fullRefresh.peakRssMb')))} MB`,
      'RSS < 400 MB',
    ],
    ['Floor (parse + raw insert)', `${get('floor.wallSeconds')} s, ${get('floor.rowsPerSecond')} rows/s`, ''],
    ['Refresh / floor', `${get('fullRefresh.vsFloor')}x wall, ${get('fullRefresh.vsFloorCpu')}x CPU`, '<= 2x'],
    ['Recompute alone', `${get('recompute.servicesPerSecond')} services/s (${get('recompute.wallSeconds')} s)`, ''],
    [
      'Incremental night',
      `${get('incremental.wallSeconds')} s = ${(Number(get('incremental.vsFullRefresh')) * 100).toFixed(1)}% of full ` +
        `(CPU ${(Number(get('incremental.vsFullRefreshCpu')) * 100).toFixed(1)}%)`,
      '< 10%',
    ],
    ...Object.entries(load).map(([name, f]): [string, string, string] => [
      name,
      `${f.requestsPerSecond} req/s, p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, server ${String((f as { serverCpuUsPerRequest?: number }).serverCpuUsPerRequest)} us CPU/req`,
      name.startsWith('dashboard') ? 'p99 < 50 ms' : '',
    ]),
    [
      'Dashboard / bare',
      `${get('load.dashboardVsBare')}x req/s, ${get('load.dashboardVsBareCpu')}x CPU/req`,
      '>= 0.5x',
    ],
    ['During refresh: errors', String(get('duringRefresh.dashboard.errors')), '0'],
    [
      'During refresh: p99',
      `${get('duringRefresh.dashboard.p99Ms')} ms = ${get('duringRefresh.p99VsIdle')}x idle`,
      '<= 1.5x',
    ],
    [
      'During refresh: longest loop stall',
      `${get('duringRefresh.longestEventLoopStallMs')} ms (idle load: ${get('duringRefresh.idleLongestEventLoopStallMs')} ms)`,
      '< 100 ms',
    ],
    [
      'Refresh, no load: longest loop stall',
      `${get('quietRefresh.longestEventLoopStallMs')} ms (no refresh: ${get('quietControl.longestEventLoopStallMs')} ms)`,
      '< 100 ms',
    ],
    ...(r.companiesHouseStream ? [streamLine(r.companiesHouseStream as StreamNightFigures)] : []),
    ...(r.inbox ? [inboxLine(r.inbox as InboxBenchFigures)] : []),
    ['Machine load average (start / end)', `${get('loadAverageAtStart')} / ${get('loadAverageAtEnd')}`, ''],
  ]
  const width = Math.max(...rows.map((row) => row[0].length))
  say('')
  for (const [name, value, target] of rows)
    say(`${name.padEnd(width)}  ${value}${target ? `   (target ${target})` : ''}`)
  say(`\nWritten to bench/results.json`)
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
