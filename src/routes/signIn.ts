import express, { type Request, type Response, type Router } from 'express'
import { z } from 'zod'
import { checkCredentials } from '../auth/credentials.js'
import { issueCsrfToken } from '../auth/csrf.js'
import { isDemoCredential } from '../auth/demoUsers.js'
import type { OidcClient } from '../auth/oidcClient.js'
import { signInRateLimiters, type SignInRateLimitOptions } from '../auth/rateLimit.js'
import { safeReturnTo } from '../auth/returnTo.js'
import { destroySession, regenerateSession, saveSession, SESSION_COOKIE_NAME } from '../auth/session.js'
import type { UsersRepository } from '../data/users.js'

export interface SignInDeps {
  users: UsersRepository
  rateLimit?: SignInRateLimitOptions
  /** NODE_ENV=production: the published demo passwords never sign in, whatever their accounts' state. */
  refuseDemoPasswords?: boolean
  /** Single sign-on, when configured: offered on the sign-in page, and signed out of at the provider too. */
  oidc?: OidcClient
  /** False: email-and-password sign-in is off (LOCAL_SIGN_IN=false, only with single sign-on). Default true. */
  localSignIn?: boolean
}

const WRONG_CREDENTIALS = 'Enter a correct email address and password'

const signInSchema = z.object({
  email: z
    .string({ error: 'Enter your email address' })
    .trim()
    .min(1, 'Enter your email address')
    .max(254, 'Email address must be 254 characters or fewer')
    .pipe(z.email('Enter an email address in the correct format, like name@example.org')),
  password: z
    .string({ error: 'Enter your password' })
    .min(1, 'Enter your password')
    .max(256, 'Password must be 256 characters or fewer'),
})

interface ErrorItem {
  text: string
  href: string
}

interface SignInView {
  email?: string
  returnTo: string
  errors?: ErrorItem[]
  fieldErrors?: Partial<Record<'email' | 'password', string>>
  signedOut?: boolean
}

const LOCAL_SIGN_IN_OFF =
  'Sign in with your council account: signing in with an email address and password is turned off'

function bodyField(req: Request, name: string): unknown {
  return (req.body as Record<string, unknown> | undefined)?.[name]
}

/** GET/POST /sign-in and POST /sign-out. Mount after session, authentication and CSRF. */
export function signInRoutes(deps: SignInDeps): Router {
  const router = express.Router()
  const localSignIn = deps.localSignIn ?? true
  const councilSignIn = deps.oidc !== undefined

  function renderSignIn(res: Response, status: number, view: SignInView): void {
    // The layout prefixes the title with "Error: " when `errors` is not empty.
    const councilHref = `/auth/login?returnTo=${encodeURIComponent(view.returnTo)}`
    res
      .status(status)
      .render('pages/sign-in', { pageTitle: 'Sign in', localSignIn, councilSignIn, councilHref, ...view })
  }

  router.get('/sign-in', (req, res) => {
    const returnTo = safeReturnTo(req.query.returnTo)
    if (req.user?.via === 'session') return res.redirect(returnTo)
    // The password form's token; with local sign-in off the page has no form, so no session is made for it.
    if (localSignIn) issueCsrfToken(req, res)
    renderSignIn(res, 200, { returnTo, signedOut: req.query.signedOut === '1' })
  })

  const rateLimited = signInRateLimiters((req, res, minutes) => {
    req.log.warn({ ip: req.ip }, 'sign-in rate limit reached')
    const error = `Too many failed sign-in attempts. Wait ${minutes} minutes, then try again.`
    renderSignIn(res, 429, {
      email: typeof bodyField(req, 'email') === 'string' ? (bodyField(req, 'email') as string) : '',
      returnTo: safeReturnTo(bodyField(req, 'returnTo')),
      errors: [{ text: error, href: '#email' }],
    })
  }, deps.rateLimit)

  router.post('/sign-in', express.urlencoded({ extended: false, limit: '10kb' }), ...rateLimited, async (req, res) => {
    const returnTo = safeReturnTo(bodyField(req, 'returnTo'))
    if (!localSignIn)
      return renderSignIn(res, 403, { returnTo, errors: [{ text: LOCAL_SIGN_IN_OFF, href: '#council' }] })
    // A request carrying an API token has no session to sign in to (see setUpWebSession).
    if (!req.session) {
      const text = 'Sign in from a browser: a request sending an API token has no session to sign in to'
      return renderSignIn(res, 400, { email: '', returnTo, errors: [{ text, href: '#email' }] })
    }
    const rawEmail = bodyField(req, 'email')
    const email = typeof rawEmail === 'string' ? rawEmail.trim() : ''
    const parsed = signInSchema.safeParse({ email: rawEmail, password: bodyField(req, 'password') })
    if (!parsed.success) {
      const fieldErrors: SignInView['fieldErrors'] = {}
      const errors: ErrorItem[] = []
      for (const issue of parsed.error.issues) {
        const field = issue.path[0] === 'password' ? 'password' : 'email'
        if (fieldErrors[field] !== undefined) continue
        fieldErrors[field] = issue.message
        errors.push({ text: issue.message, href: `#${field}` })
      }
      return renderSignIn(res, 400, { email, returnTo, errors, fieldErrors })
    }

    const demoRefused = deps.refuseDemoPasswords === true && isDemoCredential(parsed.data.email, parsed.data.password)
    const user = demoRefused ? undefined : await checkCredentials(deps.users, parsed.data.email, parsed.data.password)
    if (user === undefined) {
      req.log.info({ ip: req.ip }, 'sign-in refused')
      const reason = demoRefused ? 'published demo password in production' : 'wrong email, password or disabled'
      await deps.users.recordFailedSignIn(parsed.data.email, { ip: req.ip, reason })
      return renderSignIn(res, 401, { email, returnTo, errors: [{ text: WRONG_CREDENTIALS, href: '#email' }] })
    }

    // A new session id at sign-in, so an id planted before sign-in (session fixation) is worthless.
    await regenerateSession(req)
    req.session.userId = user.id
    req.session.signedInAt = new Date().toISOString()
    await saveSession(req)
    await deps.users.recordSignIn(user.id)
    req.log.info({ userId: user.id }, 'signed in')
    res.redirect(303, returnTo)
  })

  router.post('/sign-out', async (req, res) => {
    const idToken = req.session?.oidcIdToken
    if (req.session) await destroySession(req)
    res.clearCookie(SESSION_COOKIE_NAME, { path: '/' })
    res.redirect(303, (await providerSignOutUrl(req, idToken)) ?? '/sign-in?signedOut=1')
  })

  /** Where to end a single sign-on session at the provider too, when it offers that; the provider sends them back. */
  async function providerSignOutUrl(req: Request, idToken: string | undefined): Promise<string | undefined> {
    if (idToken === undefined || deps.oidc === undefined) return undefined
    try {
      return (await deps.oidc.endSessionUrl(idToken))?.href
    } catch (error) {
      // Signed out of the dashboard all the same; the provider's own session ends when it times out.
      req.log.warn({ err: error }, 'could not reach the provider to sign out there too')
      return undefined
    }
  }

  return router
}
