import express, { type ErrorRequestHandler, type Express, type Request, type Response } from 'express'
import { requireApiRole, requireRole, setUpAuthentication } from './auth/authentication.js'
import { setUpCsrf } from './auth/csrf.js'
import { HttpError } from './auth/httpErrors.js'
import { OidcClient } from './auth/oidcClient.js'
import { setUpRequestLog } from './requestLog.js'
import { setUpWebSession } from './auth/session.js'
import { setUpWebSecurity } from './auth/webSecurity.js'
import { ApiTokensRepository } from './data/apiTokens.js'
import { UsersRepository } from './data/users.js'
import { bodyErrorDetail, isApiRequest, sendApiError } from './routes/apiErrors.js'
import { healthRoutes } from './routes/health.js'
import { apiRouters, pageRouters } from './routes/index.js'
import { navigationFor } from './routes/navigation.js'
import { signInRoutes } from './routes/signIn.js'
import { singleSignOnRoutes } from './routes/singleSignOn.js'
import type { Services } from './services/container.js'
import { renderErrorPage, setUpViews } from './views/setup.js'

export interface AppOptions {
  /** Log each request (off in tests). */
  requestLogging?: boolean
}

const ALL_ROLES = ['admin', 'compliance', 'assessor'] as const

/** createApp(services): middleware and routers in order, reading like a table of contents. */
export function createApp(services: Services, options: AppOptions = {}): Express {
  const app = express()
  const production = services.config.NODE_ENV === 'production'
  app.disable('x-powered-by')
  // Every page and API answer is `Cache-Control: no-store` (webSecurity), so a client never revalidates one: an ETag
  // would only cost a hash of each body (a SHA-1 of a 350 kB dashboard page, per request). /assets keep theirs.
  app.set('etag', false)
  app.set('trust proxy', 'loopback')
  app.set('query parser', 'simple')

  // Every request's id and `req.log`; a line per request at `info`. Failures are logged by the error handler at any level.
  app.use(setUpRequestLog(services.logger, { logRequests: options.requestLogging ?? true }))
  const oidc = singleSignOnClient(services.config)
  app.use(healthRoutes(services))
  app.use(setUpWebSecurity({ production, formActionOrigins: oidc ? [oidc.providerOrigin] : [] }))
  setUpViews(app, { timeZone: services.config.TZ, now: () => services.clock.now() })
  app.use(express.urlencoded({ extended: false, limit: '200kb', parameterLimit: 500 }))
  app.use('/api', express.json({ limit: '1mb' }))
  app.use(setUpWebSession(services.db, services.config))
  app.use(
    setUpAuthentication({ users: new UsersRepository(services.db), apiTokens: new ApiTokensRepository(services.db) }),
  )
  app.use(setUpCsrf())
  app.use((req, res, next) => {
    res.locals.navigation = navigationFor(res.locals.user?.role, req.path)
    next()
  })

  const users = new UsersRepository(services.db)
  const { config } = services
  app.use(signInRoutes({ users, oidc, localSignIn: config.LOCAL_SIGN_IN, refuseDemoPasswords: production }))
  app.use(singleSignOnRoutes({ oidc, users, rolesClaim: config.OIDC_ROLES_CLAIM, roleMap: config.OIDC_ROLE_MAP }))
  app.use('/api/v1', requireApiRole(...ALL_ROLES), ...apiRouters(services))
  app.use('/api', (_req, res) => sendApiError(res, 404, 'Not found'))
  app.use(requireRole(...ALL_ROLES), ...pageRouters(services))

  app.use((_req, res) => renderErrorPage(res, 404))
  app.use(errorHandler(services, production))
  return app
}

/** The OpenID Connect client when single sign-on is configured (config.ts checks the settings come together). */
function singleSignOnClient(config: Services['config']): OidcClient | undefined {
  const { OIDC_ISSUER: issuer, OIDC_CLIENT_ID: clientId, OIDC_CLIENT_SECRET: clientSecret, PUBLIC_URL } = config
  if (issuer === undefined || clientId === undefined || clientSecret === undefined || PUBLIC_URL === undefined) {
    return undefined
  }
  return new OidcClient({ issuer, clientId, clientSecret, publicUrl: PUBLIC_URL })
}

function errorHandler(services: Services, production: boolean): ErrorRequestHandler {
  return (error: unknown, req: Request, res: Response, _next) => {
    const status =
      error instanceof HttpError
        ? error.status
        : typeof (error as { status?: unknown }).status === 'number'
          ? ((error as { status: number }).status ?? 500)
          : 500
    if (status >= 500) req.log.error({ err: error, url: req.originalUrl }, 'request failed')
    if (res.headersSent) return
    const message = status >= 500 && production ? 'Internal server error' : (error as Error).message
    if (isApiRequest(req)) {
      const bodyError = bodyErrorDetail(error)
      if (bodyError !== undefined) return sendApiError(res, status, 'The request body was refused', [bodyError])
      return sendApiError(res, status, status >= 500 ? 'Internal server error' : message)
    }
    renderErrorPage(res, status, status === 403 || status === 404 || status >= 500 ? {} : { messages: [message] })
  }
}
