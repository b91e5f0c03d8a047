import express, { type Router } from 'express'
import session from 'express-session'
import type { Config } from '../config.js'
import type { Db } from '../data/database.js'
import { persistedSessionSecret, StoreSessionStore } from '../data/sessionStore.js'
import { sqliteStore, type Store } from '../data/store.js'

export const SESSION_COOKIE_NAME = 'prd.sid'
/** Idle time-out: the cookie and the stored session expire this long after the last request (rolling). */
export const IDLE_TIMEOUT_MS = 30 * 60 * 1000
/** Absolute time-out after sign-in, whatever the activity; enforced by the authentication middleware. */
export const ABSOLUTE_TIMEOUT_MS = 12 * 60 * 60 * 1000

export interface WebSessionOptions {
  idleTimeoutMs?: number
}

/**
 * express-session on the store, for browsers (requests without an Authorization header). Sessions are created
 * only when something is stored in them (a CSRF token or a sign-in). The secret is SESSION_SECRET, else one generated
 * once and kept in the database (read at the first request).
 */
export function setUpWebSession(
  storeOrDb: Store | Db,
  config: Pick<Config, 'NODE_ENV' | 'SESSION_SECRET'>,
  options: WebSessionOptions = {},
): Router {
  const store = 'write' in storeOrDb && 'repositories' in storeOrDb ? storeOrDb : sqliteStore(storeOrDb)
  const router = express.Router()
  let middleware: Promise<express.RequestHandler> | undefined
  const sessions: express.RequestHandler = (req, res, next) => {
    middleware ??= sessionMiddleware(store, config, options)
    middleware.then(
      (handler) => handler(req, res, next),
      (error: unknown) => {
        middleware = undefined
        next(error)
      },
    )
  }
  // A request with an Authorization header is a script's (an API token; a bad one is refused by authentication):
  // it never uses a session, so none is made, hashed or looked up for it.
  router.use((req, res, next) => (req.headers.authorization === undefined ? sessions(req, res, next) : next()))
  return router
}

async function sessionMiddleware(
  store: Store,
  config: Pick<Config, 'NODE_ENV' | 'SESSION_SECRET'>,
  options: WebSessionOptions,
): Promise<express.RequestHandler> {
  return session({
    name: SESSION_COOKIE_NAME,
    secret: config.SESSION_SECRET ?? (await persistedSessionSecret(store)),
    store: new StoreSessionStore(store),
    resave: false,
    saveUninitialized: false,
    rolling: true,
    unset: 'destroy',
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: config.NODE_ENV === 'production',
      maxAge: options.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
      path: '/',
    },
  })
}

/** Promise wrappers for the callback-style session methods. */
export function regenerateSession(req: express.Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())))
}

export function saveSession(req: express.Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())))
}

export function destroySession(req: express.Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())))
}
