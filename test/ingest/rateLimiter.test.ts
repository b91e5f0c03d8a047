import { describe, expect, it } from 'vitest'
import { companiesHouseRateLimiter, SlidingWindowRateLimiter, type Clock } from '../../src/ingest/rateLimiter.js'

/** A clock whose sleep advances time instantly. */
function fakeClock(start = 0): Clock & { time: number; sleeps: number[] } {
  const clock = {
    time: start,
    sleeps: [] as number[],
    now: () => clock.time,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms)
      clock.time += ms
    },
  }
  return clock
}

describe('SlidingWindowRateLimiter', () => {
  it('lets `limit` requests through a window, then waits until the oldest leaves it', async () => {
    const clock = fakeClock()
    const limiter = new SlidingWindowRateLimiter({ limit: 3, windowMs: 1000, clock })
    const startedAt: number[] = []
    for (let i = 0; i < 7; i++) {
      await limiter.acquire()
      startedAt.push(clock.time)
    }
    expect(startedAt).toEqual([0, 0, 0, 1000, 1000, 1000, 2000])
  })

  it('never admits more than the limit in any window, even to concurrent callers', async () => {
    const clock = fakeClock()
    const limiter = new SlidingWindowRateLimiter({ limit: 5, windowMs: 300, clock })
    const startedAt: number[] = []
    await Promise.all(
      Array.from({ length: 23 }, async () => {
        await limiter.acquire()
        startedAt.push(clock.time)
      }),
    )
    expect(startedAt).toHaveLength(23)
    for (const t of startedAt) {
      expect(startedAt.filter((s) => s > t - 300 && s <= t).length).toBeLessThanOrEqual(5)
    }
  })

  it('waits only as long as the window needs', async () => {
    const spreadOut = fakeClock()
    const relaxed = new SlidingWindowRateLimiter({ limit: 2, windowMs: 100, clock: spreadOut })
    for (let i = 0; i < 5; i++) {
      await relaxed.acquire()
      spreadOut.time += 60
    }
    expect(spreadOut.sleeps).toEqual([])

    const busy = fakeClock()
    const strict = new SlidingWindowRateLimiter({ limit: 2, windowMs: 100, clock: busy })
    for (let i = 0; i < 5; i++) {
      await strict.acquire()
      busy.time += 30
    }
    expect(busy.sleeps).toEqual([40, 40])
  })

  it('applies Companies House limits of 600 per 5 minutes', async () => {
    const clock = fakeClock()
    const limiter = companiesHouseRateLimiter(clock)
    for (let i = 0; i < 601; i++) await limiter.acquire()
    expect(clock.time).toBe(300_000)
  })

  it('rejects nonsense limits', () => {
    expect(() => new SlidingWindowRateLimiter({ limit: 0, windowMs: 1 })).toThrow(RangeError)
  })
})
