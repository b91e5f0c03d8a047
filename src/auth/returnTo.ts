/**
 * Where to send a user after signing in: only a path on this site (`/services?rag=red`), never another
 * origin (`//evil.example`, `/\evil.example`, `https://...`), never back to sign-in itself.
 */
export function safeReturnTo(candidate: unknown, fallback = '/'): string {
  if (typeof candidate !== 'string' || candidate.length > 2000) return fallback
  if (!candidate.startsWith('/') || candidate.startsWith('//') || candidate.startsWith('/\\')) return fallback
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(candidate)) return fallback
  const path = candidate.split(/[?#]/, 1)[0] as string
  if (path === '/sign-in' || path === '/sign-out') return fallback
  return candidate
}
