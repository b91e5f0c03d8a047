import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MIGRATIONS_DIR } from '../../src/data/database.js'
import type { Services } from '../../src/services/container.js'
import { RefreshService, type RefreshSummary } from '../../src/services/refreshService.js'
import { buildSourceSteps, CQC_STATE } from '../../src/services/sources/index.js'
import { appWithAllRoutes, createTestServices, signIn } from '../helpers/appHarness.js'
import { recordedJson } from '../helpers/recordedServer.js'
import { SourceServer } from '../helpers/sourceServer.js'

/**
 * SPEC §5's reading of CQC through the whole overnight refresh (CQC API served on 127.0.0.1): the cases a council
 * found wrong with real payloads (issue 13), each shaped on the recorded real location.
 */
type Location = Record<string, unknown>
const lucerne = () => recordedJson<Location>('cqc-location-1-125856395.json')

function payload(id: string, changes: Location): Location {
  return { ...lucerne(), locationId: id, providerId: `P-${id}`, ...changes }
}

const keyQuestions = (rating: string, overrides: Record<string, string> = {}) =>
  ['Safe', 'Well-led', 'Caring', 'Responsive', 'Effective'].map((name) => ({
    name,
    rating: overrides[name] ?? rating,
  }))

const CASES = {
  masked: '1-300000001',
  bothManagerFields: '1-300000002',
  noManager: '1-300000003',
  noAction: '1-300000004',
  corrected: '1-300000005',
} as const

let server: SourceServer
let services: Services

beforeEach(async () => {
  server = await SourceServer.start()
  services = createTestServices({ env: server.env() })
  await services.serviceRepository.upsertMany(
    Object.entries(CASES).map(([name, locationId]) => ({
      ref: `SVC-${name.toUpperCase()}`,
      name,
      providerName: `${name} Care Ltd`,
      cqcLocationId: locationId,
      serviceType: 'care_home_residential',
      area: 'North',
      contractStatus: 'contracted',
    })),
  )
  // An Inadequate service whose 2021 focused inspection is in its history, dated after its current rating.
  server.cqcPayloads.set(
    CASES.masked,
    payload(CASES.masked, {
      currentRatings: {
        overall: {
          rating: 'Inadequate',
          reportDate: '2019-11-12',
          reportLinkId: 'r-2019',
          keyQuestionRatings: keyQuestions('Inadequate', { Caring: 'Requires improvement' }),
        },
        reportDate: '2019-11-12',
      },
      historicRatings: [
        {
          reportDate: '2021-03-04',
          reportLinkId: 'r-2021',
          overall: { rating: 'Inspected but not rated', keyQuestionRatings: keyQuestions('Inspected but not rated') },
        },
        { reportDate: '2017-05-02', reportLinkId: 'r-2017', overall: { rating: 'Good' } },
      ],
    }),
  )
  // A registered manager named on one regulated activity, and a manager-absent date.
  server.cqcPayloads.set(
    CASES.bothManagerFields,
    payload(CASES.bothManagerFields, {
      registeredManagerAbsentDate: '2018-09-01',
      regulatedActivities: [
        { name: 'Accommodation for persons who require nursing or personal care', code: 'RA2', contacts: [] },
        {
          name: 'Treatment of disease, disorder or injury',
          code: 'RA5',
          contacts: [
            {
              personTitle: 'Mrs',
              personGivenName: 'Ada',
              personFamilyName: 'Okafor',
              personRoles: ['Registered Manager'],
            },
          ],
        },
      ],
    }),
  )
  // No manager contacts and no absent date on a registered location.
  server.cqcPayloads.set(
    CASES.noManager,
    payload(CASES.noManager, {
      regulatedActivities: [{ name: 'Personal care', code: 'RA1', contacts: [] }],
    }),
  )
  // A key question word the rules do not know.
  server.cqcPayloads.set(
    CASES.noAction,
    payload(CASES.noAction, {
      currentRatings: {
        overall: {
          rating: 'Good',
          reportDate: '2024-02-01',
          keyQuestionRatings: keyQuestions('Good', { Safe: 'No action' }),
        },
        reportDate: '2024-02-01',
      },
    }),
  )
  setCorrected('Good')
})

