import { randomFillSync } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import express, { type Router } from 'express'
import helmet from 'helmet'

export interface WebSecurityOptions {
  /** Adds upgrade-insecure-requests (production only: it would break plain-HTTP localhost). */
  production?: boolean
  /**
   * Other origins a form may lead to: the single sign-on provider, where signing out (a form) ends its session too.
   * Chromium applies form-action to every redirect after a form is sent.
   */
  formActionOrigins?: readonly string[]
}

/** The paths whose responses may be cached: static files and the health probe (everything else carries data). */
function isCacheable(path: string): boolean {
  return path.startsWith('/assets/') || path === '/health'
}

const NONCE_BYTES = 16
/** Random bytes from the OS for 256 nonces at a time (one call per 256 pages, not one each); each used once. */
const noncePool = Buffer.alloc(NONCE_BYTES * 256)
let nonceOffset = noncePool.length

/** A fresh CSP nonce: 128 random bits, base64. */
export function nextNonce(): string {
  if (nonceOffset >= noncePool.length) {
    randomFillSync(noncePool)
    nonceOffset = 0
  }
  const nonce = noncePool.toString('base64', nonceOffset, nonceOffset + NONCE_BYTES)
  nonceOffset += NONCE_BYTES
  return nonce
}

function nonceSource(_req: IncomingMessage, res: ServerResponse): string {
  return `'nonce-${(res as express.Response).locals.cspNonce as string}'`
}

/**
 * helmet with a strict Content Security Policy: scripts only from this origin or inline with the
 * per-request nonce (res.locals.cspNonce), styles only from this origin, no framing, no plugins.
 * Also `Cache-Control: no-store` on everything but /assets and /health.
 */
export function setUpWebSecurity(options: WebSecurityOptions = {}): Router {
  const router = express.Router()
  router.use((_req, res, next) => {
    res.locals.cspNonce = nextNonce()
    next()
  })
  router.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'", nonceSource],
          scriptSrcAttr: ["'none'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'"],
          connectSrc: ["'self'"],
          objectSrc: ["'none'"],
          frameAncestors: ["'none'"],
          formAction: ["'self'", ...(options.formActionOrigins ?? [])],
          baseUri: ["'self'"],
          upgradeInsecureRequests: options.production ? [] : null,
        },
      },
      referrerPolicy: { policy: 'same-origin' },
      strictTransportSecurity: options.production ? undefined : false,
    }),
  )
  router.use((req, res, next) => {
    if (!isCacheable(req.path)) res.set('Cache-Control', 'no-store')
    next()
  })
  return router
}
