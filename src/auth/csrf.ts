import express, { type ErrorRequestHandler, type Request, type Router } from 'express'
import { csrfSync } from 'csrf-sync'
import { isApiRequest } from '../routes/apiErrors.js'
import { safeReturnTo } from './returnTo.js'

export const CSRF_FIELD = '_csrf'
export const CSRF_HEADER = 'x-csrf-token'

/**
 * Upload forms (multipart/form-data) whose body only their route reads: the route checks the token in the body itself
 * with isCsrfTokenValid, so it never travels in the URL (and the request log).
 */
const MULTIPART_FORM_PATHS: ReadonlySet<string> = new Set(['/import'])

function tokenFromRequest(req: Request): string | undefined {
  const fromBody: unknown = (req.body as Record<string, unknown> | undefined)?.[CSRF_FIELD]
  if (typeof fromBody === 'string') return fromBody
  return req.get(CSRF_HEADER)
}

function checksItsOwnToken(req: Request): boolean {
  return req.method === 'POST' && MULTIPART_FORM_PATHS.has(req.path) && req.is('multipart/form-data') !== false
}

/** For a route in MULTIPART_FORM_PATHS: whether the token read from its body is the session's. */
export function isCsrfTokenValid(req: Request, token: unknown): boolean {
  const stored = req.session?.csrfToken
  return typeof token === 'string' && typeof stored === 'string' && token === stored
}

function isCsrfError(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'EBADCSRFTOKEN'
}

/** The path of the page the form was on, when the browser says and it is on this site; else the home page. */
function formPage(req: Request): string {
  const referer = req.get('referer')
  if (referer === undefined) return '/'
  try {
    const url = new URL(referer)
    return url.host === req.get('host') ? safeReturnTo(`${url.pathname}${url.search}`) : '/'
  } catch {
    return '/'
  }
}

interface RefusalText {
  messages: string[]
  link: { href: string; text: string }
}

function refusalText(req: Request): RefusalText {
  if (req.path === '/sign-in') {
    return {
      messages: ['The sign-in form had expired: it lasts 30 minutes, and needs this site to be allowed cookies.'],
      link: { href: '/sign-in', text: 'Sign in again' },
    }
  }
  const back = formPage(req)
  if (req.user !== undefined) {
    return {
      messages: [
        'Nothing was saved: the form had expired, for example because it was open before you last signed in.',
        'Go back to the page, reload it, and send the form again.',
      ],
      link: { href: back, text: 'Go back to the page' },
    }
  }
  return {
    messages: [
      'Nothing was saved: you had been signed out, after 30 minutes without activity, 12 hours after signing in, or by signing out in another window.',
      'Sign in again, then enter what you typed once more.',
    ],
    link: { href: `/sign-in?returnTo=${encodeURIComponent(back)}`, text: 'Sign in again' },
  }
}

/**
 * A page form refused for its CSRF token is nearly always a session that ended while the form was open (30 minutes
 * idle, 12 hours after sign-in, or signed out in another tab): say so, rather than "you do not have permission", with
 * the way back. Nothing was saved. API requests keep the JSON error of the app's error handler.
 */
function explainRefusedForm(): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (!isCsrfError(error) || isApiRequest(req)) return next(error)
    renderRefusedForm(req, res)
  }
}

/** The 403 page for a form refused for its CSRF token (also for routes that check their own, see MULTIPART_FORM_PATHS). */
export function renderRefusedForm(req: Request, res: express.Response): void {
  // A fresh token for the page's own forms (the sign-out button in the header, shown only when signed in).
  if (hasSessionUser(req) && req.csrfToken !== undefined) res.locals.csrfToken = req.csrfToken()
  res.status(403).render('pages/error', {
    pageTitle: 'Your form was not sent',
    heading: 'Your form was not sent',
    ...refusalText(req),
  })
}

function hasSessionUser(req: Request): boolean {
  return req.user?.via === 'session'
}

/** Browser sessions need CSRF protection; a bearer token is never sent by a browser on its own. */
function isTokenAuthenticated(req: Request): boolean {
  return req.user?.via === 'token'
}

/**
 * Synchroniser-token CSRF (csrf-sync): every POST/PUT/PATCH/DELETE from a session must carry the session's
 * token, as the form field `_csrf` (urlencoded bodies, parsed here; upload forms' multipart bodies by their route, see
 * MULTIPART_FORM_PATHS) or the `x-csrf-token` header (JSON from a page's script). Requests authenticated by an API token are exempt. A refused page form gets a 403 page that says
 * the form expired; an API request gets the 403 error (`code: 'EBADCSRFTOKEN'`) passed to the error handler. Pages get
 * the token in res.locals.csrfToken when someone is signed in (their session exists already) or the request is a form
 * post (which had a session to pass the check). Anonymous GETs get none, so they never create a session row: a page
 * showing a form to anonymous visitors (the sign-in page) asks for one with issueCsrfToken.
 * Mount after the session and authentication.
 */
export function setUpCsrf(): Router {
  const { csrfSynchronisedProtection, generateToken } = csrfSync({
    getTokenFromRequest: tokenFromRequest,
    skipCsrfProtection: (req) => isTokenAuthenticated(req) || checksItsOwnToken(req),
  })
  const router = express.Router()
  router.use(express.urlencoded({ extended: false, limit: '100kb' }))
  router.use(csrfSynchronisedProtection)
  router.use(explainRefusedForm())
  router.use((req, res, next) => {
    // No token for scripts, nor for anonymous reads: it would only create sessions nobody uses.
    const isRead = req.method === 'GET' || req.method === 'HEAD'
    const needsToken = hasSessionUser(req) || (!isRead && req.session !== undefined && !isTokenAuthenticated(req))
    if (needsToken && !isApiRequest(req)) res.locals.csrfToken = generateToken(req)
    next()
  })
  return router
}

/** For a page that shows a form to anonymous visitors: stores a token in (and so creates) the session. */
export function issueCsrfToken(req: Request, res: express.Response): void {
  if (res.locals.csrfToken === undefined && req.session !== undefined && req.csrfToken !== undefined)
    res.locals.csrfToken = req.csrfToken()
}
