import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express'
import type { ApiTokensRepository } from '../data/apiTokens.js'
import type { UsersRepository } from '../data/users.js'
import { HttpError } from './httpErrors.js'
import type { RequestUser } from './requestUser.js'
import type { Role } from './roles.js'
import { ABSOLUTE_TIMEOUT_MS, regenerateSession } from './session.js'

export interface AuthenticationDeps {
  users: UsersRepository
  apiTokens: ApiTokensRepository
  absoluteTimeoutMs?: number
  now?: () => Date
}

// RFC 9110: the scheme name is case-insensitive.
const BEARER = /^Bearer[ ]+([A-Za-z0-9_\-.~+/]+=*)[ ]*$/i

function signIn(req: Request, res: Response, user: RequestUser): void {
  req.user = user
  res.locals.user = user
}

function refuseToken(res: Response): void {
  res.set('WWW-Authenticate', 'Bearer error="invalid_token"')
  res.status(401).json({ error: 'The API token is not valid or has been revoked', details: [] })
}

/**
 * Sets req.user (and res.locals.user for views) from an `Authorization: Bearer` API token, else from the
 * session. A bad token is refused at once with 401. A session past the absolute time-out, or whose user was
 * deleted or disabled, is replaced by a fresh anonymous one. Roles are read from the database on every request,
 * so a role change or a disabled account takes effect immediately.
 */
export function setUpAuthentication(deps: AuthenticationDeps): Router {
  const absoluteTimeoutMs = deps.absoluteTimeoutMs ?? ABSOLUTE_TIMEOUT_MS
  const now = deps.now ?? (() => new Date())
  const router = express.Router()

  router.use(async (req: Request, res: Response, next: NextFunction) => {
    const authorization = req.get('authorization')
    if (authorization !== undefined) {
      const secret = BEARER.exec(authorization)?.[1]
      const token = secret === undefined ? undefined : await deps.apiTokens.findActiveBySecret(secret)
      if (token === undefined) return refuseToken(res)
      await deps.apiTokens.markUsed(token, now())
      signIn(req, res, { id: token.id, email: `api-token:${token.name}`, role: token.role, via: 'token' })
      return next()
    }

    const userId = req.session?.userId
    if (userId === undefined) return next()
    const signedInAt = Date.parse(req.session.signedInAt ?? '')
    const withinAbsoluteTimeout = now().getTime() - signedInAt <= absoluteTimeoutMs
    const user = withinAbsoluteTimeout ? await deps.users.findById(userId) : undefined
    if (user === undefined || user.disabled) {
      await regenerateSession(req)
      return next()
    }
    signIn(req, res, { id: user.id, email: user.email, role: user.role, via: 'session' })
    next()
  })
  return router
}

/**
 * For pages: anonymous visitors are sent to sign in (coming back here afterwards, for GET requests);
 * a signed-in user without one of the roles gets a 403 error for the app's error handler to render. Pages need a
 * person: an API token (even an admin's) gets 403, so a token can never add users or tokens.
 */
export function requireRole(...roles: Role[]): RequestHandler {
  return (req, res, next) => {
    if (req.user === undefined) {
      const isRead = req.method === 'GET' || req.method === 'HEAD'
      res.redirect(isRead ? `/sign-in?returnTo=${encodeURIComponent(req.originalUrl)}` : '/sign-in')
      return
    }
    if (req.user.via === 'token') {
      next(new HttpError(403, 'An API token is for the JSON API under /api/v1: pages need a person signed in'))
      return
    }
    if (!roles.includes(req.user.role)) {
      next(new HttpError(403, 'You do not have permission to see this page'))
      return
    }
    next()
  }
}

/** For the JSON API: 401 without a session or token, 403 with the wrong role, as `{ error, details }`. */
export function requireApiRole(...roles: Role[]): RequestHandler {
  return (req, res, next) => {
    if (req.user === undefined) {
      res.set('WWW-Authenticate', 'Bearer')
      res.status(401).json({ error: 'Authentication required: sign in or send an API token', details: [] })
      return
    }
    if (!roles.includes(req.user.role)) {
      res.status(403).json({
        error: 'Your role may not use this',
        details: [`Requires one of the roles: ${roles.join(', ')}; yours is ${req.user.role}`],
      })
      return
    }
    next()
  }
}
