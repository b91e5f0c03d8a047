import { existsSync, readdirSync, writeSync } from 'node:fs'
import os from 'node:os'
import cliProgress from 'cli-progress'
import { ConfigError, loadConfig, type Config } from '../src/config.js'
import { DatabaseUnreachableError, openConfiguredStore } from '../src/data/openStore.js'
import { backupPostgres } from '../src/data/postgres/backup.js'
import { sqliteStore, type Store } from '../src/data/store.js'
import { migrate, openDatabase, type Db } from '../src/data/database.js'
import { holdInUse } from '../src/data/databaseLocks.js'
import type { InboxFile, InboxSkippedEntry } from '../src/data/inboxFiles.js'
import type { DueReason } from '../src/data/rechecks.js'
import { AnotherRunInProgressError } from '../src/data/runs.js'
import { createLogger } from '../src/logger.js'
import { backupDatabase, BackupError } from '../src/data/backups.js'
import { assertDatabaseSound, damagedMessage, DatabaseDamagedError, isDamageError } from '../src/data/databaseDamage.js'
import { createServices } from '../src/services/container.js'
import { RefreshService, type RefreshProgress, type RefreshSummary } from '../src/services/refreshService.js'
import { buildSourceSteps } from '../src/services/sources/index.js'

/** Progress bars on a terminal; plain lines when the output is a log (cron child process, CI). */
function progressReporter(interactive: boolean): RefreshProgress & { stop(): void } {
  const out = (line: string) => process.stdout.write(`${line}\n`)
  if (!interactive) {
    let lastPercent = -1
    return {
      onSourceStart: (step) => out(`${step.label}: starting`),
      onSourceEnd: (s) => out(`${s.label}: ${s.status}${s.error ? ` (${s.error})` : ''}`),
      onComputeProgress: (done, total) => {
        const percent = total === 0 ? 100 : Math.floor((done / total) * 10) * 10
        if (percent !== lastPercent) out(`Computing risk: ${done}/${total}`)
        lastPercent = percent
      },
      stop: () => undefined,
    }
  }
  const bars = new cliProgress.MultiBar(
    { format: '{label} [{bar}] {value}/{total} {status}', hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  )
  const bySource = new Map<string, cliProgress.SingleBar>()
  let compute: cliProgress.SingleBar | undefined
  return {
    onSourceStart: (step) => bySource.set(step.source, bars.create(1, 0, { label: step.label.padEnd(20), status: '' })),
    onSourceProgress: (step, done, total) => {
      const bar = bySource.get(step.source)
      if (total !== null) bar?.setTotal(total)
      bar?.update(done)
    },
    onSourceEnd: (s) => {
      const bar = bySource.get(s.source) ?? bars.create(1, 0, { label: s.label.padEnd(20), status: '' })
      bar.update(bar.getTotal(), { status: s.status })
    },
    onComputeProgress: (done, total) => {
      compute ??= bars.create(total, 0, { label: 'Risk'.padEnd(20), status: '' })
      compute.update(done, { status: done === total ? 'done' : '' })
    },
    stop: () => bars.stop(),
  }
}

/**
 * Crash tests only (REFRESH_TEST_HOOKS=1): a SQL function `refresh_test_pause(label, ms)` that a test calls from a
 * trigger it installs (e.g. AFTER INSERT ON rag_changes), so this process stops at a known point, inside a write
 * transaction if the trigger fires in one, prints `PAUSED <label>` and waits `ms` (0: for ever) to be killed.
 * Nothing in production sets it.
 */
function installTestHooks(db: Db, enabled: boolean): void {
  if (!enabled) return
  const gate = new Int32Array(new SharedArrayBuffer(4))
  const announced = new Set<string>()
  db.function('refresh_test_pause', (label: unknown, ms: unknown) => {
    const name = String(label)
    if (!announced.has(name)) {
      announced.add(name)
      // stdout may be a non-blocking pipe the test has not drained yet: retry EAGAIN for up to a second.
      for (let attempt = 0; attempt < 200; attempt++) {
        try {
          writeSync(1, `PAUSED ${name}\n`)
          break
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') break
          Atomics.wait(gate, 0, 0, 5)
        }
      }
    }
    const wait = Number(ms)
    if (wait > 0) Atomics.wait(gate, 0, 0, wait)
    else for (;;) Atomics.wait(gate, 0, 0, 60_000)
    return 0
  })
}

function printSummary(summary: RefreshSummary): void {
  const rows = summary.sources.map((s) => ({
    source: s.label,
    status: s.status,
    read: s.result?.read ?? 0,
    matched: s.result?.matched ?? 0,
    changed: s.result?.changed ?? 0,
    unchanged: s.result?.unchanged ?? 0,
    rejected: s.result?.rejected ?? 0,
    seconds: (s.durationMs / 1000).toFixed(1),
    error: s.error ?? '',
  }))
  process.stdout.write(`\nRefresh run ${summary.runId} as of ${summary.asOf}\n`)
  if (rows.length) console.table(rows)
  process.stdout.write(
    `Services computed: ${summary.servicesComputed}; judgements changed: ${summary.servicesChanged}; ` +
      `RAG changes: ${summary.ragChanges}; took ${(summary.durationMs / 1000).toFixed(1)} s\n`,
  )
  process.stdout.write(`${describeRecompute(summary)}\n`)
  const failed = summary.sources.filter((s) => s.status === 'failed').map((s) => s.label)
  const rejected = summary.sources.reduce((n, s) => n + (s.result?.rejected ?? 0), 0)
  if (failed.length > 0) {
    process.stdout.write(`Failed sources (their last good data is kept): ${failed.join(', ')}\n`)
  }
  if (failed.length > 0 || rejected > 0) {
    process.stdout.write(`Errors and rejected rows: /admin/runs/${summary.runId}\n`)
  }
}

const DUE_REASON_LABELS: Record<DueReason, string> = {
  never_judged: 'never judged',
  no_recheck: 'no recheck date',
  rule_set_changed: 'rule set changed',
  recheck_reached: 'recheck date reached',
  new_observations: 'new observations',
  reported_changed: 'reported changed by a source',
}

/** "Recomputed 312 due services of 30000 (recheck date reached 120, new observations 192); 29688 skipped". */
function describeRecompute(summary: RefreshSummary): string {
  if (summary.recompute === 'all') return `Recomputed every service (${summary.servicesComputed})`
  const reasons = Object.entries(summary.dueReasons ?? {})
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${DUE_REASON_LABELS[reason as DueReason]} ${n}`)
    .join(', ')
  return (
    `Recomputed ${summary.servicesComputed} due services of ${summary.servicesTotal}` +
    `${reasons ? ` (${reasons})` : ''}; ${summary.servicesSkipped} skipped as unchanged`
  )
}

/** Each council file the run read from the inbox, with what became of it (SPEC §6). */
function printInboxFiles(files: InboxFile[]): void {
  if (files.length === 0) return
  process.stdout.write('\nCouncil files (inbox):\n')
  console.table(
    files.map((file) => ({
      file: file.name,
      kind: file.kind ?? 'not recognised',
      status: file.status,
      read: file.rowsRead,
      imported: file.rowsImported,
      rejected: file.rowsRejected,
      duplicate: file.status === 'duplicate' ? `of ${file.duplicateOfName ?? 'an earlier file'}` : file.rowsDuplicate,
      'moved to': file.movedTo ?? '',
    })),
  )
  for (const file of files) {
    if (file.fileError !== null) process.stdout.write(`${file.name}: ${file.fileError}\n`)
  }
}

/** Every entry the run left in the inbox, and why: nothing there is silently left for another night. */
function printLeftInInbox(entries: InboxSkippedEntry[]): void {
  if (entries.length === 0) return
  process.stdout.write('\nLeft in the inbox:\n')
  for (const entry of entries) process.stdout.write(`${entry.name}: ${entry.reason}\n`)
}

function triggerFromArgs(argv: string[]): string {
  const index = argv.indexOf('--trigger')
  return index >= 0 && argv[index + 1] ? (argv[index + 1] as string) : 'manual'
}

/**
 * The refresh is batch work on the machine that serves the dashboard. The schedule starts it under SCHED_IDLE where it
 * can (jobs/schedule.ts); this lowers it further wherever it runs from, to the lowest priority (nice 19), so it takes
 * the CPU the server leaves and, at night with the machine to itself, is no slower. On Linux each thread has its own
 * priority, and V8's helper threads (garbage collection, compilation) start before this code runs: each is lowered,
 * not only this one. Threads started later (libuv's pool) take the priority of the thread starting them.
 */
function yieldCpuToTheServer(): void {
  const threads = existsSync('/proc/self/task') ? readdirSync('/proc/self/task').map(Number) : [0]
  for (const thread of threads) {
    try {
      os.setPriority(thread, os.constants.priority.PRIORITY_LOW)
    } catch {
      // Not permitted here (some containers), or the thread has ended: it runs at normal priority.
    }
  }
}

/** `npm run refresh`: exit 0 when the run completed (even with a failed source), non-zero when it could not run. */
async function main(): Promise<number> {
  yieldCpuToTheServer()
  const config = loadConfig()
  // On a terminal the summary table reports failures; logs would break the progress bars.
  const logger = createLogger(process.stdout.isTTY ? 'error' : config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL)
  const { store, release } = await openRefreshStore(config)
  try {
    const services = createServices(store, config, logger)
    const progress = progressReporter(Boolean(process.stdout.isTTY))
    try {
      const summary = await new RefreshService(services, buildSourceSteps(services)).run({
        trigger: triggerFromArgs(process.argv.slice(2)),
        progress,
        // --all: recompute every service, not only those whose judgement could have changed.
        all: process.argv.slice(2).includes('--all'),
      })
      progress.stop()
      printSummary(summary)
      printInboxFiles(await services.inbox.filesForRun(summary.runId))
      printLeftInInbox(await services.inbox.skippedForRun(summary.runId))
      return 0
    } finally {
      progress.stop()
    }
  } finally {
    await store.close()
    release()
  }
}

/**
 * SQLite: held "in use" (restore waits), checked for damage, copied aside, migrated. PostgreSQL: copied aside with
 * pg_dump (every refresh takes a backup before it writes, SPEC §9), migrated under the advisory lock; the run lock is
 * an advisory lock there, so two instances' schedules start one run.
 */
async function openRefreshStore(config: Config): Promise<{ store: Store; release(): void }> {
  if (config.DATABASE_URL) {
    const backup = await backupPostgres(config.DATABASE_URL, { dir: config.BACKUP_DIR, keep: config.BACKUP_KEEP })
    process.stdout.write(`Backup before the run: ${backup}\n`)
    return { store: await openConfiguredStore(config), release: () => undefined }
  }
  // Held for the run's life: `npm run restore` refuses while it is (src/data/databaseLocks.ts).
  const inUse = holdInUse(config.DATABASE_PATH)
  if (!inUse)
    throw new RefreshRefusedError(
      'A restore (npm run restore) is replacing the database: refresh when it has finished.',
    )
  // Checked before anything is written (a backup of a damaged file is no backup).
  assertDatabaseSound(config.DATABASE_PATH, config.BACKUP_DIR)
  const db = openDatabase(config.DATABASE_PATH)
  try {
    const backup = await backupDatabase(db, { dir: config.BACKUP_DIR, keep: config.BACKUP_KEEP })
    process.stdout.write(`Backup before the run: ${backup}\n`)
    migrate(db)
    installTestHooks(db, config.REFRESH_TEST_HOOKS)
  } catch (error) {
    db.close()
    inUse.release()
    throw error
  }
  return { store: sqliteStore(db), release: () => inUse.release() }
}

/** Refused for a reason the operator can act on: the message says it all, no stack trace. */
class RefreshRefusedError extends Error {}

function describeFailure(error: unknown): string {
  if (
    error instanceof ConfigError ||
    error instanceof AnotherRunInProgressError ||
    error instanceof DatabaseDamagedError ||
    error instanceof RefreshRefusedError ||
    error instanceof DatabaseUnreachableError
  ) {
    return error.message
  }
  if (error instanceof BackupError) return `Refresh not run: no backup could be taken first. ${error.message}`
  if (isDamageError(error)) {
    const config = loadConfig()
    return `Refresh stopped: ${damagedMessage(config.DATABASE_PATH, config.BACKUP_DIR, [(error as Error).message])}`
  }
  return `Refresh could not run: ${(error as Error).stack ?? String(error)}`
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${describeFailure(error)}\n`)
    process.exit(1)
  },
)
