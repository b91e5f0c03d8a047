import { beforeAll, describe, expect, it, vi } from 'vitest'
import request from 'supertest'
import type { Express } from 'express'
import type { Services } from '../../src/services/container.js'
import {
  appWithAllRoutes,
  createTestServices,
  csrfTokenFrom,
  fixedClock,
  signIn,
  type SignedInAgent,
} from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'
import { CHANGES_SHOWN } from '../../src/routes/dashboard.js'

let services: Services
let app: Express
let assessor: SignedInAgent

beforeAll(async () => {
  services = createTestServices()
  await seedSmallBorough(services)
  app = appWithAllRoutes(services)
  assessor = await signIn(app, services, 'assessor')
})

describe('GET /', () => {
  it('sends anonymous visitors to sign in', async () => {
    const response = await request(app).get('/')
    expect(response.status).toBe(302)
    expect(response.headers.location).toBe('/sign-in?returnTo=%2F')
  })

  it('shows counts by RAG and every service', async () => {
    const response = await assessor.agent.get('/')
    expect(response.status).toBe(200)
    expect(response.headers['cache-control']).toContain('no-store')
    expect(response.text).toContain('Elm House')
    expect(response.text).toContain('Oak Homecare')
    expect(response.text).toContain('Ash Lodge')
    expect(response.text).toMatch(/app-rag-count__number">1<\/span>\s*<span class="app-rag-count__label">Red/)
  })

  it('escapes provider names', async () => {
    const response = await assessor.agent.get('/')
    expect(response.text).not.toContain('<script>alert(1)</script>')
    expect(response.text).toContain('Evil &lt;script&gt;alert(1)&lt;/script&gt; Care Ltd')
  })

  it('filters by RAG, area and name', async () => {
    const red = await assessor.agent.get('/?rag=red')
    expect(red.text).toContain('Elm House')
    expect(red.text).not.toContain('Ash Lodge')
    const north = await assessor.agent.get('/?area=North&type=care_home_nursing')
    expect(north.text).toContain('Ash Lodge')
    expect(north.text).not.toContain('Elm House')
    const search = await assessor.agent.get('/?q=oak')
    expect(search.text).toContain('Oak Homecare')
    expect(search.text).not.toContain('Ash Lodge')
  })

  it('sorts by a column', async () => {
    const response = await assessor.agent.get('/?sort=name&dir=asc')
    const ash = response.text.indexOf('Ash Lodge')
    const elm = response.text.indexOf('Elm House')
    const oak = response.text.indexOf('Oak Homecare')
    expect(ash).toBeLessThan(elm)
    expect(elm).toBeLessThan(oak)
    const desc = (await assessor.agent.get('/?sort=name&dir=desc')).text
    expect(desc.indexOf('Oak Homecare')).toBeLessThan(desc.indexOf('Elm House'))
    expect(desc.indexOf('Elm House')).toBeLessThan(desc.indexOf('Ash Lodge'))
  })

  it.each(['rag', 'name', 'provider', 'type', 'area', 'eligible', 'changed'])(
    'sorts by %s either way, marking the column sorted',
    async (sort) => {
      for (const dir of ['asc', 'desc']) {
        const response = await assessor.agent.get(`/?sort=${sort}&dir=${dir}`)
        expect(response.status).toBe(200)
        expect(response.text).toContain('Showing 1 to 3 of 3 services')
        expect(response.text).toContain(`aria-sort="${dir === 'asc' ? 'ascending' : 'descending'}"`)
      }
    },
  )

  it('answers bad filters with 400 and the field named', async () => {
    const response = await assessor.agent.get('/?rag=purple')
    expect(response.status).toBe(400)
    expect(response.text).toContain('rag')
  })
})

describe('GET /services/:ref', () => {
  it('shows the overall RAG, reasons and every indicator', async () => {
    const response = await assessor.agent.get('/services/SVC-RED')
    expect(response.status).toBe(200)
    expect(response.text).toContain('CQC rated Inadequate on 2026-03-14')
    expect(response.text.match(/data-indicator="/g)).toHaveLength(10)
    expect(response.text).toContain('id="rag-history-data"')
  })

  it('hides intelligence notes and references from assessors', async () => {
    const response = await assessor.agent.get('/services/SVC-AMBER')
    expect(response.status).toBe(200)
    expect(response.text).not.toContain('SG-SECRET-REF')
    expect(response.text).not.toContain('Confidential case note')
  })

  it('shows them to compliance officers', async () => {
    const compliance = await signIn(app, services, 'compliance')
    const response = await compliance.agent.get('/services/SVC-AMBER')
    expect(response.text).toContain('SG-SECRET-REF')
    expect(response.text).toContain('Confidential case note')
  })

  it('gives 404 for an unknown service', async () => {
    const response = await assessor.agent.get('/services/NOPE')
    expect(response.status).toBe(404)
  })
})

describe('DPS eligibility on the dashboard', () => {
  it('shows each service as eligible, not eligible or not on a DPS, and filters on it', async () => {
    const dps = await services.dpsRepository.createDps({
      name: 'Test DPS',
      gates: {},
      lots: [{ name: 'Tier 1', tier: 'tier1', zone: null, areas: [], serviceType: 'home_care' }],
    })
    const lot = dps.lots[0]!
    const all = await services.serviceRepository.listAll()
    for (const service of all.filter((s) => s.ref !== 'SVC-GREEN')) {
      await services.dpsRepository.admitMember({ lotId: lot.id, serviceId: service.id, on: '2026-01-01' })
    }
    await services.risk.recomputeServices(
      all.map((s) => s.id),
      'test',
    )
    const eligible = await assessor.agent.get('/?eligible=true')
    expect(eligible.text).toContain('Oak Homecare')
    expect(eligible.text).not.toContain('Elm House')
    const ineligible = await assessor.agent.get('/?eligible=false')
    expect(ineligible.text).toContain('Elm House')
    expect(ineligible.text).toContain('Ash Lodge')
    expect(ineligible.text).not.toContain('Oak Homecare')
    const api = await assessor.agent.get('/api/v1/services?eligible=true')
    expect(api.body.services.map((s: { ref: string }) => s.ref)).toEqual(['SVC-AMBER'])
    expect(api.body.services[0].eligible).toBe(true)
  })
})

describe('dashboard pagination', () => {
  it('pages the table, keeping the filters and sort in the links', async () => {
    const first = await assessor.agent.get('/?sort=name&dir=asc&pageSize=2')
    expect(first.status).toBe(200)
    expect(first.text).toContain('Showing 1 to 2 of 3 services')
    expect(first.text).toContain('Page 1 of 2')
    expect(first.text).toContain('Ash Lodge')
    expect(first.text).toContain('Elm House')
    expect(first.text).not.toContain('Oak Homecare')
    const next = /href="([^"]+)" rel="next"/
      .exec(first.text)?.[1]
      ?.replace(/&amp;/g, '&')
      .replace(/&#x3D;/g, '=')
    expect(next).toBeDefined()
    const nextParams = new URL(next as string, 'http://x').searchParams
    expect(Object.fromEntries(nextParams)).toMatchObject({ sort: 'name', page: '2', pageSize: '2' })

    const second = await assessor.agent.get(next as string)
    expect(second.text).toContain('Showing 3 to 3 of 3 services')
    expect(second.text).toContain('Oak Homecare')
    expect(second.text).not.toContain('Ash Lodge')
    expect(second.text).toMatch(/rel="prev"/)
    expect(second.text).not.toMatch(/rel="next"/)
  })

  it('refuses a page size out of range with 400', async () => {
    expect((await assessor.agent.get('/?pageSize=0')).status).toBe(400)
    expect((await assessor.agent.get('/?page=-1')).status).toBe(400)
  })
})

describe('changed since the last run', () => {
  it('lists the services whose RAG changed after the last full run, with the reason', async () => {
    const own = createTestServices()
    const ids = await seedSmallBorough(own)
    const ownApp = appWithAllRoutes(own)
    const officer = await signIn(ownApp, own, 'compliance')
    const quiet = await officer.agent.get('/')
    const section = (html: string) => html.slice(html.indexOf('id="changes"'), html.indexOf('id="services"'))
    expect(section(quiet.text)).not.toContain('Ash Lodge')

    await own.observations.append([
      {
        serviceId: ids.green,
        indicator: 'embargo',
        source: 'council_form',
        observedOn: '2026-11-20',
        value: 'embargo',
        naturalKey: 'council:embargo:changed-test',
      },
    ])
    await own.risk.recomputeServices([ids.green], 'test entry')

    const changed = await officer.agent.get('/')
    expect(section(changed.text)).toContain('Ash Lodge')
    expect(section(changed.text)).toContain('Embargo on new placements since 2026-11-20')
  })
})

describe('at national scale', () => {
  // 40 services in 40 areas, each changed colour since the last full run (New): more than the dashboard lists
  // at first (CHANGES_SHOWN) and more areas than it shows as checkboxes (AREA_CHECKBOX_LIMIT).
  let big: Services
  let bigApp: Express
  let officer: SignedInAgent
  const changesSection = (html: string) => html.slice(html.indexOf('id="changes"'), html.indexOf('id="services"'))

  beforeAll(async () => {
    big = createTestServices()
    await seedSmallBorough(big)
    const created = await big.serviceRepository.upsertMany(
      Array.from({ length: 40 }, (_, i) => ({
        ref: `SVC-N${String(i).padStart(2, '0')}`,
        name: `National Home ${String(i).padStart(2, '0')}`,
        providerName: `National Care ${i} Ltd`,
        serviceType: 'home_care' as const,
        area: `Area ${String(i).padStart(2, '0')}`,
        contractStatus: 'contracted' as const,
      })),
    )
    await big.risk.recomputeServices(
      created.map((c) => c.id),
      'test entry',
    )
    bigApp = appWithAllRoutes(big)
    officer = await signIn(bigApp, big, 'compliance')
  })

  it(`lists the latest ${CHANGES_SHOWN} changes with a link to all of them, which keeps the filters`, async () => {
    const page = await officer.agent.get('/?rag=green')
    const section = changesSection(page.text)
    expect(section.match(/href="\/services\//g)).toHaveLength(CHANGES_SHOWN)
    expect(section.match(/Showing the latest \d+ of \d+ changes/)?.[0]).toBe('Showing the latest 25 of 40 changes')
    const all = /href="([^"]*changes(?:=|&#x3D;)all[^"]*)"/
      .exec(section)?.[1]
      ?.replaceAll('&#x3D;', '=')
      .replaceAll('&amp;', '&')
    expect(all).toBe('/?rag=green&changes=all#changes')
    const full = await officer.agent.get(all as string)
    expect(full.status).toBe(200)
    expect(changesSection(full.text).match(/href="\/services\//g)).toHaveLength(40)
    expect(changesSection(full.text)).toContain('Show the latest only')
    expect(full.text).toContain('name="rag" type="checkbox" value="green" checked')
  })

  it('refuses an unknown `changes` value with the field named', async () => {
    const page = await officer.agent.get('/?changes=everything')
    expect(page.status).toBe(400)
    expect(page.text).toContain('must be all or latest')
  })

  it('shows many areas as a select plus the chosen areas as checkboxes, filtering with the same `area` query', async () => {
    const page = await officer.agent.get('/')
    expect(page.text).not.toContain('name="area" type="checkbox"')
    expect(page.text).toMatch(/<label class="govuk-label govuk-label--s" for="area-add">Choose an area<\/label>/)
    expect(page.text).toContain('<option>Area 07</option>')
    expect(page.text).toContain('<option>North</option>')

    const chosen = await officer.agent.get('/?area=Area+07&area=North')
    expect(chosen.text).toContain('name="area" type="checkbox" value="Area 07" checked')
    expect(chosen.text).toContain('name="area" type="checkbox" value="North" checked')
    expect(chosen.text).not.toContain('<option>Area 07</option>')
    expect(chosen.text).toContain('<option>Area 08</option>')
    expect(chosen.text).toContain('Add another area')
    expect(chosen.text).toContain('Showing 1 to 3 of 3 services')
    // The select's empty choice adds nothing to the filter.
    const withEmpty = await officer.agent.get('/?area=Area+07&area=')
    expect(withEmpty.text).toContain('Showing 1 to 1 of 1 services')
  })
})

describe('service page detail', () => {
  it('shows each indicator with its level, value, date, age and source', async () => {
    const response = await assessor.agent.get('/services/SVC-RED')
    const row = /<tr class="govuk-table__row" data-indicator="cqc_rating">([\s\S]*?)<\/tr>/.exec(response.text)?.[1]
    expect(row).toBeDefined()
    expect(row).toContain('CQC rating')
    expect(row).toContain('govuk-tag--red')
    expect(row).toContain('Inadequate')
    expect(row).toContain('14 March 2026')
    expect(row).toContain('8 months ago')
    expect(row).toContain('CQC API')
    const safeguarding = await assessor.agent.get('/services/SVC-AMBER')
    const sgRow = /data-indicator="safeguarding">([\s\S]*?)<\/tr>/.exec(safeguarding.text)?.[1]
    expect(sgRow).toContain('govuk-tag--orange')
    expect(sgRow).toContain('Council CSV import')
  })

  it('draws the RAG history from a JSON block, with a table of the same data beside the canvas', async () => {
    const response = await assessor.agent.get('/services/SVC-RED')
    expect(response.text).toMatch(
      /<canvas id="rag-history" data-chart="rag-history-data" role="img" aria-label="RAG history for Elm House/,
    )
    const json = /<script type="application\/json" id="rag-history-data">([\s\S]*?)<\/script>/.exec(response.text)?.[1]
    const data = JSON.parse(json as string) as { type: string; points: Array<{ at: string; rag: string }> }
    expect(data.type).toBe('rag-history')
    expect(data.points.length).toBeGreaterThan(0)
    expect(data.points.at(-1)).toMatchObject({ rag: 'red' })
    expect(response.text).toContain('data-testid="history-table"')
    expect(response.text).toMatch(/chart\.umd\.js/)
    expect(response.text).not.toMatch(/https?:\/\/cdn|jsdelivr|unpkg/)
  })
})

describe('the kept (pre-rendered) dashboard page', () => {
  const main = (html: string) => html.slice(html.indexOf('<main'), html.indexOf('</main>'))

  it('is shared between people only for the page body: each sees their own name and CSRF token around it', async () => {
    const officer = await signIn(app, services, 'compliance')
    const [forAssessor, forOfficer] = [await assessor.agent.get('/'), await officer.agent.get('/')]
    expect(forAssessor.status).toBe(200)
    expect(forOfficer.status).toBe(200)
    expect(main(forOfficer.text)).toBe(main(forAssessor.text))
    expect(forAssessor.text).toContain('assessor@test.example')
    expect(forAssessor.text).not.toContain('compliance@test.example')
    expect(forOfficer.text).toContain('compliance@test.example')
    expect(csrfTokenFrom(forOfficer.text)).not.toBe(csrfTokenFrom(forAssessor.text))
    const nonce = (html: string) => /<script nonce="([^"]+)"/.exec(html)?.[1]
    expect(nonce(forOfficer.text)).toBeDefined()
    expect(nonce(forOfficer.text)).not.toBe(nonce(forAssessor.text))
    expect(main(forAssessor.text)).not.toContain(nonce(forAssessor.text) as string)
  })

  it("puts each request's own CSP nonce in the kept layout, matching the policy header", async () => {
    for (let i = 0; i < 2; i++) {
      const response = await assessor.agent.get('/?sort=area')
      const policyNonce = /'nonce-([^']+)'/.exec(String(response.headers['content-security-policy']))?.[1]
      expect(policyNonce).toBeDefined()
      const pageNonces = [...response.text.matchAll(/nonce="([^"]+)"/g)].map((m) => m[1]?.replaceAll('&#x3D;', '='))
      expect(pageNonces.length).toBeGreaterThanOrEqual(2)
      expect(new Set(pageNonces)).toEqual(new Set([policyNonce]))
      expect(Number(response.headers['content-length'])).toBe(Buffer.byteLength(response.text))
    }
  })

  it("is built once for a signed-in person's repeated requests (their session's rolling expiry moves no data)", async () => {
    const own = createTestServices()
    await seedSmallBorough(own)
    const ownApp = appWithAllRoutes(own)
    const officer = await signIn(ownApp, own, 'compliance')
    // The first page after signing in stores the session's CSRF token (a write); the rest only move its expiry.
    await officer.agent.get('/')
    const built = vi.spyOn(own.dashboard, 'dashboard')
    for (let i = 0; i < 3; i++) expect((await officer.agent.get('/?sort=name')).status).toBe(200)
    expect(built).toHaveBeenCalledTimes(1)
    // A write that moves what the page shows is seen at once.
    await own.risk.recomputeServices([1], 'test entry')
    await officer.agent.get('/?sort=name')
    expect(built).toHaveBeenCalledTimes(2)
  })

  it('keeps the views used most recently when full: a view asked all along survives a hundred others', async () => {
    const own = createTestServices()
    await seedSmallBorough(own)
    const hot = { sort: 'name' as const }
    const first = await own.dashboard.dashboard(hot)
    for (let i = 0; i < 120; i++) {
      await own.dashboard.dashboard({ q: `other ${i}` })
      await own.dashboard.dashboard(hot)
    }
    // Kept, not built again: the same listing object as the first answer.
    expect((await own.dashboard.dashboard(hot)).listing).toBe(first.listing)
  })

  it('keeps a page per query, and still exports the page as CSV', async () => {
    const red = await assessor.agent.get('/?rag=red')
    const all = await assessor.agent.get('/')
    expect(red.text).not.toContain('Ash Lodge')
    expect(all.text).toContain('Ash Lodge')
    const csv = await assessor.agent.get('/?rag=red&format=csv')
    expect(csv.status).toBe(200)
    expect(csv.headers['content-type']).toContain('text/csv')
    expect(csv.text).toContain('Elm House')
    expect(csv.text).not.toContain('Ash Lodge')
  })

  it("is rendered again when the date moves, so ages are today's", async () => {
    // The judgements are stamped with the real time; the page's date starts as that day.
    const today = new Date().toISOString().slice(0, 10)
    const own = createTestServices({ today })
    await seedSmallBorough(own)
    const ownApp = appWithAllRoutes(own)
    const officer = await signIn(ownApp, own, 'compliance')
    // The first page after signing in stores the session's CSRF token (a write, which moves the data version).
    await officer.agent.get('/')
    const before = await officer.agent.get('/')
    expect(main(before.text)).toMatch(/>\s*today\s*</)
    const monthLater = new Date(Date.parse(today) + 31 * 86_400_000).toISOString().slice(0, 10)
    ;(own.clock as ReturnType<typeof fixedClock>).set(monthLater)
    const after = await officer.agent.get('/')
    expect(main(after.text)).not.toMatch(/>\s*today\s*</)
    expect(main(after.text)).toContain('1 month ago')
  })
})