afterEach(async () => {
  await server.close()
})

/** The changes feed lists the location, so every night reads it again. */
function setCorrected(rating: string) {
  server.cqcChanged.add(CASES.corrected)
  server.cqcPayloads.set(
    CASES.corrected,
    payload(CASES.corrected, {
      currentRatings: {
        overall: { rating, reportDate: '2026-10-01', reportLinkId: 'r-corrected' },
        reportDate: '2026-10-01',
      },
      historicRatings: [],
    }),
  )
}

function refresh(): Promise<RefreshSummary> {
  const steps = buildSourceSteps(services, { http: { backoffMs: 1, maxBackoffMs: 5, maxAttempts: 2, timeoutMs: 5000 } })
  return new RefreshService(services, steps).run({ trigger: 'test' })
}

async function indicatorOf(ref: string, key: string) {
  const service = await services.serviceRepository.findByRef(ref)
  const current = await services.runs.current(service!.id)
  return current?.result.indicators.find((indicator) => indicator.key === key)
}

const observationCount = () => (services.db.prepare('SELECT COUNT(*) AS n FROM observations').get() as { n: number }).n

describe('CQC semantics through the overnight refresh', () => {
  it('keeps an Inadequate rating when a later focused inspection is "Inspected but not rated"', async () => {
    await refresh()
    const cqc = await indicatorOf('SVC-MASKED', 'cqc_rating')
    expect(cqc).toMatchObject({ level: 'red', date: '2019-11-12', source: 'cqc_api' })
    expect(cqc?.reason).toContain('CQC rated Inadequate on 2019-11-12')
    expect(cqc?.reason).toContain('a later report on 2021-03-04 was "Inspected but not rated"')
    const verdict = await services.runs.current((await services.serviceRepository.findByRef('SVC-MASKED'))!.id)
    expect(verdict?.result.rag).toBe('red')
  })

  it('shows a named manager as in post, with the disagreeing absent date shown, not a long vacancy', async () => {
    await refresh()
    const manager = await indicatorOf('SVC-BOTHMANAGERFIELDS', 'manager_vacancy')
    expect(manager?.level).toBe('green')
    expect(manager?.reason).toContain('Ada Okafor')
    expect(manager?.reason).toContain('manager-absent date of 2018-09-01')
    expect(manager?.reason).not.toMatch(/vacant/i)
  })

  it('reads a manager-absent date CQC backdates before the night the manager was last named as a vacancy', async () => {
    await refresh()
    expect(await indicatorOf('SVC-MASKED', 'manager_vacancy')).toMatchObject({ level: 'green' })
    const next = server.cqcPayloads.get(CASES.masked)!
    next.registeredManagerAbsentDate = '2026-11-01'
    next.regulatedActivities = [{ name: 'Personal care', code: 'RA1', contacts: [] }]
    server.cqcChanged.add(CASES.masked)
    await refresh()
    const manager = await indicatorOf('SVC-MASKED', 'manager_vacancy')
    expect(manager).toMatchObject({ level: 'amber', date: '2026-11-01' })
    expect(manager?.reason).toContain('vacant since 2026-11-01')
  })

  it('flags for review a registered location with no manager named and no absent date', async () => {
    await refresh()
    const manager = await indicatorOf('SVC-NOMANAGER', 'manager_vacancy')
    expect(manager?.reason).toContain('CQC names no registered manager and gives no manager-absent date')
    expect(manager?.reason).toContain('flagged for review')
  })

  it('flags an unknown key question word in the run log and on the service page, not read as a rating', async () => {
    const summary = await refresh()
    const cqc = summary.sources.find((source) => source.source === 'cqc')
    const warnings = (cqc?.result?.rejects ?? []).filter((reject) => reject.record === 'warning')
    expect(warnings.map((warning) => warning.reason)).toContainEqual(
      expect.stringMatching(/CQC location 1-300000004: .*Safe rating "No action" not recognised/),
    )
    const indicator = await indicatorOf('SVC-NOACTION', 'cqc_rating')
    expect(indicator).toMatchObject({ level: 'green' })
    expect(indicator?.reason).toContain('Safe rating "No action" not recognised')

    const app = appWithAllRoutes(services)
    const { agent } = await signIn(app, services, 'assessor')
    const page = await agent.get('/services/SVC-NOACTION')
    const row = /<tr[^>]*data-indicator="cqc_rating"[^>]*>([\s\S]*?)<\/tr>/.exec(page.text)?.[1] ?? ''
    expect(row.replace(/\s+/g, ' ')).toContain('Safe rating &quot;No action&quot; not recognised')
  })

  it('records a rating corrected under the same report date as a correction, and a rerun adds nothing', async () => {
    await refresh()
    expect(await indicatorOf('SVC-CORRECTED', 'cqc_rating')).toMatchObject({ level: 'green', date: '2026-10-01' })
    const before = observationCount()

    setCorrected('Inadequate')
    await refresh()
    expect(observationCount()).toBe(before + 1)
    expect(await indicatorOf('SVC-CORRECTED', 'cqc_rating')).toMatchObject({ level: 'red', date: '2026-10-01' })
    const service = await services.serviceRepository.findByRef('SVC-CORRECTED')
    const history = (await services.observations.listHistory(service!.id)).filter((o) => o.indicator === 'cqc_rating')
    const [correction, original] = history
    expect(correction).toMatchObject({ value: 'inadequate', supersedesId: original?.id, supersededById: null })
    expect(original).toMatchObject({ value: 'good', supersededById: correction?.id })

    await refresh()
    expect(observationCount()).toBe(before + 1)
  })
})

