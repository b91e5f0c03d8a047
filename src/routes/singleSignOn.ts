import express, { type Request, type Response, type Router } from 'express'
import { z } from 'zod'
import { AuthorizationResponseError, ResponseBodyError } from 'openid-client'
import type { OidcClient } from '../auth/oidcClient.js'
import { roleFromClaims, type RoleMap } from '../auth/oidcRoles.js'
import { safeReturnTo } from '../auth/returnTo.js'
import { ROLES } from '../auth/roles.js'
import { regenerateSession, saveSession } from '../auth/session.js'
import type { UsersRepository } from '../data/users.js'
import { renderErrorPage } from '../views/setup.js'

export interface SingleSignOnDeps {
  /** Undefined when single sign-on is not configured: the routes then answer 404. */
  oidc: OidcClient | undefined
  users: UsersRepository
  rolesClaim: string
  roleMap: RoleMap
}

interface Refusal {
  status: number
  heading: string
  messages: string[]
}

const TRY_AGAIN = { href: '/sign-in', text: 'Go to the sign-in page' }

function renderRefusal(res: Response, refusal: Refusal): void {
  res.status(refusal.status).render('pages/error', { pageTitle: refusal.heading, ...refusal, link: TRY_AGAIN })
}

const NOT_SIGNED_IN = 'You have not been signed in.'

const UNREACHABLE: Refusal = {
  status: 503,
  heading: 'The council sign-in service is not available',
  messages: [
    'The dashboard could not reach your council’s sign-in service. ' + NOT_SIGNED_IN,
    'Try again in a few minutes. If it keeps happening, tell your IT service desk.',
  ],
}

const ALREADY_USED: Refusal = {
  status: 400,
  heading: 'This sign-in link has already been used or has expired',
  messages: [
    NOT_SIGNED_IN,
    'Each sign-in link works once, in the browser that started it. Start again from the sign-in page.',
  ],
}

const UNTRUSTED: Refusal = {
  status: 400,
  heading: 'Your sign-in could not be checked',
  messages: [
    'The answer from the council sign-in service did not pass the dashboard’s checks. ' + NOT_SIGNED_IN,
    'Start again from the sign-in page. If it keeps happening, tell your IT service desk.',
  ],
}

const NO_ROLE: Refusal = {
  status: 403,
  heading: 'You do not have access to the Provider Risk Dashboard',
  messages: [
    'Your council account was recognised, but it has no role for this dashboard, so you have not been signed in.',
    `Ask your IT service desk or the dashboard’s administrator to give you one of its roles (${ROLES.join(', ')}).`,
  ],
}

const NO_EMAIL: Refusal = {
  status: 403,
  heading: 'Your council account has no email address',
  messages: [
    'The dashboard needs an email address for each person, and the council sign-in service sent none. ' + NOT_SIGNED_IN,
    'Ask your IT service desk to check your account.',
  ],
}

const DISABLED: Refusal = {
  status: 403,
  heading: 'Your dashboard account is disabled',
  messages: [NOT_SIGNED_IN, 'Ask the dashboard’s administrator to enable your account.'],
}

const EMAIL_TAKEN: Refusal = {
  status: 403,
  heading: 'Your email address belongs to another dashboard account',
  messages: [
    'Another council account already signs in to the dashboard with this email address. ' + NOT_SIGNED_IN,
    'Ask the dashboard’s administrator to check the accounts.',
  ],
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'])

/** True when the provider could not be reached or did not answer in time (anywhere in the error's causes). */
function isUnreachable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    const code = (cause as { code?: unknown }).code
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('UND_ERR'))) return true
    if (cause.name === 'TimeoutError' || cause.name === 'AbortError' || cause.message === 'fetch failed') return true
  }
  return false
}

function refusalFor(error: unknown): Refusal {
  if (isUnreachable(error)) return UNREACHABLE
  if (error instanceof ResponseBodyError && error.error === 'invalid_grant') return ALREADY_USED
  if (error instanceof AuthorizationResponseError) {
    return {
      status: 400,
      heading: 'The council sign-in service did not sign you in',
      messages: [`It said: ${error.error_description ?? error.error}.`, NOT_SIGNED_IN],
    }
  }
  return UNTRUSTED
}

