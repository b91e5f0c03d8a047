import { createSign, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import Provider, { type KoaContextWithOidc } from 'oidc-provider'

/**
 * A real OpenID Connect provider (oidc-provider) on 127.0.0.1, answering as Microsoft Entra ID does for a web app:
 * authorisation code flow with PKCE required, the client authenticating with its secret, the person's app roles in
 * the ID token's `roles` claim (absent when they have none), `preferred_username` and `email`, RP-initiated logout.
 * The sign-in page asks only for a username (an account id below); consent is already given, as an Entra tenant
 * administrator does for a council's app.
 */

export interface TestAccount {
  id: string
  email: string
  name: string
  roles?: string[]
  groups?: string[]
}

export const TEST_ACCOUNTS = {
  admin: { id: 'ada', email: 'ada.admin@council.test', name: 'Ada Admin', roles: ['admin'] },
  compliance: { id: 'colin', email: 'colin.compliance@council.test', name: 'Colin Compliance', roles: ['compliance'] },
  assessor: { id: 'asha', email: 'asha.assessor@council.test', name: 'Asha Assessor', roles: ['assessor'] },
  noRole: { id: 'nadia', email: 'nadia.norole@council.test', name: 'Nadia No-Role' },
  grouped: {
    id: 'gus',
    email: 'gus.grouped@council.test',
    name: 'Gus Grouped',
    groups: ['8c7e2f1a-0000-4000-8000-00000000c0de'],
  },
} satisfies Record<string, TestAccount>

export const TEST_CLIENT_ID = 'provider-risk-dashboard'
export const TEST_CLIENT_SECRET = 'a-test-client-secret-of-some-length'

export type IdTokenRewrite = (claims: Record<string, unknown>) => Record<string, unknown>

export interface TestOidcProvider {
  /** http://127.0.0.1:<port> */
  issuer: string
  /** Accounts by id; tests may change one's roles between sign-ins, as a directory administrator would. */
  accounts: Map<string, TestAccount>
  /**
   * From now on, the ID tokens the token endpoint hands out are rewritten and signed again with the provider's own
   * key, as a misconfigured or hostile provider would send them; undefined goes back to honest tokens.
   */
  rewriteIdTokens(rewrite: IdTokenRewrite | undefined): void
  /** Stops listening (the provider is down); the port is not reused. */
  stop(): Promise<void>
}

export interface TestOidcProviderOptions {
  /** The dashboard's redirect URI, `${PUBLIC_URL}/auth/callback`. */
  redirectUri: string
  postLogoutRedirectUri: string
}

function base64url(input: Buffer | string): string {
  return Buffer.from(input).toString('base64url')
}

function signJwt(header: Record<string, unknown>, claims: Record<string, unknown>, key: KeyObject): string {
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`
  const signature = createSign('RSA-SHA256').update(signingInput).sign(key)
  return `${signingInput}.${base64url(signature)}`
}

function decodeJwtPart(part: string | undefined): Record<string, unknown> {
  return JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>${body}</body></html>`
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}

export async function startOidcProvider(options: TestOidcProviderOptions): Promise<TestOidcProvider> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const kid = randomUUID()
  const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }
  const accounts = new Map<string, TestAccount>(Object.values(TEST_ACCOUNTS).map((account) => [account.id, account]))
  let rewrite: IdTokenRewrite | undefined

  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: TEST_CLIENT_ID,
        client_secret: TEST_CLIENT_SECRET,
        redirect_uris: [options.redirectUri],
        post_logout_redirect_uris: [options.postLogoutRedirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [signingJwk] },
    cookies: { keys: ['test-provider-cookie-key'] },
    pkce: { methods: ['S256'], required: () => true },
    // Entra puts the app roles, names and email in the ID token itself.
    conformIdTokenClaims: false,
    claims: { openid: ['sub', 'roles', 'groups'], email: ['email'], profile: ['name', 'preferred_username'] },
    findAccount: (_ctx: unknown, id: string) => {
      const account = accounts.get(id)
      if (account === undefined) return undefined
      return {
        accountId: id,
        claims: () => ({
          sub: id,
          email: account.email,
          preferred_username: account.email,
          name: account.name,
          ...(account.roles?.length ? { roles: account.roles } : {}),
          ...(account.groups?.length ? { groups: account.groups } : {}),
        }),
      }
    },
    // Consent given by the tenant's administrator: every sign-in is granted the OpenID scopes at once.
    loadExistingGrant: async (ctx: KoaContextWithOidc) => {
      const clientId = ctx.oidc.client?.clientId ?? TEST_CLIENT_ID
      const existing = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(clientId)
      if (existing !== undefined) return provider.Grant.find(existing)
      const grant = new provider.Grant({ clientId, accountId: ctx.oidc.session?.accountId })
      grant.addOIDCScope('openid email profile')
      await grant.save()
      return grant
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx: KoaContextWithOidc, form: string) => {
          ctx.body = page(
            'Sign out',
            `<h1>Sign out of the test council?</h1>${form}<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>`,
          )
        },
        postLogoutSuccessSource: (ctx: KoaContextWithOidc) => {
          ctx.body = page('Signed out', '<h1>You have signed out</h1>')
        },
      },
    },
    renderError: (ctx: KoaContextWithOidc, out: Record<string, string>) => {
      ctx.body = page('Error', `<h1>Error</h1><pre>${escapeHtml(JSON.stringify(out))}</pre>`)
    },
  })
  const handleProtocol = provider.callback()

  async function handleInteraction(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const details = await provider.interactionDetails(req, res)
    if (req.method === 'GET') {
      res.setHeader('content-type', 'text/html; charset=utf-8')
      res.end(
        page(
          'Test council sign-in',
          `<h1>Test council sign-in</h1><form method="post" action="/interaction/${details.uid}/login">` +
            '<label for="login">Username</label><input id="login" name="login" autocomplete="off">' +
            '<button type="submit">Continue</button></form>',
        ),
      )
      return
    }
    if (req.method === 'POST' && pathname.endsWith('/login')) {
      const login = (await readForm(req)).get('login') ?? ''
      if (!accounts.has(login)) {
        res.statusCode = 400
        res.end(page('Unknown account', '<h1>No such account</h1>'))
        return
      }
      await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false })
      return
    }
    res.statusCode = 404
    res.end()
  }

  /** Lets the token endpoint answer, then rewrites the ID token in its answer when a test asked for that. */
  function rewriteTokenResponse(res: ServerResponse, rewriteClaims: IdTokenRewrite): void {
    const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse
    res.end = ((chunk?: unknown) => {
      if (chunk === undefined || res.statusCode !== 200) return end(chunk)
      const body = JSON.parse(Buffer.from(chunk as Buffer).toString('utf8')) as Record<string, unknown>
      if (typeof body.id_token === 'string') {
        const [header, payload] = body.id_token.split('.')
        body.id_token = signJwt(decodeJwtPart(header), rewriteClaims(decodeJwtPart(payload)), privateKey)
      }
      const text = JSON.stringify(body)
      res.setHeader('content-length', Buffer.byteLength(text))
      return end(text)
    }) as typeof res.end
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const pathname = new URL(req.url ?? '/', issuer).pathname
    if (pathname.startsWith('/interaction/')) {
      handleInteraction(req, res, pathname).catch((error: unknown) => {
        res.statusCode = 500
        res.end(String(error))
      })
      return
    }
    if (pathname === '/token' && rewrite !== undefined) rewriteTokenResponse(res, rewrite)
    handleProtocol(req, res)
  })

  return {
    issuer,
    accounts,
    rewriteIdTokens: (next) => {
      rewrite = next
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
