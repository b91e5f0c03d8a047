import { afterEach, describe, expect, it, vi } from 'vitest'
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

describe('scheduleRefresh with an injected clock (fake timers) over the UK clock-change nights', () => {
  /** Runs the schedule for a day of fake time from `start` and returns when (UTC) the run was triggered. */
  async function triggersOverADay(cron: string, start: string): Promise<string[]> {
    vi.useFakeTimers({ now: new Date(start) })
    try {
      const runs: string[] = []
      const task = scheduleRefresh({ REFRESH_CRON: cron, TZ: 'Europe/London' }, logger, async () => {
        runs.push(new Date().toISOString())
      })
      for (let minute = 0; minute < 24 * 60; minute++) await vi.advanceTimersByTimeAsync(60_000)
      await task.stop()
      return runs
    } finally {
      vi.useRealTimers()
    }
  }

  it('the default 02:00 runs exactly once on the night the clocks go forward (28 March 2027)', async () => {
    // 01:00 GMT becomes 02:00 BST: 02:00 London is 01:00 UTC.
    expect(await triggersOverADay('0 2 * * *', '2027-03-27T12:00:00Z')).toEqual(['2027-03-28T01:00:00.000Z'])
  })

  it('the default 02:00 runs exactly once on the night the clocks go back (25 October 2026)', async () => {
    // 02:00 BST becomes 01:00 GMT, so 01:00-02:00 happens twice; 02:00 GMT once.
    expect(await triggersOverADay('0 2 * * *', '2026-10-24T12:00:00Z')).toEqual(['2026-10-25T02:00:00.000Z'])
  })

  it('a schedule inside the 01:00-02:00 hour misses the night the clocks go forward (why it is not the default)', async () => {
    expect(await triggersOverADay('30 1 * * *', '2027-03-27T12:00:00Z')).toEqual([])
    expect(await triggersOverADay('30 1 * * *', '2027-03-28T12:00:00Z')).toEqual(['2027-03-29T00:30:00.000Z'])
  })
})
