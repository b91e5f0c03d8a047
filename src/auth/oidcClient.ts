import * as client from 'openid-client'
import { isLoopbackHttp } from '../config.js'

export interface OidcSettings {
  issuer: string
  clientId: string
  clientSecret: string
  /** The dashboard's address: the redirect URI is `${publicUrl}/auth/callback`. */
  publicUrl: string
}

/** What /auth/login keeps in the session until the provider sends the person back. */
export interface PendingSignIn {
  state: string
  nonce: string
  codeVerifier: string
  returnTo: string
}

export interface VerifiedSignIn {
  claims: Record<string, unknown>
  issuer: string
  subject: string
  idToken: string
}

/** Seconds each request to the provider may take before the sign-in fails as "provider unreachable". */
const PROVIDER_TIMEOUT_SECONDS = 10

export const CALLBACK_PATH = '/auth/callback'
export const SIGNED_OUT_PATH = '/auth/signed-out'

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '')
}

/**
 * The dashboard as an OpenID Connect relying party (openid-client): authorisation code flow with PKCE (S256), state
 * and nonce. The provider's metadata is discovered at the first sign-in and kept; a failed discovery is retried at
 * the next one, so a provider down at start-up does not stop the dashboard.
 */
export class OidcClient {
  private configuration: Promise<client.Configuration> | undefined
  readonly redirectUri: string
  readonly postLogoutRedirectUri: string

  constructor(private readonly settings: OidcSettings) {
    const base = withoutTrailingSlash(settings.publicUrl)
    this.redirectUri = `${base}${CALLBACK_PATH}`
    this.postLogoutRedirectUri = `${base}${SIGNED_OUT_PATH}`
  }

  /** The origin the browser is sent to (sign-in and sign-out), for the Content Security Policy's form-action. */
  get providerOrigin(): string {
    return new URL(this.settings.issuer).origin
  }

  private discover(): Promise<client.Configuration> {
    this.configuration ??= client
      .discovery(
        new URL(this.settings.issuer),
        this.settings.clientId,
        { client_secret: this.settings.clientSecret },
        client.ClientSecretBasic(this.settings.clientSecret),
        {
          timeout: PROVIDER_TIMEOUT_SECONDS,
          // Plain HTTP is allowed only to a provider on this machine (the test suite's); config.ts refuses others.

          execute: isLoopbackHttp(this.settings.issuer) ? [client.allowInsecureRequests] : [],
        },
      )
      .catch((error: unknown) => {
        this.configuration = undefined
        throw error
      })
    return this.configuration
  }

  /** The provider's authorisation URL to send the person to, and what to keep in their session meanwhile. */
  async startSignIn(returnTo: string): Promise<{ url: URL; pending: PendingSignIn }> {
    const configuration = await this.discover()
    const pending: PendingSignIn = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier: client.randomPKCECodeVerifier(),
      returnTo,
    }
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri,
      response_type: 'code',
      scope: 'openid profile email',
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
    })
    return { url, pending }
  }

  /**
   * Checks the provider's answer (state, issuer), redeems the code with the PKCE verifier, and verifies the ID token
   * (signature, issuer, audience, expiry, nonce). Throws when anything does not hold.
   */
  async finishSignIn(callbackQuery: string, pending: PendingSignIn): Promise<VerifiedSignIn> {
    const configuration = await this.discover()
    const currentUrl = new URL(this.redirectUri)
    currentUrl.search = callbackQuery
    const tokens = await client.authorizationCodeGrant(configuration, currentUrl, {
      pkceCodeVerifier: pending.codeVerifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    })
    const claims = tokens.claims()
    if (claims === undefined || tokens.id_token === undefined) throw new Error('The provider sent no ID token')
    return { claims: { ...claims }, issuer: claims.iss, subject: claims.sub, idToken: tokens.id_token }
  }

  /** Where to send a person signing out, to end their session at the provider too; undefined if it offers no way. */
  async endSessionUrl(idToken: string): Promise<URL | undefined> {
    const configuration = await this.discover()
    if (configuration.serverMetadata().end_session_endpoint === undefined) return undefined
    return client.buildEndSessionUrl(configuration, {
      id_token_hint: idToken,
      post_logout_redirect_uri: this.postLogoutRedirectUri,
    })
  }
}
