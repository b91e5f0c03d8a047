import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import cron from 'node-cron'
import type { Config } from '../src/config.js'
import type { Logger } from '../src/logger.js'

const here = path.dirname(fileURLToPath(import.meta.url))

/**
 * The refresh runs as a child process (the same entry point as `npm run refresh`), so a long ingest never stalls page
 * requests and a crashed refresh cannot take the server down. The compiled entry point when there is one beside this
 * module (or in `builtDir`: the bench, run from source, starts the build as production does), else the source through
 * tsx.
 */
export function refreshCommand(builtDir: string = here): { command: string; args: string[] } {
  const built = path.join(builtDir, 'refresh.js')
  const node = existsSync(built)
    ? [process.execPath, ...REFRESH_NODE_FLAGS, built]
    : [process.execPath, ...REFRESH_NODE_FLAGS, '--import', 'tsx', path.join(here, 'refresh.ts')]
  if (canStartIdle()) return { command: CHRT, args: ['--idle', '0', ...node] }
  return { command: node[0] as string, args: node.slice(1) }
}

/**
 * util-linux's chrt, to start the refresh under SCHED_IDLE: it runs only on CPU time nothing else wants, so the
 * dashboard keeps its speed while it runs. Where there is none, the refresh lowers its own priority (nice 19).
 */
const CHRT = '/usr/bin/chrt'

let startsIdle: boolean | undefined
/** Whether chrt is there and allowed to set SCHED_IDLE here (a sandbox may refuse): checked once. */
function canStartIdle(): boolean {
  startsIdle ??= existsSync(CHRT) && spawnSync(CHRT, ['--idle', '0', 'true'], { stdio: 'ignore' }).status === 0
  return startsIdle
}

/**
 * A national refresh keeps about 150 MB live, but left alone V8 lets garbage grow the heap to 300+ MB before it
 * collects (peak RSS 410-490 MB, `npm run bench`). Capping the old space makes it collect sooner: peak RSS about
 * 320 MB, no slower. 256 MB is well above the live set of the whole English market.
 */
const REFRESH_NODE_FLAGS = ['--max-old-space-size=256']

export function runRefreshInChildProcess(logger: Logger, trigger = 'schedule'): Promise<number> {
  const { command, args } = refreshCommand()
  return new Promise((resolve) => {
    const child = spawn(command, [...args, '--trigger', trigger], {
      // The child inherits this process's environment (spawn's default) and validates it with loadConfig itself.
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout.on('data', (chunk: Buffer) => logger.debug({ refresh: chunk.toString().trimEnd() }, 'refresh output'))
    child.stderr.on('data', (chunk: Buffer) => logger.warn({ refresh: chunk.toString().trimEnd() }, 'refresh output'))
    child.on('error', (err) => {
      logger.error({ err }, 'could not start the refresh process')
      resolve(-1)
    })
    child.on('exit', (code, signal) => {
      logger.info({ code, signal }, 'refresh process finished')
      resolve(code ?? -1)
    })
  })
}

export interface RefreshSchedule {
  stop(): Promise<void>
  nextRun(): Date | null
}

/** The hours (0-23) a cron expression can fire in, or null when it cannot be read. */
export function cronHours(expression: string): number[] | null {
  const detailed = cron.validateDetailed(expression)
  return detailed.valid && detailed.fields ? detailed.fields.hour : null
}

/**
 * Whether a schedule can fire between 01:00 and 02:00, the hour the UK clock change skips (last Sunday of March: a
 * 01:30 run does not happen that night) or repeats (last Sunday of October). The default '0 2 * * *' does not.
 */
export function firesInClockChangeHour(expression: string): boolean {
  return cronHours(expression)?.includes(1) ?? false
}

/** node-cron's own messages (overlap, missed executions) in the application log. */
function cronLogger(logger: Logger) {
  return {
    info: (message: string) => logger.info({ cron: true }, message),
    // Overlaps are reported once, by the execution:overlap listener below.
    warn: (message: string) =>
      /overlap/i.test(message) ? logger.debug({ cron: true }, message) : logger.warn({ cron: true }, message),
    error: (message: string | Error, err?: Error) => logger.error({ cron: true, err: err ?? message }, String(message)),
    debug: (message: string | Error) => logger.debug({ cron: true }, String(message)),
  }
}

/**
 * node-cron from REFRESH_CRON in TZ, never overlapping itself: a trigger while a run is still going is skipped
 * (logged), not queued. The default 02:00 lies outside the 01:00-02:00 hour that the UK clock change skips (March) or
 * repeats (October), so it runs exactly once a night all year; a schedule inside that hour is allowed but warned about.
 * `run` is injectable for tests (default: the refresh in a child process).
 */
export function scheduleRefresh(
  config: Pick<Config, 'REFRESH_CRON' | 'TZ'>,
  logger: Logger,
  run: () => Promise<unknown> = () => runRefreshInChildProcess(logger),
): RefreshSchedule {
  if (!cron.validate(config.REFRESH_CRON))
    throw new Error(`REFRESH_CRON is not a valid cron expression: ${config.REFRESH_CRON}`)
  if (firesInClockChangeHour(config.REFRESH_CRON)) {
    logger.warn(
      { cron: config.REFRESH_CRON, timezone: config.TZ },
      'REFRESH_CRON fires between 01:00 and 02:00: that run does not happen on the night the clocks go forward (March)',
    )
  }
  const task = cron.schedule(
    config.REFRESH_CRON,
    async () => {
      logger.info('scheduled refresh starting')
      try {
        await run()
      } catch (error) {
        logger.error({ err: error }, 'scheduled refresh failed')
      }
    },
    { timezone: config.TZ, noOverlap: true, name: 'overnight-refresh', logger: cronLogger(logger) },
  )
  task.on('execution:overlap', () => logger.warn('scheduled refresh skipped: the previous one is still running'))
  return {
    stop: async () => {
      await task.stop()
      await task.destroy()
    },
    nextRun: () => task.getNextRun(),
  }
}
