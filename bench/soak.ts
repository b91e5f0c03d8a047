/**
 * npm run soak [-- --count 50] [--scale 0.1] [--keep]
 *
 * The refresh under kill -9 (issue 14): on the bench generator's data (CQC and FHRS files at `scale`), a refresh is
 * killed with SIGKILL at `count` random points, each kill followed at once by a new run (the next victim), and a last
 * run is let finish. A reference copy of the same database refreshed once without interruption says what the
 * observations must be. Prints integrity failures, refused reruns, lost and duplicated observations: all must be 0.
 * Not part of `npm test`: about 10 to 15 minutes at the defaults on two quiet cores.
 */
import { spawn } from 'node:child_process'
import { copyFileSync, createReadStream, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { loadConfig } from '../src/config.js'
import { migrate, openDatabase } from '../src/data/database.js'
import { createLogger } from '../src/logger.js'
import { createServices } from '../src/services/container.js'
import { generateFiles, type GeneratedFiles } from './generate.js'
import { buildModel } from './model.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const say = (line: string) => process.stdout.write(`${line}\n`)

interface Args {
  count: number
  scale: number
  keep: boolean
  seed: number
}

function parseArgs(argv: string[]): Args {
  const value = (name: string) => {
    const index = argv.indexOf(`--${name}`)
    return index >= 0 ? argv[index + 1] : undefined
  }
  const number = (name: string, fallback: number) => {
    const raw = value(name)
    const parsed = raw === undefined ? fallback : Number(raw)
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--${name} must be a positive number, not ${raw}`)
    return parsed
  }
  return {
    count: Math.floor(number('count', 50)),
    scale: number('scale', 0.1),
    keep: argv.includes('--keep'),
    seed: Math.floor(number('seed', 20_261_207)),
  }
}

/** A small seeded generator (mulberry32), so a soak can be repeated point for point. */
function randomFrom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

function refreshEnv(databasePath: string, files: GeneratedFiles): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    TZ: 'Europe/London',
    LOG_LEVEL: 'warn',
    DATABASE_PATH: databasePath,
    BACKUP_DIR: `${databasePath}.backups`,
    BACKUP_KEEP: '3',
    INBOX_DIR: path.join(files.dir, 'no-inbox'),
    CQC_FILE: files.hscaFile,
    FHRS_XML_DIR: files.fhrsDir,
    SESSION_SECRET: 'soak-session-secret-soak-session-secret',
  }
}

interface RunOutcome {
  code: number | null
  signal: NodeJS.Signals | null
  output: string
  ms: number
}

/** `npm run refresh` as a child process; killed with SIGKILL after `killAfterMs` if it is still running then. */
function runRefresh(env: NodeJS.ProcessEnv, killAfterMs: number | null): Promise<RunOutcome> {
  const started = performance.now()
  const child = spawn(process.execPath, ['--import', 'tsx', 'jobs/refresh.ts', '--trigger', 'soak'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const timer = killAfterMs === null ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs)
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, output, ms: performance.now() - started })
    }),
  )
}

/** The register imported from the generated council CSV into a new database: the state every run starts from. */
async function setUpDatabase(databasePath: string, files: GeneratedFiles): Promise<number> {
  const db = openDatabase(databasePath)
  try {
    migrate(db)
    const services = createServices(db, loadConfig(refreshEnv(databasePath, files)), createLogger('warn'))
    const imported = await services.importer.importFile('services', createReadStream(files.registerFile), {
      actor: 'soak',
      source: 'council_csv',
      fileLabel: path.basename(files.registerFile),
      recompute: false,
    })
    if (imported.fileError || imported.rejects.length > 0) {
      throw new Error(`register import: ${imported.fileError ?? JSON.stringify(imported.rejects.slice(0, 5))}`)
    }
    return await services.serviceRepository.count()
  } finally {
    db.close()
  }
}

interface DatabaseState {
  integrity: string[]
  /** Each observation's identity and content, with how many rows carry it. */
  observations: Map<string, number>
  rows: number
  rag: string
}

function readState(databasePath: string): DatabaseState {
  const db = new Database(databasePath, { readonly: true })
  try {
    const integrity = (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check)
    const observations = new Map<string, number>()
    let rows = 0
    const query = db.prepare(
      `SELECT s.ref, o.indicator, o.source, o.observed_on, o.end_date, o.value
       FROM observations o JOIN services s ON s.id = o.service_id`,
    )
    for (const row of query.iterate() as Iterable<Record<string, unknown>>) {
      const key = JSON.stringify(Object.values(row))
      observations.set(key, (observations.get(key) ?? 0) + 1)
      rows++
    }
    const rag = (
      db.prepare('SELECT rag, COUNT(*) AS n FROM current_snapshots GROUP BY rag ORDER BY rag').all() as Array<{
        rag: string
        n: number
      }>
    )
      .map((r) => `${r.rag} ${r.n}`)
      .join(', ')
    return { integrity: integrity.length === 1 && integrity[0] === 'ok' ? [] : integrity, observations, rows, rag }
  } finally {
    db.close()
  }
}

/** Rows the reference has that the soaked database lacks, and rows the soaked one has beyond the reference's. */
function compareObservations(reference: DatabaseState, soaked: DatabaseState): { lost: number; duplicated: number } {
  let lost = 0
  let duplicated = 0
  for (const [key, n] of reference.observations) lost += Math.max(0, n - (soaked.observations.get(key) ?? 0))
  for (const [key, n] of soaked.observations) duplicated += Math.max(0, n - (reference.observations.get(key) ?? 0))
  return { lost, duplicated }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const random = randomFrom(args.seed)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'prd-soak-'))
  try {
    say(`Soak: ${args.count} kills at scale ${args.scale} (seed ${args.seed}) in ${dir}`)
    const files = await generateFiles(buildModel(args.scale), dir)
    const initial = path.join(dir, 'initial.sqlite')
    const services = await setUpDatabase(initial, files)
    say(
      `Generated ${files.hscaRows} CQC locations, ${files.fhrsEstablishments} FHRS establishments; ${services} services`,
    )

    const referencePath = path.join(dir, 'reference.sqlite')
    const soakPath = path.join(dir, 'soak.sqlite')
    copyFileSync(initial, referencePath)
    copyFileSync(initial, soakPath)
    const reference = await runRefresh(refreshEnv(referencePath, files), null)
    if (reference.code !== 0) throw new Error(`The reference refresh failed:\n${reference.output.slice(-3000)}`)
    say(`Reference refresh (not interrupted): ${(reference.ms / 1000).toFixed(1)} s`)

    const env = refreshEnv(soakPath, files)
    let kills = 0
    let refused = 0
    let damagedRefusals = 0
    let otherFailures = 0
    let completedBeforeKill = 0
    const started = performance.now()
    while (kills < args.count) {
      const killAfter = Math.round(random() * reference.ms)
      const run = await runRefresh(env, killAfter)
      if (run.signal === 'SIGKILL') kills++
      else if (run.code === 0) completedBeforeKill++
      else if (/still running/.test(run.output)) refused++
      else if (/is damaged/.test(run.output)) damagedRefusals++
      else {
        otherFailures++
        say(`Run failed (exit ${run.code}):\n${run.output.slice(-2000)}`)
      }
      if (kills % 10 === 0 && run.signal === 'SIGKILL')
        say(`  ${kills} kills, ${((performance.now() - started) / 1000).toFixed(0)} s`)
    }
    const last = await runRefresh(env, null)
    if (last.code !== 0) {
      if (/still running/.test(last.output)) refused++
      else otherFailures++
      say(`The last run failed (exit ${last.code}):\n${last.output.slice(-2000)}`)
    }

    const expected = readState(referencePath)
    const soaked = readState(soakPath)
    const { lost, duplicated } = compareObservations(expected, soaked)
    const integrityFailures = damagedRefusals + (soaked.integrity.length > 0 ? 1 : 0)
    say('')
    say(`Kills (SIGKILL at a random point, each followed at once by a new run): ${kills}`)
    say(`Runs that completed before their kill point: ${completedBeforeKill}`)
    say(
      `Integrity failures: ${integrityFailures}${soaked.integrity.length ? ` (${soaked.integrity.slice(0, 3).join('; ')})` : ''}`,
    )
    say(`Refused reruns ("still running"): ${refused}`)
    say(`Other failed runs: ${otherFailures}`)
    say(`Observations: ${soaked.rows} (reference ${expected.rows}); lost ${lost}, duplicated ${duplicated}`)
    say(`Current RAG: ${soaked.rag} (reference ${expected.rag})`)
    say(`Soak took ${((performance.now() - started) / 1000).toFixed(0)} s`)
    const clean = integrityFailures + refused + otherFailures + lost + duplicated === 0 && soaked.rag === expected.rag
    say(clean ? 'SOAK PASSED' : 'SOAK FAILED')
    process.exitCode = clean ? 0 : 1
  } finally {
    if (args.keep) say(`Kept ${dir}`)
    else rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`Soak could not run: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
