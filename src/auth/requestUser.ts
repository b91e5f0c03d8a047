import type { PendingSignIn } from './oidcClient.js'
import type { Role } from './roles.js'

/**
 * Who is making the request. `via: 'token'` means an API token: then `id` is the token's id (not a user id)
 * and `email` is `api-token:<name>`, which is what the audit log records as the actor.
 */
export interface RequestUser {
  id: number
  email: string
  role: Role
  via: 'session' | 'token'
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      user?: RequestUser
    }
  }
}

declare module 'express-session' {
  interface SessionData {
    userId?: number
    /** ISO timestamp of the sign-in, for the absolute time-out. */
    signedInAt?: string
    /** A single sign-on under way: its state, nonce and PKCE verifier, until the provider sends the person back. */
    oidcSignIn?: PendingSignIn
    /** The ID token of a single sign-on, as the hint when signing out of the provider too. */
    oidcIdToken?: string
  }
}

/** The audit-log actor for a request: the user's email, or `api-token:<name>`. */
export function actorOf(user: RequestUser): string {
  return user.email
}
