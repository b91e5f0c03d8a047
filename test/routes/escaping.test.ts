import type { Express } from 'express'
import { beforeAll, describe, expect, it } from 'vitest'
import { addDays } from '../../src/domain/dates.js'
import type { Services } from '../../src/services/container.js'
import { prepareDatabase } from '../../src/services/startup.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'

/**
 * Issue 2's acceptance: provider and service names are escaped on every page. The demo borough is seeded, one DPS
 * member gets a service name and a provider name carrying markup, and an embargo so it changes colour (the changed
 * list, the morning page, the eligibility events and tasks name it too); then every page an admin can reach by
 * following links from the navigation is fetched and none may carry the markup unescaped.
 */
const SERVICE_NAME = 'Evil <script>alert(1)</script> House'
const PROVIDER_NAME = 'Bad <img src=x onerror=alert(2)> Care Ltd'
const RAW = ['<script>alert(1)', '<img src=x']
const ESCAPED_SERVICE = 'Evil &lt;script&gt;alert(1)&lt;/script&gt; House'
const ESCAPED_PROVIDER = 'Bad &lt;img src&#x3D;x onerror&#x3D;alert(2)&gt; Care Ltd'
const START_PAGES = [
  '/',
  '/morning',
  '/market',
  '/providers',
  '/dps',
  '/intelligence',
  '/assessments',
  '/assessments/due',
  '/import',
  '/admin',
]
const MAX_PAGES = 400

let services: Services
let app: Express
let admin: SignedInAgent
let evilRef: string
let providerId: number

beforeAll(async () => {
  services = createTestServices()
  await prepareDatabase(services, () => {})
  const today = services.clock.today()
  const all = await services.serviceRepository.listAll()
  let target = all[0]!
  for (const service of all) {
    if ((await services.dpsRepository.membershipsForService(service.id)).length > 0) {
      target = service
      break
    }
  }
  evilRef = target.ref
  const [renamed] = await services.serviceRepository.upsertMany([
    { ...target, name: SERVICE_NAME, providerName: PROVIDER_NAME },
  ])
  await services.observations.append([
    {
      serviceId: renamed!.id,
      indicator: 'embargo',
      source: 'council_form',
      observedOn: addDays(today, -1),
      value: 'embargo',
      reference: 'EMB-<b>1</b>',
      notes: 'Note <script>alert(3)</script>',
      naturalKey: 'council:embargo:escaping-test',
    },
  ])
  await services.risk.recomputeServices([renamed!.id], 'escaping test')
  providerId = (await services.serviceRepository.findByRef(evilRef))!.providerId
  app = appWithAllRoutes(services)
  admin = await signIn(app, services, 'admin')
}, 60_000)

/** Same-site links of a page, without fragments; downloads and sign-out left out. */
function linksOf(html: string): string[] {
  const links: string[] = []
  for (const match of html.matchAll(/href="([^"]+)"/g)) {
    const href = (match[1] as string).replace(/&amp;/g, '&').replace(/#.*$/, '')
    if (!href.startsWith('/') || href.startsWith('//') || href.startsWith('/assets')) continue
    if (/\.(csv|js|css|png|svg|ico|json)(\?|$)/.test(href) || href.startsWith('/sign-out')) continue
    links.push(href)
  }
  return links
}

/** Visits a service page only for the service under test: the other 199 add nothing but time. */
function worthVisiting(href: string, visitedPaths: Map<string, number>): boolean {
  const url = new URL(href, 'http://x')
  const service = /^\/services\/([^/]+)/.exec(url.pathname)
  if (service && decodeURIComponent(service[1] as string) !== evilRef) return false
  if (/^\/providers\/\d+/.test(url.pathname) && url.pathname !== `/providers/${providerId}`) return false
  // Filter and sort variants of one page: a few are enough.
  return (visitedPaths.get(url.pathname) ?? 0) < 3
}

describe('names are escaped on every page', () => {
  it('renders a name containing <script> as text wherever it appears', async () => {
    const queue = [...START_PAGES, `/services/${evilRef}`, `/providers/${providerId}`, `/?q=evil`]
    const seen = new Set<string>(queue)
    const visitedPaths = new Map<string, number>()
    const withName: string[] = []
    const failures: string[] = []
    let visited = 0
    while (queue.length > 0 && visited < MAX_PAGES) {
      const href = queue.shift() as string
      const response = await admin.agent.get(href)
      visited++
      const pathname = new URL(href, 'http://x').pathname
      visitedPaths.set(pathname, (visitedPaths.get(pathname) ?? 0) + 1)
      if (response.status >= 500) failures.push(`${href}: ${response.status}`)
      if (!String(response.headers['content-type']).includes('text/html')) continue
      const html = response.text
      for (const raw of RAW) if (html.includes(raw)) failures.push(`${href}: contains ${raw} unescaped`)
      if (html.includes('<script>alert(3)') || html.includes('<b>1</b>')) failures.push(`${href}: unescaped notes`)
      if (html.includes(ESCAPED_SERVICE) || html.includes(ESCAPED_PROVIDER)) withName.push(pathname)
      for (const link of linksOf(html)) {
        if (!seen.has(link) && worthVisiting(link, visitedPaths)) {
          seen.add(link)
          queue.push(link)
        }
      }
    }
    expect(failures).toEqual([])
    // The crawl really reached the pages that name the service or its provider.
    expect(visited).toBeGreaterThan(40)
    for (const page of ['/', `/services/${evilRef}`, `/providers/${providerId}`, '/providers', '/morning']) {
      expect(withName).toContain(page)
    }
    expect(withName.some((page) => page.startsWith('/dps'))).toBe(true)
    expect(withName.some((page) => page.startsWith(`/services/${evilRef}/`))).toBe(true)
  }, 120_000)

  it('keeps the chart data block intact: a name cannot close the script element', async () => {
    const response = await admin.agent.get(`/services/${evilRef}`)
    const block = /<script type="application\/json" id="rag-history-data"[^>]*>([\s\S]*?)<\/script>/.exec(response.text)
    expect(block).not.toBeNull()
    expect(() => JSON.parse(block![1] as string)).not.toThrow()
  })
})
