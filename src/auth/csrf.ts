import express, { type Request, type Router } from 'express'
import { csrfSync } from 'csrf-sync'

export const CSRF_FIELD = '_csrf'
export const CSRF_HEADER = 'x-csrf-token'

function tokenFromRequest(req: Request): string | undefined {
  const fromBody: unknown = (req.body as Record<string, unknown> | undefined)?.[CSRF_FIELD]
  if (typeof fromBody === 'string') return fromBody
  const fromHeader = req.get(CSRF_HEADER)
  if (fromHeader !== undefined) return fromHeader
  // A multipart upload form cannot set a header and its body is parsed later, so it may carry the token in its action URL.
  const fromQuery = req.query[CSRF_FIELD]
  if (req.is('multipart/form-data') && typeof fromQuery === 'string') return fromQuery
  return undefined
}

/** Browser sessions need CSRF protection; a bearer token is never sent by a browser on its own. */
function isTokenAuthenticated(req: Request): boolean {
  return req.user?.via === 'token'
}

/**
 * Synchroniser-token CSRF (csrf-sync): every POST/PUT/PATCH/DELETE from a session must carry the session's
 * token, as the form field `_csrf` (urlencoded bodies, parsed here) or the `x-csrf-token` header (JSON from a
 * page's script). Requests authenticated by an API token are exempt. A refusal is a 403 error with
 * `code: 'EBADCSRFTOKEN'` passed to the error handler. Pages get the token in res.locals.csrfToken.
 * Mount after the session and authentication.
 */
export function setUpCsrf(): Router {
  const { csrfSynchronisedProtection, generateToken } = csrfSync({
    getTokenFromRequest: tokenFromRequest,
    skipCsrfProtection: isTokenAuthenticated,
  })
  const router = express.Router()
  router.use(express.urlencoded({ extended: false, limit: '100kb' }))
  router.use(csrfSynchronisedProtection)
  router.use((req, res, next) => {
    // No token for scripts: it would only create sessions nobody uses.
    if (!isTokenAuthenticated(req) && !req.path.startsWith('/api/')) res.locals.csrfToken = generateToken(req)
    next()
  })
  return router
}