const emailSchema = z.email()

/** The person's email: the `email` claim, else Entra's `preferred_username` when it is one (the UPN). */
function emailFrom(claims: Record<string, unknown>): string | undefined {
  for (const candidate of [claims.email, claims.preferred_username]) {
    const parsed = emailSchema.safeParse(typeof candidate === 'string' ? candidate.trim() : undefined)
    if (parsed.success) return parsed.data
  }
  return undefined
}

function nameFrom(claims: Record<string, unknown>): string | null {
  return typeof claims.name === 'string' && claims.name.trim() !== '' ? claims.name.trim().slice(0, 200) : null
}

/** The raw query string of the request, as the provider sent it. */
function queryOf(req: Request): string {
  const index = req.originalUrl.indexOf('?')
  return index < 0 ? '' : req.originalUrl.slice(index)
}

/**
 * GET /auth/login (sends the person to the council's OpenID Connect provider), GET /auth/callback (where the
 * provider sends them back: checked, then signed in with the role their claims give) and GET /auth/signed-out
 * (where the provider sends them after signing out there). Mount after session, authentication and CSRF.
 */
export function singleSignOnRoutes(deps: SingleSignOnDeps): Router {
  const router = express.Router()
  const { oidc } = deps

  router.get('/auth/login', async (req, res) => {
    if (oidc === undefined || !req.session) return renderErrorPage(res, 404)
    const returnTo = safeReturnTo(req.query.returnTo)
    try {
      const { url, pending } = await oidc.startSignIn(returnTo)
      req.session.oidcSignIn = pending
      await saveSession(req)
      res.redirect(303, url.href)
    } catch (error) {
      req.log.warn({ err: error }, 'single sign-on could not start')
      renderRefusal(res, refusalFor(error))
    }
  })

  router.get('/auth/callback', async (req, res) => {
    if (oidc === undefined || !req.session) return renderErrorPage(res, 404)
    // Used once: a replayed or second callback finds nothing to continue.
    const pending = req.session.oidcSignIn
    delete req.session.oidcSignIn
    if (pending === undefined) return renderRefusal(res, ALREADY_USED)

    let verified
    try {
      verified = await oidc.finishSignIn(queryOf(req), pending)
    } catch (error) {
      req.log.warn({ err: error }, 'single sign-on refused')
      return renderRefusal(res, refusalFor(error))
    }

    const email = emailFrom(verified.claims)
    if (email === undefined) return renderRefusal(res, NO_EMAIL)
    const role = roleFromClaims(verified.claims, deps.rolesClaim, deps.roleMap)
    if (role === undefined) {
      await deps.users.recordFailedSignIn(email, { ip: req.ip, reason: 'single sign-on: no role' })
      req.log.info({ subject: verified.subject }, 'single sign-on refused: no role')
      return renderRefusal(res, NO_ROLE)
    }
    const result = await deps.users.signInFromDirectory({
      issuer: verified.issuer,
      subject: verified.subject,
      email,
      name: nameFrom(verified.claims),
      role,
    })
    if (result.outcome !== 'signed-in') {
      await deps.users.recordFailedSignIn(email, { ip: req.ip, reason: `single sign-on: ${result.outcome}` })
      return renderRefusal(res, result.outcome === 'disabled' ? DISABLED : EMAIL_TAKEN)
    }

    // A new session id at sign-in, so an id planted before sign-in (session fixation) is worthless.
    await regenerateSession(req)
    req.session.userId = result.user.id
    req.session.signedInAt = new Date().toISOString()
    req.session.oidcIdToken = verified.idToken
    await saveSession(req)
    req.log.info({ userId: result.user.id }, 'signed in with single sign-on')
    res.redirect(303, safeReturnTo(pending.returnTo))
  })

  router.get('/auth/signed-out', (_req, res) => {
    if (oidc === undefined) return renderErrorPage(res, 404)
    res.redirect(303, '/sign-in?signedOut=1')
  })

  return router
}
