import type { Request, RequestHandler, Response } from 'express'
import { ipKeyGenerator, rateLimit } from 'express-rate-limit'
import { normaliseEmail } from '../data/users.js'

export interface SignInRateLimitOptions {
  /** Failed attempts allowed per IP address and email address in the window (default 10). */
  perAccountLimit?: number
  /** Failed attempts allowed per IP address, whatever the email, in the window (default 50). */
  perAddressLimit?: number
  /** Default 15 minutes. */
  windowMs?: number
}

const DEFAULT_WINDOW_MS = 15 * 60 * 1000

function submittedEmail(req: Request): string {
  const email: unknown = (req.body as Record<string, unknown> | undefined)?.email
  return typeof email === 'string' ? normaliseEmail(email).slice(0, 254) : ''
}

/**
 * The strictest limit in the app: failed sign-ins per IP and email (guessing one person's password) and per IP
 * (trying many accounts). Successful sign-ins do not count. `onLimited` renders the refusal.
 */
export function signInRateLimiters(
  onLimited: (req: Request, res: Response, retryAfterMinutes: number) => void,
  options: SignInRateLimitOptions = {},
): RequestHandler[] {
  const windowMs = options.windowMs ?? DEFAULT_WINDOW_MS
  const retryAfterMinutes = Math.ceil(windowMs / 60_000)
  const common = {
    windowMs,
    standardHeaders: 'draft-8' as const,
    legacyHeaders: false,
    skipSuccessfulRequests: true,
    requestWasSuccessful: (_req: Request, res: Response) => res.statusCode < 400,
    handler: (req: Request, res: Response) => onLimited(req, res, retryAfterMinutes),
  }
  return [
    rateLimit({
      ...common,
      limit: options.perAddressLimit ?? 50,
      identifier: 'sign-in-per-address',
      keyGenerator: (req) => ipKeyGenerator(req.ip ?? ''),
    }),
    rateLimit({
      ...common,
      limit: options.perAccountLimit ?? 10,
      identifier: 'sign-in-per-account',
      keyGenerator: (req) => `${ipKeyGenerator(req.ip ?? '')}|${submittedEmail(req)}`,
    }),
  ]
}
