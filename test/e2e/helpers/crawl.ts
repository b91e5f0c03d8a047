// The crawl behind allPages.test.ts: every page reachable by link from some starting pages, each checked as a
// person would meet it.
import { accessibilityProblems } from './accessibility.js'
import { screenshot, visit, type WatchedPage } from './browser.js'
import { horizontalScrollProblem } from './layout.js'

/** Where the crawl does not go: downloads, the JSON API, assets, and what is not a page of this server. */
function crawlable(url: URL, origin: string): boolean {
  if (url.origin !== origin) return false
  if (/^\/(api|assets|public)\//.test(url.pathname)) return false
  return !/\.(csv|json|png|svg|ico|js|css|pdf)$/.test(url.pathname)
}

/** One address per kind of page: path segments holding a digit (references, ids) and query values do not count. */
export function pageKind(url: URL): string {
  const path = url.pathname
    .split('/')
    .map((segment) => (/\d/.test(segment) ? ':id' : segment))
    .join('/')
  const keys = [...new Set(url.searchParams.keys())].sort()
  return keys.length ? `${path}?${keys.join('&')}` : path
}

/** A page of a given path is visited with at most this many different sets of query parameters. */
const VARIANTS_PER_PATH = 3
/** A safety net against a link loop that mints new addresses; the demo has far fewer kinds of page. */
const MAX_PAGES = 150

export interface CrawlResult {
  visited: string[]
  problems: string[]
}

/**
 * Visits the seeds, then every page they link to, and so on (one page per kind of address), checking each: status
 * 200 (not sent to sign-in), a title and one h1, no serious or critical axe violation, no CSP violation or script
 * error, and with `narrow` no sideways scrolling. Pages are saved as test-results/screenshots/pages-<label>-*.png.
 */
export async function crawl(
  watched: WatchedPage,
  options: {
    baseUrl: string
    label: string
    seeds: string[]
    narrow?: boolean
    /** Which links to follow (by default every link to a page of the server). */
    follow?: (url: URL) => boolean
    /** Which kinds of page to save a screenshot of (by default every one). */
    screenshotOf?: (kind: string) => boolean
  },
): Promise<CrawlResult> {
  const { page } = watched
  const { baseUrl: origin, label, seeds, narrow = false, follow = () => true, screenshotOf = () => true } = options
  const queue: Array<{ url: string; from: string }> = seeds.map((url) => ({ url, from: 'the starting pages' }))
  const kinds = new Set<string>()
  const variants = new Map<string, number>()
  const seen = new Set<string>()
  const visited: string[] = []
  const problems: string[] = []

  const claim = (url: URL): boolean => {
    const kind = pageKind(url)
    if (kinds.has(kind)) return false
    const count = variants.get(url.pathname.replace(/[^/]*\d[^/]*/g, ':id')) ?? 0
    if (count >= VARIANTS_PER_PATH) return false
    kinds.add(kind)
    variants.set(url.pathname.replace(/[^/]*\d[^/]*/g, ':id'), count + 1)
    return true
  }
  for (const seed of seeds) claim(new URL(seed, origin))

  while (queue.length > 0 && visited.length < MAX_PAGES) {
    const { url, from } = queue.shift() as { url: string; from: string }
    const target = new URL(url, origin)
    const address = `${target.pathname}${target.search}`
    if (seen.has(address)) continue
    seen.add(address)
    visited.push(address)

    const csp = watched.cspViolations.length
    const errors = watched.scriptErrors.length
    const status = await visit(page, address)
    const landed = new URL(page.url())
    if (status !== 200 || landed.pathname === '/sign-in') {
      problems.push(`${address} (linked from ${from}) answered ${status}, ending on ${landed.pathname}`)
      continue
    }
    const kind = pageKind(target)
    if (screenshotOf(kind)) await screenshot(page, `pages-${label}${narrow ? '-narrow' : ''}${slug(kind)}`)
    // WCAG 2.4.2 and 2.4.6: a title naming the page, and one main heading.
    const title = await page.title()
    if (!/^(Error: )?\S.* - Provider Risk Dashboard$/.test(title)) problems.push(`${address} has the title "${title}"`)
    const headings = await page.locator('main h1').count()
    if (headings !== 1) problems.push(`${address} has ${headings} h1 headings in its main content`)
    const axe = await accessibilityProblems(page, `crawl ${label} ${kind}`)
    if (axe) problems.push(axe)
    if (narrow) {
      const reflow = await horizontalScrollProblem(page, address)
      if (reflow) problems.push(`at 320 px: ${reflow}`)
    }
    problems.push(...watched.cspViolations.slice(csp).map((text) => `CSP violation on ${address}: ${text}`))
    problems.push(...watched.scriptErrors.slice(errors).map((text) => `script error on ${address}: ${text}`))

    const hrefs = await page
      .locator('a[href]:not([download])')
      .evaluateAll((links) => links.map((link) => link.getAttribute('href') ?? ''))
    for (const href of hrefs) {
      if (href === '' || href.startsWith('#')) continue
      const next = new URL(href, landed)
      next.hash = ''
      if (!crawlable(next, origin) || !follow(next) || !claim(next)) continue
      queue.push({ url: `${next.pathname}${next.search}`, from: address })
    }
  }
  if (queue.length > 0) problems.push(`stopped after ${MAX_PAGES} pages with ${queue.length} still queued`)
  return { visited, problems }
}

function slug(kind: string): string {
  const text = kind.replace(/[^a-z0-9]+/gi, '-').replace(/-+$/, '')
  return text === '-' || text === '' ? '-dashboard' : text
}
