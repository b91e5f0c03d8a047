/** Time as the rate limiter sees it: injectable so tests run without waiting. */
export interface Clock {
  now(): number
  sleep(ms: number): Promise<void>
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
}

export interface RateLimiterOptions {
  /** Requests allowed in any window of `windowMs`. */
  limit: number
  windowMs: number
  clock?: Clock
}

/**
 * Sliding-window limiter: at most `limit` requests start within any `windowMs`. Callers are served in
 * the order they asked, so concurrent workers cannot jointly overshoot the source's limit.
 */
export class SlidingWindowRateLimiter {
  private readonly limit: number
  private readonly windowMs: number
  private readonly clock: Clock
  private readonly started: number[] = []
  private queue: Promise<void> = Promise.resolve()

  constructor(options: RateLimiterOptions) {
    if (!Number.isInteger(options.limit) || options.limit < 1) throw new RangeError('limit must be a positive integer')
    if (!(options.windowMs > 0)) throw new RangeError('windowMs must be positive')
    this.limit = options.limit
    this.windowMs = options.windowMs
    this.clock = options.clock ?? systemClock
  }

  /** Resolves when one more request may start now. */
  acquire(): Promise<void> {
    const turn = this.queue.then(() => this.waitForSlot())
    this.queue = turn.catch(() => undefined)
    return turn
  }

  private async waitForSlot(): Promise<void> {
    for (;;) {
      const now = this.clock.now()
      while (this.started.length > 0 && (this.started[0] as number) <= now - this.windowMs) this.started.shift()
      if (this.started.length < this.limit) {
        this.started.push(now)
        return
      }
      await this.clock.sleep((this.started[0] as number) + this.windowMs - now)
    }
  }
}

/** Companies House: 600 requests per 5 minutes, then every request gets 429 until the window resets. */
export function companiesHouseRateLimiter(clock?: Clock): SlidingWindowRateLimiter {
  return new SlidingWindowRateLimiter({ limit: 600, windowMs: 5 * 60_000, clock })
}

/** CQC publishes no figure for the current API; Skills for Care throttles to 2000 a minute. */
export function cqcRateLimiter(clock?: Clock): SlidingWindowRateLimiter {
  return new SlidingWindowRateLimiter({ limit: 2000, windowMs: 60_000, clock })
}
