import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import express, { type Router } from 'express'
import helmet from 'helmet'

export interface WebSecurityOptions {
  /** Adds upgrade-insecure-requests (production only: it would break plain-HTTP localhost). */
  production?: boolean
}

/** The paths whose responses may be cached: static files and the health probe (everything else carries data). */
function isCacheable(path: string): boolean {
  return path.startsWith('/assets/') || path === '/health'
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
    res.locals.cspNonce = randomBytes(16).toString('base64')
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
          formAction: ["'self'"],
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
