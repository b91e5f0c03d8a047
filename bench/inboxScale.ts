/**
 * The inbox at scale (issue 14): one council intelligence file of 200,000 rows (about 16 MB, under the inbox's 20 MB
 * limit) dropped into the inbox of a database holding a register, then the overnight refresh run as a child process
 * as the schedule starts it, its peak RSS read from `/usr/bin/time` (the kernel's maxrss of the process). Generated at
 * run time, deterministically; nothing large is committed.
 */
import { createWriteStream, mkdirSync, statSync, utimesSync } from 'node:fs'
import path from 'node:path'
import { finished } from 'node:stream/promises'
import { migrate, openDatabase } from '../src/data/database.js'
import { ServiceRepository } from '../src/data/services.js'
import { Random } from '../src/demo/random.js'

export const INBOX_BENCH_ROWS = 200_000
export const INBOX_BENCH_SERVICES = 2_000
export const INBOX_RSS_TARGET_MB = 400

const KINDS = ['contract_concern', 'safeguarding_decision', 'embargo', 'default_notice', 'manager_vacancy'] as const
/** An outcome each kind accepts (SPEC §9); blank where the kind takes none. */
const OUTCOMES: Record<(typeof KINDS)[number], readonly string[]> = {
  contract_concern: ['open', 'substantiated', 'not_substantiated'],
  safeguarding_decision: ['open', 'substantiated', 'inconclusive'],
  embargo: [''],
  default_notice: ['open'],
  manager_vacancy: [''],
}

export interface InboxBenchFiles {
  inboxDir: string
  file: string
  rows: number
  bytes: number
}

function serviceRef(index: number): string {
  return `BENCH-${String(index).padStart(5, '0')}`
}

/** The register the file's rows name. */
export async function seedInboxRegister(databasePath: string, services = INBOX_BENCH_SERVICES): Promise<void> {
  const db = openDatabase(databasePath)
  try {
    migrate(db)
    await new ServiceRepository(db).upsertMany(
      Array.from({ length: services }, (_, i) => ({
        ref: serviceRef(i),
        name: `Bench service ${i}`,
        providerName: `Bench provider ${i % 400}`,
        serviceType: i % 2 === 0 ? 'home_care' : 'care_home_residential',
        area: `Area ${i % 12}`,
        contractStatus: 'contracted',
      })),
    )
  } finally {
    db.close()
  }
}

/**
 * An intelligence export as a council's case system writes one: every row a dated event with its own reference, a
 * note, UK and ISO dates mixed. Its modification time is set a minute back, so the refresh finds it settled.
 */
export async function writeInboxFile(
  dir: string,
  rows = INBOX_BENCH_ROWS,
  services = INBOX_BENCH_SERVICES,
): Promise<InboxBenchFiles> {
  const inboxDir = path.join(dir, 'inbox')
  mkdirSync(inboxDir, { recursive: true })
  const file = path.join(inboxDir, 'intelligence-export.csv')
  const out = createWriteStream(file)
  const random = new Random(20_261_207)
  const write = (line: string) => (out.write(`${line}\n`) ? Promise.resolve() : waitForDrain(out))
  await write('service_ref,kind,date,outcome,reference,notes')
  for (let i = 0; i < rows; i++) {
    const kind = KINDS[i % KINDS.length] as (typeof KINDS)[number]
    const day = 1 + random.int(0, 27)
    const month = 1 + random.int(0, 10)
    const date = i % 2 === 0 ? `2026-${pad(month)}-${pad(day)}` : `${pad(day)}/${pad(month)}/2026`
    const outcome = random.pick(OUTCOMES[kind])
    const note = `"Logged, see case ${i}"`
    await write(`${serviceRef(i % services)},${kind},${date},${outcome},REF-${i},${note}`)
  }
  out.end()
  await finished(out)
  const minuteAgo = new Date(Date.now() - 60_000)
  utimesSync(file, minuteAgo, minuteAgo)
  return { inboxDir, file, rows, bytes: statSync(file).size }
}

function waitForDrain(out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => out.once('drain', () => resolve()))
}

function pad(n: number): string {
  return String(n).padStart(2, '0')
}

export interface InboxBenchFigures {
  rows: number
  megabytes: number
  imported: number
  wallSeconds: number
  cpuSeconds: number | null
  peakRssMb: number | null
  targetMb: number
  met: boolean
}

interface RefreshOutcome {
  code: number | null
  wallMs: number
  peakRssMb: number | null
  cpuSeconds: number | null
  stdout: string
  stderr: string
}

/**
 * Seeds a database and an inbox under `dir`, runs the refresh through `runRefresh` (the schedule's command, timed by
 * the caller) and checks every row landed: the figure is only worth quoting for a run that imported the file.
 */
export async function measureInboxAtScale(
  dir: string,
  runRefresh: (env: { DATABASE_PATH: string; INBOX_DIR: string }) => Promise<RefreshOutcome>,
): Promise<InboxBenchFigures> {
  const databasePath = path.join(dir, 'inbox-bench.sqlite')
  await seedInboxRegister(databasePath)
  const files = await writeInboxFile(dir)
  const outcome = await runRefresh({ DATABASE_PATH: databasePath, INBOX_DIR: files.inboxDir })
  if (outcome.code !== 0) {
    throw new Error(
      `inbox refresh exited ${outcome.code}:\n${outcome.stdout.slice(-3000)}\n${outcome.stderr.slice(-3000)}`,
    )
  }
  const db = openDatabase(databasePath)
  let imported: number
  try {
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n
    imported = count("SELECT COUNT(*) AS n FROM observations WHERE source = 'council_inbox'")
    const recorded = count("SELECT COUNT(*) AS n FROM inbox_files WHERE status = 'imported' AND moved_at IS NOT NULL")
    if (imported !== files.rows || recorded !== 1) {
      throw new Error(`inbox refresh imported ${imported} of ${files.rows} rows (${recorded} file recorded)`)
    }
  } finally {
    db.close()
  }
  return {
    rows: files.rows,
    megabytes: Number((files.bytes / 2 ** 20).toFixed(1)),
    imported,
    wallSeconds: Number((outcome.wallMs / 1000).toFixed(2)),
    cpuSeconds: outcome.cpuSeconds,
    peakRssMb: outcome.peakRssMb,
    targetMb: INBOX_RSS_TARGET_MB,
    met: outcome.peakRssMb !== null && outcome.peakRssMb < INBOX_RSS_TARGET_MB,
  }
}
