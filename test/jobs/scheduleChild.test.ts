import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { scheduleRefresh, type RefreshSchedule } from '../../jobs/schedule.js'
import { createLogger } from '../../src/logger.js'
import { SourceServer } from '../helpers/sourceServer.js'
import { cqcLocationId, inspect, openServices, seedPublishedRegister, tempDatabasePath } from './refreshChild.js'

/**
 * The acceptance line "node-cron triggers the run at the configured time", end to end: REFRESH_CRON set to a time a
 * few seconds from now (London time, once a day, as a council would set 02:00), the server's scheduler with its
 * default action, which starts `jobs/refresh.ts` as a child process that refreshes the database from the sources.
 */
const SERVICES = 6
const SOURCE_VARIABLES = [
  'DATABASE_PATH',
  'BACKUP_DIR',
  'NODE_ENV',
  'TZ',
  'LOG_LEVEL',
  'CQC_API_BASE',
  'CQC_API_KEY',
  'CQC_FILE',
  'FHRS_API_BASE',
  'FHRS_XML_DIR',
  'COMPANIES_HOUSE_API_BASE',
  'COMPANIES_HOUSE_API_KEY',
  'INBOX_DIR',
]

let server: SourceServer
let database: ReturnType<typeof tempDatabasePath>
let schedule: RefreshSchedule | undefined
const savedEnv: Record<string, string | undefined> = {}

beforeEach(async () => {
  server = await SourceServer.start()
  database = tempDatabasePath()
  ;(await seedPublishedRegister(database.file, SERVICES)).db.close()
  for (let i = 0; i < SERVICES; i++) {
    server.cqcRatings.set(cqcLocationId(i), { rating: 'Inadequate', reportDate: '2026-10-01' })
  }
  // The child inherits the server's environment, as in production.
  for (const name of SOURCE_VARIABLES) savedEnv[name] = process.env[name]
  for (const name of SOURCE_VARIABLES) delete process.env[name]
  Object.assign(process.env, {
    DATABASE_PATH: database.file,
    NODE_ENV: 'test',
    TZ: 'Europe/London',
    LOG_LEVEL: 'warn',
    INBOX_DIR: `${database.file}.no-inbox`,
    BACKUP_DIR: `${database.file}.backups`,
    CQC_API_BASE: server.env().CQC_API_BASE,
    CQC_API_KEY: 'test',
  })
})

afterEach(async () => {
  await schedule?.stop()
  schedule = undefined
  for (const name of SOURCE_VARIABLES) {
    if (savedEnv[name] === undefined) delete process.env[name]
    else process.env[name] = savedEnv[name]
  }
  await server.close()
  database.cleanUp()
})

/** A daily cron expression (with seconds) for `at`, in London time. */
function dailyCronAt(at: Date): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/London',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
    hourCycle: 'h23',
  }).formatToParts(at)
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value)
  return `${part('second')} ${part('minute')} ${part('hour')} * * *`
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`nothing after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

describe('the scheduled overnight refresh', () => {
  it('fires at the configured time and runs the refresh in a child process', { timeout: 45_000 }, async () => {
    const at = new Date(Math.ceil((Date.now() + 3000) / 1000) * 1000)
    const cron = dailyCronAt(at)
    schedule = scheduleRefresh({ REFRESH_CRON: cron, TZ: 'Europe/London' }, createLogger('silent'))
    expect(schedule.nextRun()?.getTime()).toBe(at.getTime())
    expect(inspect(database.file).runs.filter((run) => run.kind === 'full')).toHaveLength(1)

    const run = await waitFor(() => {
      const services = openServices(database.file)
      try {
        return services.db
          .prepare(`SELECT * FROM refresh_runs WHERE trigger = 'schedule' AND status != 'running'`)
          .get() as { id: number; status: string; started_at: string } | undefined
      } finally {
        services.db.close()
      }
    }, 30_000)

    expect(run.status).toBe('completed')
    // Started by the schedule, not before the configured second.
    expect(Date.parse(run.started_at)).toBeGreaterThanOrEqual(at.getTime())
    expect(Date.parse(run.started_at) - at.getTime()).toBeLessThan(5000)
    expect(server.requestsTo('/cqc/locations/').length).toBeGreaterThanOrEqual(SERVICES)
    expect(inspect(database.file).ragCounts).toEqual([{ rag: 'red', n: SERVICES }])
    // Once a day: the next run is at the same London time tomorrow.
    const next = schedule.nextRun()!
    expect(next.getTime() - at.getTime()).toBeGreaterThan(22 * 60 * 60 * 1000)
    expect(dailyCronAt(next)).toBe(cron)
  })
})
