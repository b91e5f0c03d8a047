import request from 'supertest'
import type { Response } from 'supertest'

/** A browser's cookie jar and redirects, by hand: so a test sees (and may tamper with) every step. */
export type Browser = ReturnType<typeof request.agent>

export function pathAndSearch(location: string, base: string): string {
  const url = new URL(location, base)
  return `${url.pathname}${url.search}`
}

/**
 * At the provider: opens the authorisation URL, signs in as the account (its username), and returns the URL the
 * provider sends the browser back to (`${PUBLIC_URL}/auth/callback?code=...&state=...&iss=...`).
 */
export async function authenticateAtProvider(issuer: string, authorizationUrl: string, login: string): Promise<string> {
  const browser = request.agent(issuer)
  let response: Response = await browser.get(pathAndSearch(authorizationUrl, issuer)).redirects(0)
  for (let step = 0; step < 6; step++) {
    const location = response.headers.location as string | undefined
    if (location === undefined) throw new Error(`The provider stopped at ${response.status}: ${response.text}`)
    if (!location.startsWith(issuer) && !location.startsWith('/')) return location
    const path = pathAndSearch(location, issuer)
    response = path.startsWith('/interaction/')
      ? await browser.post(`${path}/login`).type('form').send({ login }).redirects(0)
      : await browser.get(path).redirects(0)
  }
  throw new Error('The provider did not send the browser back')
}

/** /auth/login on the dashboard: the provider's authorisation URL it redirects to. */
export async function startSingleSignOn(dashboard: Browser, returnTo?: string): Promise<string> {
  const query = returnTo === undefined ? '' : `?returnTo=${encodeURIComponent(returnTo)}`
  const response = await dashboard.get(`/auth/login${query}`).redirects(0)
  if (response.status !== 303) throw new Error(`/auth/login answered ${response.status}: ${response.text}`)
  return response.headers.location as string
}

/** The whole journey: dashboard → provider → dashboard. Returns the callback URL and the dashboard's answer. */
export async function signInThroughProvider(
  dashboard: Browser,
  issuer: string,
  login: string,
  returnTo?: string,
): Promise<{ callbackUrl: string; response: Response }> {
  const authorizationUrl = await startSingleSignOn(dashboard, returnTo)
  const callbackUrl = await authenticateAtProvider(issuer, authorizationUrl, login)
  const response = await dashboard.get(pathAndSearch(callbackUrl, 'http://dashboard.invalid')).redirects(0)
  return { callbackUrl, response }
}
