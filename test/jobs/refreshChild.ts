import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../../src/config.js'
import { migrate, openDatabase, type Db } from '../../src/data/database.js'
import type { ServiceInput } from '../../src/data/services.js'
import type { NewObservation } from '../../src/domain/observation.js'
import { createLogger } from '../../src/logger.js'
import { createServices, type Services } from '../../src/services/container.js'
import { RefreshService } from '../../src/services/refreshService.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const SOURCE_VARIABLES = ['CQC_API_BASE', 'CQC_API_KEY', 'CQC_FILE', 'FHRS_API_BASE', 'FHRS_XML_DIR']
const SOURCE_VARIABLES_CH = ['COMPANIES_HOUSE_API_BASE', 'COMPANIES_HOUSE_API_KEY']

/** A temporary file database for a test that shares it with child processes. */
export function tempDatabasePath(): { file: string; cleanUp(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'refresh-child-'))
  return { file: path.join(dir, 'dashboard.sqlite'), cleanUp: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Services over a file database (migrated), with no external source configured and silent logs. */
export function openServices(file: string, env: Record<string, string> = {}): Services {
  const db = openDatabase(file)
  migrate(db)
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_PATH: file, TZ: 'Europe/London', ...env })
  return createServices(db, config, createLogger('silent'))
}

export function cqcLocationId(i: number): string {
  return `1-7${String(i).padStart(8, '0')}`
}

/**
 * A register of `count` care homes, each CQC-rated Good in 2025, with a first full run published: the snapshot the
 * crash and reader tests expect to survive. Returns the services (file database still open).
 */
export async function seedPublishedRegister(file: string, count: number): Promise<Services> {
  const services = openServices(file)
  const inputs: ServiceInput[] = Array.from({ length: count }, (_, i) => ({
    ref: `SVC-${String(i).padStart(5, '0')}`,
    name: `Care Home ${i}`,
    providerName: `Provider ${i % 50}`,
    cqcLocationId: cqcLocationId(i),
    serviceType: 'care_home_residential',
    area: i % 2 === 0 ? 'North' : 'South',
    contractStatus: 'contracted',
  }))
  const created = await services.serviceRepository.upsertMany(inputs)
  const observations: NewObservation[] = created.map((service, i) => ({
    serviceId: service.id,
    indicator: 'cqc_rating',
    source: 'cqc_api',
    observedOn: '2025-06-01',
    value: 'good',
    naturalKey: `cqc:${cqcLocationId(i)}:2025-06-01`,
  }))
  await services.observations.append(observations)
  await new RefreshService(services, []).run({ trigger: 'baseline' })
  return services
}

export interface RefreshChild {
  child: ChildProcess
  output(): string
  /** Resolves when stdout or stderr has printed something matching `pattern`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  kill(): Promise<void>
}

/** `node --import tsx jobs/refresh.ts` on `file`, as the scheduler starts it, with the test hooks on. */
export function startRefreshChild(
  file: string,
  env: Record<string, string>,
  args: string[] = [],
  /** How to start it (default: node with tsx on jobs/refresh.ts); e.g. the schedule's refreshCommand(). */
  start: { command: string; args: string[] } = {
    command: process.execPath,
    args: ['--import', 'tsx', 'jobs/refresh.ts'],
  },
): RefreshChild {
  const childEnv: Record<string, string | undefined> = { ...process.env }
  for (const name of [...SOURCE_VARIABLES, ...SOURCE_VARIABLES_CH]) delete childEnv[name]
  Object.assign(childEnv, {
    NODE_ENV: 'test',
    DATABASE_PATH: file,
    // The copy every refresh takes goes beside the test's database, never into the project's data/.
    BACKUP_DIR: path.join(path.dirname(file), 'backups'),
    TZ: 'Europe/London',
    LOG_LEVEL: 'warn',
    REFRESH_TEST_HOOKS: '1',
    ...env,
  })
  const child = spawn(start.command, [...start.args, '--trigger', 'child test', ...args], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let text = ''
  const listeners = new Set<() => void>()
  const collect = (chunk: Buffer) => {
    text += chunk.toString()
    for (const listener of listeners) listener()
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  return {
    child,
    output: () => text,
    waitForOutput: (pattern, timeoutMs = 20_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(text)) return
          cleanUp()
          resolve()
        }
        const timer = setTimeout(() => {
          cleanUp()
          reject(new Error(`refresh child did not print ${pattern} within ${timeoutMs} ms; output:\n${text}`))
        }, timeoutMs)
        const cleanUp = () => {
          clearTimeout(timer)
          listeners.delete(check)
        }
        void exited.then(() => {
          if (!pattern.test(text)) {
            cleanUp()
            reject(new Error(`refresh child exited before printing ${pattern}; output:\n${text}`))
          }
        })
        listeners.add(check)
        check()
      }),
    exited,
    kill: async () => {
      child.kill('SIGKILL')
      await exited
    },
  }
}

/** What readers see and what must survive a crash, read from a fresh connection. */
export function inspect(file: string) {
  const db: Db = openDatabase(file)
  try {
    const rows = (sql: string) => db.prepare(sql).all()
    return {
      integrity: db.pragma('integrity_check', { simple: true }) as string,
      currentSnapshots: rows('SELECT * FROM current_snapshots ORDER BY service_id'),
      observations: (db.prepare('SELECT COUNT(*) AS n FROM observations').get() as { n: number }).n,
      ragCounts: rows('SELECT rag, COUNT(*) AS n FROM current_snapshots GROUP BY rag ORDER BY rag'),
      sourceRuns: rows('SELECT run_id, source, status FROM source_runs ORDER BY run_id, source') as Array<{
        run_id: number
        source: string
        status: string
      }>,
      runs: rows('SELECT id, kind, status, published_at FROM refresh_runs ORDER BY id') as Array<{
        id: number
        kind: string
        status: string
        published_at: string | null
      }>,
    }
  } finally {
    db.close()
  }
}

/** Runs SQL on the file from a separate connection (installing or dropping a crash-point trigger). */
export function execute(file: string, sql: string): void {
  const db = openDatabase(file)
  try {
    db.exec(sql)
  } finally {
    db.close()
  }
}