describe('a live database read by the earlier CQC reading', () => {
  it('heals on the next run after migration 013: history superseded as timeline-only, the manager re-read', async () => {
    const masked = (await services.serviceRepository.findByRef('SVC-MASKED'))!.id
    const both = (await services.serviceRepository.findByRef('SVC-BOTHMANAGERFIELDS'))!.id
    // What the earlier reading stored: the focused inspection as a plain rating record, the absent date as a vacancy.
    await services.observations.append([
      {
        serviceId: masked,
        indicator: 'cqc_rating',
        source: 'cqc_api',
        observedOn: '2021-03-04',
        value: 'not_rated',
        detail: { registrationStatus: 'registered' },
        naturalKey: `cqc:${CASES.masked}:2021-03-04`,
      },
      {
        serviceId: both,
        indicator: 'manager_vacancy',
        source: 'cqc_api',
        observedOn: '2018-09-01',
        value: 'vacant',
        detail: { since: 'registeredManagerAbsentDate' },
        naturalKey: `cqc:${CASES.bothManagerFields}:manager:vacant:2018-09-01@2018-09-01`,
        dedupe: 'latest_value',
      },
    ])
    // ...and every location loaded, so a normal night reads only what the changes feed lists (nothing here).
    await services.sourceState.set(CQC_STATE.source, CQC_STATE.changesWindowEnd, '2026-11-22T02:00:00Z', null)
    await services.sourceState.setJson(CQC_STATE.source, CQC_STATE.loadedLocationIds, Object.values(CASES), null)
    await refresh()
    expect(await indicatorOf('SVC-BOTHMANAGERFIELDS', 'manager_vacancy')).toMatchObject({ level: 'red' })

    services.db.exec(readFileSync(path.join(MIGRATIONS_DIR, '013_cqc_reread.sql'), 'utf8'))
    await refresh()
    expect(await indicatorOf('SVC-BOTHMANAGERFIELDS', 'manager_vacancy')).toMatchObject({ level: 'green' })
    expect(await indicatorOf('SVC-MASKED', 'cqc_rating')).toMatchObject({ level: 'red', date: '2019-11-12' })
    const history = await services.observations.listHistory(masked)
    const focused = history.filter((o) => o.observedOn === '2021-03-04')
    expect(focused.map((o) => [o.detail.timelineOnly ?? false, o.supersededById === null])).toEqual([
      [true, true],
      [false, false],
    ])

    const count = observationCount()
    await refresh()
    expect(observationCount()).toBe(count)
  })
})
