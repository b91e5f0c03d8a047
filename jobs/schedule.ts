import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import cron from 'node-cron'
import type { Config } from '../src/config.js'
import type { Logger } from '../src/logger.js'

const here = path.dirname(fileURLToPath(import.meta.url))

/**
 * The refresh runs as a child process (the same entry point as `npm run refresh`), so a long ingest never stalls page
 * requests and a crashed refresh cannot take the server down.
 */
export function refreshCommand(): { command: string; args: string[] } {
  const built = path.join(here, 'refresh.js')
  if (existsSync(built)) return { command: process.execPath, args: [built] }
  return { command: process.execPath, args: ['--import', 'tsx', path.join(here, 'refresh.ts')] }
}

export function runRefreshInChildProcess(logger: Logger, trigger = 'schedule'): Promise<number> {
  const { command, args } = refreshCommand()
  return new Promise((resolve) => {
    const child = spawn(command, [...args, '--trigger', trigger], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
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

/**
 * node-cron from REFRESH_CRON in TZ, never overlapping itself. The default 02:00 lies outside the 01:00-02:00 hour
 * that the UK clock change skips (March) or repeats (October), so it runs exactly once a night all year.
 */
export function scheduleRefresh(
  config: Pick<Config, 'REFRESH_CRON' | 'TZ'>,
  logger: Logger,
  run: () => Promise<unknown> = () => runRefreshInChildProcess(logger),
): RefreshSchedule {
  if (!cron.validate(config.REFRESH_CRON))
    throw new Error(`REFRESH_CRON is not a valid cron expression: ${config.REFRESH_CRON}`)
  const task = cron.schedule(
    config.REFRESH_CRON,
    async () => {
      logger.info('scheduled refresh starting')
      await run()
    },
    { timezone: config.TZ, noOverlap: true, name: 'overnight-refresh' },
  )
  return {
    stop: async () => {
      await task.stop()
      await task.destroy()
    },
    nextRun: () => task.getNextRun(),
  }
}
