import { afterEach, describe, expect, it } from 'vitest'
import { cronHours, firesInClockChangeHour, scheduleRefresh, type RefreshSchedule } from '../../jobs/schedule.js'
import { configSchema } from '../../src/config.js'
import { createLogger } from '../../src/logger.js'

const logger = createLogger('silent')
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let schedule: RefreshSchedule | undefined
afterEach(async () => {
  await schedule?.stop()
  schedule = undefined
})

describe('scheduleRefresh', () => {
  it('triggers the injected run on the cron schedule', async () => {
    const runs: number[] = []
    schedule = scheduleRefresh({ REFRESH_CRON: '*/1 * * * * *', TZ: 'Europe/London' }, logger, async () => {
      runs.push(Date.now())
    })
    const started = Date.now()
    await sleep(2300)
    expect(runs.length).toBeGreaterThanOrEqual(2)
    expect(runs[0]! - started).toBeLessThan(1100)
  })

  it('never overlaps: a trigger while a run is going is skipped, not queued', async () => {
    // Each run outlasts the 3.3 s watched, so the triggers after the first all fall while it is going.
    let running = 0
    let maxRunning = 0
    let started = 0
    schedule = scheduleRefresh({ REFRESH_CRON: '*/1 * * * * *', TZ: 'Europe/London' }, logger, async () => {
      started++
      running++
      maxRunning = Math.max(maxRunning, running)
      await sleep(3600)
      running--
    })
    await sleep(3300)
    expect(started).toBe(1)
    expect(maxRunning).toBe(1)
  })

  it('keeps scheduling after a run fails', async () => {
    let calls = 0
    schedule = scheduleRefresh({ REFRESH_CRON: '*/1 * * * * *', TZ: 'Europe/London' }, logger, async () => {
      calls++
      throw new Error('refresh exited 1')
    })
    await sleep(2300)
    expect(calls).toBeGreaterThanOrEqual(2)
  })

  it('refuses an invalid expression', () => {
    expect(() => scheduleRefresh({ REFRESH_CRON: 'every night', TZ: 'Europe/London' }, logger)).toThrow(/REFRESH_CRON/)
  })

  it('fires the default at 02:00 London time, outside the clock-change hour', () => {
    const defaults = configSchema.parse({})
    expect(defaults.REFRESH_CRON).toBe('0 2 * * *')
    expect(cronHours(defaults.REFRESH_CRON)).toEqual([2])
    expect(firesInClockChangeHour(defaults.REFRESH_CRON)).toBe(false)
    expect(firesInClockChangeHour('30 1 * * *')).toBe(true)
    expect(firesInClockChangeHour('0 0-3 * * *')).toBe(true)

    schedule = scheduleRefresh({ REFRESH_CRON: defaults.REFRESH_CRON, TZ: 'Europe/London' }, logger, async () => {})
    const next = schedule.nextRun()
    expect(next).not.toBeNull()
    const london = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/London',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(next!)
    expect(london).toBe('02:00')
  })
})
