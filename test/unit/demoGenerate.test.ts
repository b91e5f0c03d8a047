import { readFileSync } from 'node:fs'
import { parse } from 'csv-parse/sync'
import { describe, expect, it } from 'vitest'
import { addDays, daysBetween, isIsoDate, parseCouncilDate } from '../../src/domain/dates.js'
import {
  ASSESSMENT_OUTCOMES,
  COMPANY_STATUSES,
  CONTRACT_STATUSES,
  CQC_KEY_QUESTIONS,
  CQC_RATINGS,
  INDICATOR_KEYS,
  INDICATOR_OF_KIND,
  SERVICE_TYPES,
  SOURCES,
  normaliseWord,
  type IntelligenceKind,
  type Rag,
} from '../../src/domain/vocabulary.js'
import { generateDemoBorough, type DemoBorough, type DemoObservation } from '../../src/demo/generate.js'
import { AWKWARD_PROVIDER_NAMES, DEMO_AREAS } from '../../src/demo/names.js'

const TODAY = '2026-11-23'
const borough = generateDemoBorough({ today: TODAY })

/**
 * SPEC §3's default rules, written out plainly so the demo's mix of colours can be checked here without
 * depending on the real engine (src/domain). Deliberately simple: one service, one date.
 */
function expectedRag(observations: DemoObservation[], asOf: string): Rag {
  const known = observations.filter((o) => o.observedOn <= asOf)
  const of = (indicator: string): DemoObservation[] =>
    known.filter((o) => o.indicator === indicator).sort((a, b) => a.observedOn.localeCompare(b.observedOn))
  const inWindow = (o: DemoObservation): boolean => daysBetween(o.observedOn, asOf) <= 365
  const ongoing = (o: DemoObservation): boolean => !o.endDate || o.endDate > asOf
  const levels: Rag[] = []
  const level = (red: boolean, amber: boolean): void => {
    levels.push(red ? 'red' : amber ? 'amber' : 'green')
  }

  const assessment = of('quality_assessment')
    .filter((o) => (o.detail?.status ?? 'published') === 'published')
    .at(-1)
  if (assessment) {
    level(assessment.value === 'poor', assessment.value === 'requires_improvement' || !inWindow(assessment))
  }

  const ratings = of('cqc_rating')
  const cqc = ratings.at(-1)
  let recentlyDowngraded = false
  if (cqc) {
    const keyQuestions = (cqc.detail?.keyQuestions ?? {}) as Record<string, string>
    level(
      cqc.value === 'inadequate' || keyQuestions.safe === 'inadequate' || keyQuestions.well_led === 'inadequate',
      ['requires_improvement', 'not_rated'].includes(cqc.value) ||
        Object.values(keyQuestions).some((r) => r === 'requires_improvement' || r === 'inadequate'),
    )
    const previous = ratings.at(-2)
    const rank = (r: string): number => ['inadequate', 'requires_improvement', 'good', 'outstanding'].indexOf(r)
    recentlyDowngraded =
      previous !== undefined && rank(cqc.value) < rank(previous.value) && daysBetween(cqc.observedOn, asOf) <= 90
  }

  const food = of('food_hygiene').at(-1)
  if (food && /^[0-5]$/.test(food.value)) level(Number(food.value) <= 1, food.value === '2')

  const safeguarding = of('safeguarding')
  if (safeguarding.length > 0) {
    const decisions = safeguarding
      .filter(inWindow)
      .reduce((sum, o) => sum + (o.value === 'count' ? Number(o.detail?.decisions) : 1), 0)
    level(decisions >= 3, decisions >= 1)
  }

  const embargoes = of('embargo')
  if (embargoes.length > 0) level(embargoes.some(ongoing), false)

  const notices = of('default_notice')
  if (notices.length > 0) {
    const open = notices.filter(ongoing).length
    level(open >= 2 || notices.filter(inWindow).length >= 2, open === 1)
  }

  const deaths = of('unexpected_deaths')
  if (deaths.length > 0) {
    const count = deaths.filter(inWindow).length
    level(count >= 2, count === 1)
  }

  const concerns = of('contract_concerns')
  if (concerns.length > 0) {
    const count = concerns.filter((o) => o.value === 'substantiated' && inWindow(o)).length
    level(count >= 4, count >= 2)
  }

  const company = of('insolvency').at(-1)
  if (company) {
    level(
      ['administration', 'receivership', 'liquidation', 'insolvency-proceedings', 'dissolved'].includes(company.value),
      company.value === 'voluntary-arrangement',
    )
  }

  const manager = of('manager_vacancy').at(-1)
  if (manager) {
    const vacant = manager.value === 'vacant' && ongoing(manager)
    level(vacant && daysBetween(manager.observedOn, asOf) > 180, vacant)
  }

  const ambers = levels.filter((l) => l === 'amber').length
  if (levels.includes('red') || ambers >= 3) return 'red'
  if (ambers > 0 || recentlyDowngraded) return 'amber'
  return 'green'
}

function ragsAsOf(b: DemoBorough, asOf: string): Map<string, Rag> {
  const byService = new Map<string, DemoObservation[]>()
  for (const o of b.observations) byService.set(o.serviceRef, [...(byService.get(o.serviceRef) ?? []), o])
  return new Map(b.services.map((s) => [s.ref, expectedRag(byService.get(s.ref) ?? [], asOf)]))
}

function share(rags: Map<string, Rag>, rag: Rag): number {
  return [...rags.values()].filter((r) => r === rag).length / rags.size
}

describe('generateDemoBorough', () => {
  it('gives the same borough for the same seed and today', () => {
    expect(generateDemoBorough({ seed: 42, today: TODAY })).toEqual(borough)
    expect(JSON.stringify(generateDemoBorough({ today: TODAY }))).toBe(JSON.stringify(borough))
  })

  it('refuses a today that is not an ISO date', () => {
    expect(() => generateDemoBorough({ today: '23/11/2026' })).toThrow(/ISO date/)
  })

  it('gives a different borough for a different seed', () => {
    const other = generateDemoBorough({ seed: 7, today: TODAY })
    expect(other.services.map((s) => s.name)).not.toEqual(borough.services.map((s) => s.name))
  })

  it('keeps the same services, playing the same parts, whatever today is', () => {
    const later = generateDemoBorough({ today: '2027-06-30' })
    expect(later.services.map((s) => [s.ref, s.name, s.serviceType, s.area])).toEqual(
      borough.services.map((s) => [s.ref, s.name, s.serviceType, s.area]),
    )
    expect([...ragsAsOf(later, '2027-06-30')]).toEqual([...ragsAsOf(borough, TODAY)])
  })

  it('has about 80 providers and 200 services in five areas, with every service type but other', () => {
    expect(borough.providers.length).toBeGreaterThanOrEqual(75)
    expect(borough.providers.length).toBeLessThanOrEqual(85)
    expect(borough.services.length).toBeGreaterThanOrEqual(190)
    expect(borough.services.length).toBeLessThanOrEqual(210)
    expect(new Set(borough.services.map((s) => s.area))).toEqual(new Set(DEMO_AREAS))
    const types = new Set(borough.services.map((s) => s.serviceType))
    expect(types).toEqual(new Set(SERVICE_TYPES.filter((t) => t !== 'other')))
    const homeCare = borough.services.filter((s) => s.serviceType === 'home_care').length
    for (const type of types) {
      expect(borough.services.filter((s) => s.serviceType === type).length).toBeLessThanOrEqual(homeCare)
    }
  })

  it('gives providers and services well-formed, unique identifiers and links every service to a provider', () => {
    const providerKeys = new Set(borough.providers.map((p) => p.key))
    expect(providerKeys.size).toBe(borough.providers.length)
    expect(new Set(borough.providers.map((p) => p.name)).size).toBe(borough.providers.length)
    for (const p of borough.providers) {
      if (p.cqcProviderId !== null) expect(p.cqcProviderId).toMatch(/^1-\d{9,10}$/)
      if (p.companiesHouseNumber !== null) expect(p.companiesHouseNumber).toMatch(/^(\d{8}|OC\d{6})$/)
      expect(borough.services.some((s) => s.providerKey === p.key)).toBe(true)
    }
    expect(borough.providers.filter((p) => p.companiesHouseNumber !== null).length).toBeGreaterThan(60)

    const refs = borough.services.map((s) => s.ref)
    expect(new Set(refs).size).toBe(refs.length)
    expect(new Set(borough.services.map((s) => s.name)).size).toBe(refs.length)
    const locations = borough.services.flatMap((s) => (s.cqcLocationId ? [s.cqcLocationId] : []))
    expect(new Set(locations).size).toBe(locations.length)
    const fhrsIds = borough.services.flatMap((s) => (s.fhrsId ? [s.fhrsId] : []))
    expect(new Set(fhrsIds).size).toBe(fhrsIds.length)
    const unregistered = borough.services.filter((s) => s.cqcLocationId === null)
    expect(unregistered.length).toBeGreaterThan(3)
    expect(unregistered.length).toBeLessThan(30)

    for (const s of borough.services) {
      expect(s.ref).toMatch(/^SVC-\d{4}$/)
      expect(providerKeys.has(s.providerKey)).toBe(true)
      if (s.cqcLocationId !== null) {
        expect(s.cqcLocationId).toMatch(/^1-\d{9,10}$/)
        expect(s.registeredOn !== null && isIsoDate(s.registeredOn) && s.registeredOn <= TODAY).toBe(true)
      } else {
        expect(s.registeredOn).toBeNull()
      }
      const servesFood = ['care_home_nursing', 'care_home_residential', 'day_service'].includes(s.serviceType)
      if (servesFood) expect(s.fhrsId).toMatch(/^\d{5,8}$/)
      else expect(s.fhrsId).toBeNull()
      expect(Number.isInteger(s.capacity) && s.capacity > 0).toBe(true)
      expect(CONTRACT_STATUSES).toContain(s.contractStatus)
    }
    const statuses = borough.services.map((s) => s.contractStatus)
    expect(statuses.filter((c) => c === 'contracted').length).toBeGreaterThan(statuses.length / 2)
    expect(statuses).toContain('spot')
    expect(statuses).toContain('off_contract')
  })

  it('includes names that need escaping, and exactly one provider with markup in its name', () => {
    const names = borough.providers.map((p) => p.name)
    expect(names.filter((n) => n === 'Evil <script>alert(1)</script> Care Ltd')).toHaveLength(1)
    expect(names.filter((n) => n.includes('<'))).toHaveLength(1)
    for (const name of Object.values(AWKWARD_PROVIDER_NAMES)) expect(names).toContain(name)
    expect(names.some((n) => n.includes("'"))).toBe(true)
    expect(names.some((n) => n.includes('&'))).toBe(true)
  })

  it('sorts every list deterministically', () => {
    const sorted = <T>(items: T[], key: (item: T) => string): boolean =>
      items.every((item, i) => i === 0 || key(items[i - 1] as T) <= key(item))
    expect(sorted(borough.providers, (p) => p.key)).toBe(true)
    expect(sorted(borough.services, (s) => s.ref)).toBe(true)
    expect(sorted(borough.observations, (o) => o.serviceRef)).toBe(true)
  })

  it('has observations of all ten indicators, for services that exist, none after today', () => {
    const refs = new Set(borough.services.map((s) => s.ref))
    expect(new Set(borough.observations.map((o) => o.indicator))).toEqual(new Set(INDICATOR_KEYS))
    for (const o of borough.observations) {
      expect(refs.has(o.serviceRef)).toBe(true)
      expect(SOURCES).toContain(o.source)
      expect(isIsoDate(o.observedOn), o.observedOn).toBe(true)
      expect(o.observedOn <= TODAY).toBe(true)
      if (o.endDate) {
        expect(isIsoDate(o.endDate)).toBe(true)
        expect(o.endDate <= TODAY).toBe(true)
        expect(o.endDate >= o.observedOn).toBe(true)
      }
    }
  })

  it('never repeats a natural key within a service and indicator', () => {
    const keys = borough.observations.map((o) => `${o.serviceRef}|${o.indicator}|${o.naturalKey}`)
    expect(new Set(keys).size).toBe(keys.length)
    expect(borough.observations.every((o) => o.naturalKey.length > 0)).toBe(true)
  })

  it('follows the value and detail conventions of src/domain/observation.ts', () => {
    const serviceByRef = new Map(borough.services.map((s) => [s.ref, s]))
    for (const o of borough.observations) {
      const detail = o.detail ?? {}
      const context = `${o.serviceRef} ${o.indicator} ${o.value}`
      switch (o.indicator) {
        case 'quality_assessment': {
          expect(ASSESSMENT_OUTCOMES, context).toContain(o.value)
          expect(['draft', 'challenge', 'published']).toContain(detail.status)
          const domains = detail.domains as unknown[]
          expect(domains).toHaveLength(5)
          for (const d of domains) expect([...ASSESSMENT_OUTCOMES, null]).toContain(d)
          break
        }
        case 'cqc_rating': {
          expect(CQC_RATINGS, context).toContain(o.value)
          expect(serviceByRef.get(o.serviceRef)?.cqcLocationId).not.toBeNull()
          const keyQuestions = (detail.keyQuestions ?? {}) as Record<string, string>
          for (const [question, rating] of Object.entries(keyQuestions)) {
            expect(CQC_KEY_QUESTIONS).toContain(question)
            expect(CQC_RATINGS).toContain(rating)
          }
          if (o.value !== 'not_rated') expect(Object.keys(keyQuestions)).toHaveLength(5)
          expect(detail.registrationStatus).toBe('registered')
          break
        }
        case 'food_hygiene':
          expect(['0', '1', '2', '3', '4', '5', 'exempt', 'awaiting_inspection', 'awaiting_publication']).toContain(
            o.value,
          )
          expect(detail.fhrsId).toBe(serviceByRef.get(o.serviceRef)?.fhrsId)
          break
        case 'safeguarding':
          expect(['decision', 'count']).toContain(o.value)
          if (o.value === 'count') {
            expect(detail.periodEnd).toBe(o.observedOn)
            expect(String(detail.periodStart) < o.observedOn).toBe(true)
            expect(Number.isInteger(detail.decisions)).toBe(true)
          }
          break
        case 'embargo':
          expect(o.value).toBe('embargo')
          break
        case 'default_notice':
          expect(o.value).toBe('default_notice')
          expect(detail.outcome).toBe(o.endDate ? 'resolved' : 'open')
          break
        case 'unexpected_deaths':
          expect(o.value).toBe('death')
          break
        case 'contract_concerns':
          expect(['substantiated', 'not_substantiated', 'open']).toContain(o.value)
          break
        case 'insolvency':
          expect(COMPANY_STATUSES).toContain(o.value)
          expect(detail.companyNumber).toMatch(/^(\d{8}|OC\d{6})$/)
          break
        case 'manager_vacancy':
          expect(['vacant', 'in_post']).toContain(o.value)
          if (o.value === 'in_post') {
            expect(o.endDate ?? null).toBeNull()
            expect(typeof detail.managerName).toBe('string')
          }
          break
      }
    }
  })

  it('covers the cases the pages need to show', () => {
    const obs = borough.observations
    const recent = (o: DemoObservation, days: number): boolean => daysBetween(o.observedOn, TODAY) <= days
    const statuses = obs.filter((o) => o.indicator === 'insolvency').map((o) => o.value)
    expect(new Set(statuses)).toEqual(new Set(['active', 'administration', 'voluntary-arrangement']))
    const ratings = obs.filter((o) => o.indicator === 'cqc_rating')
    expect(new Set(ratings.map((o) => o.value))).toEqual(new Set(CQC_RATINGS))
    expect(ratings.filter((o) => o.observedOn < '2020-01-01').length).toBeGreaterThan(5)
    expect(ratings.filter((o) => o.value === 'inadequate' && recent(o, 90)).length).toBeGreaterThan(0)
    const foodValues = new Set(obs.filter((o) => o.indicator === 'food_hygiene').map((o) => o.value))
    for (const v of ['2', '3', '4', '5']) expect(foodValues).toContain(v)
    expect(foodValues.has('0') || foodValues.has('1')).toBe(true)
    const assessmentValues = new Set(obs.filter((o) => o.indicator === 'quality_assessment').map((o) => o.value))
    expect(assessmentValues).toEqual(new Set(ASSESSMENT_OUTCOMES))
    const assessed = new Set(obs.filter((o) => o.indicator === 'quality_assessment').map((o) => o.serviceRef))
    expect(borough.services.length - assessed.size).toBeGreaterThan(5)
    const embargoes = obs.filter((o) => o.indicator === 'embargo')
    expect(embargoes.some((o) => !o.endDate) && embargoes.some((o) => o.endDate)).toBe(true)
    const notices = obs.filter((o) => o.indicator === 'default_notice')
    expect(notices.some((o) => !o.endDate) && notices.some((o) => o.endDate)).toBe(true)
    const concerns = new Set(obs.filter((o) => o.indicator === 'contract_concerns').map((o) => o.value))
    expect(concerns).toEqual(new Set(['substantiated', 'not_substantiated', 'open']))
    const vacancies = obs.filter((o) => o.indicator === 'manager_vacancy' && o.value === 'vacant')
    expect(vacancies.some((o) => o.endDate)).toBe(true)
    expect(vacancies.some((o) => !o.endDate && daysBetween(o.observedOn, TODAY) > 180)).toBe(true)
    expect(vacancies.some((o) => !o.endDate && daysBetween(o.observedOn, TODAY) <= 30)).toBe(true)
    const safeguarding = new Set(obs.filter((o) => o.indicator === 'safeguarding').map((o) => o.value))
    expect(safeguarding).toEqual(new Set(['decision', 'count']))
    expect(obs.some((o) => o.observedOn < addDays(TODAY, -540))).toBe(true)
  })

  it('mixes colours today as a real borough would: mostly Green, some Amber, about a tenth Red', () => {
    const today = ragsAsOf(borough, TODAY)
    expect(share(today, 'green')).toBeGreaterThanOrEqual(0.6)
    expect(share(today, 'green')).toBeLessThanOrEqual(0.7)
    expect(share(today, 'amber')).toBeGreaterThanOrEqual(0.2)
    expect(share(today, 'amber')).toBeLessThanOrEqual(0.3)
    expect(share(today, 'red')).toBeGreaterThanOrEqual(0.08)
    expect(share(today, 'red')).toBeLessThanOrEqual(0.12)
  })

  it('changes some colours in the last few days, and differs from 12 months ago both ways', () => {
    const today = ragsAsOf(borough, TODAY)
    const lastWeek = ragsAsOf(borough, addDays(TODAY, -7))
    const yearAgo = ragsAsOf(borough, addDays(TODAY, -365))
    const changedThisWeek = [...today].filter(([ref, rag]) => lastWeek.get(ref) !== rag)
    expect(changedThisWeek.length).toBeGreaterThanOrEqual(4)
    const yesterday = ragsAsOf(borough, addDays(TODAY, -1))
    const changedToday = [...today].filter(([ref, rag]) => yesterday.get(ref) !== rag)
    expect(changedToday.length).toBeGreaterThanOrEqual(3)
    expect(changedThisWeek.length).toBeGreaterThan(changedToday.length)
    const worsened = [...today].filter(([ref, rag]) => rag !== 'green' && yearAgo.get(ref) === 'green')
    const improved = [...today].filter(([ref, rag]) => rag === 'green' && yearAgo.get(ref) !== 'green')
    expect(worsened.length).toBeGreaterThanOrEqual(5)
    expect(improved.length).toBeGreaterThanOrEqual(5)
  })
})

/** The sample inbox files, read the way SPEC §9 describes, as observations. */
function exampleObservations(): DemoObservation[] {
  const read = (file: string): Record<string, string>[] =>
    parse(readFileSync(new URL(`../../examples/inbox/${file}`, import.meta.url)), { columns: true, bom: true })
  const date = (raw: string | undefined): string => {
    const parsed = parseCouncilDate(raw ?? '')
    if (!parsed) throw new Error(`Bad date in example: ${raw}`)
    return parsed
  }
  const base = { source: 'council_inbox' as const }
  const intelligence = read('intelligence.csv').map((row, i): DemoObservation => {
    const kind = row.kind as IntelligenceKind
    const values: Record<IntelligenceKind, string> = {
      safeguarding_decision: 'decision',
      embargo: 'embargo',
      default_notice: 'default_notice',
      unexpected_death: 'death',
      contract_concern: normaliseWord(row.outcome ?? ''),
      manager_vacancy: 'vacant',
    }
    return {
      ...base,
      serviceRef: row.service_ref ?? '',
      indicator: INDICATOR_OF_KIND[kind],
      observedOn: date(row.date),
      endDate: row.end_date ? date(row.end_date) : null,
      value: values[kind],
      naturalKey: `example:${i}`,
    }
  })
  const assessments = read('assessments.csv').map((row, i): DemoObservation => ({
    ...base,
    serviceRef: row.service_ref ?? '',
    indicator: 'quality_assessment',
    observedOn: date(row.assessment_date),
    value: normaliseWord(row.outcome ?? ''),
    naturalKey: `example:${i}`,
  }))
  const counts = read('safeguarding_counts.csv').map((row, i): DemoObservation => ({
    ...base,
    serviceRef: row.service_ref ?? '',
    indicator: 'safeguarding',
    observedOn: date(row.period_end),
    value: 'count',
    detail: { periodStart: date(row.period_start), periodEnd: date(row.period_end), decisions: Number(row.decisions) },
    naturalKey: `example:${i}`,
  }))
  return [...intelligence, ...assessments, ...counts]
}

describe('examples/inbox', () => {
  const examples = exampleObservations()

  it('names demo services with valid kinds and outcomes, dated on or before 2026-11-23', () => {
    const refs = new Set(borough.services.map((s) => s.ref))
    expect(examples.length).toBeGreaterThan(10)
    for (const o of examples) {
      expect(refs.has(o.serviceRef), o.serviceRef).toBe(true)
      expect(INDICATOR_KEYS).toContain(o.indicator)
      expect(o.observedOn <= TODAY).toBe(true)
      if (o.indicator === 'quality_assessment') expect(ASSESSMENT_OUTCOMES).toContain(o.value)
      if (o.indicator === 'contract_concerns') expect(['substantiated', 'not_substantiated', 'open']).toContain(o.value)
    }
  })

  it('changes the colours examples/README.md says they change', () => {
    const before = ragsAsOf(borough, TODAY)
    const after = ragsAsOf({ ...borough, observations: [...borough.observations, ...examples] }, TODAY)
    const expected: Record<string, [Rag, Rag]> = {
      'SVC-0005': ['green', 'red'],
      'SVC-0007': ['green', 'amber'],
      'SVC-0011': ['green', 'amber'],
      'SVC-0015': ['green', 'amber'],
      'SVC-0016': ['green', 'amber'],
      'SVC-0024': ['green', 'amber'],
      'SVC-0026': ['green', 'green'],
      'SVC-0012': ['amber', 'green'],
      'SVC-0039': ['amber', 'green'],
      'SVC-0029': ['green', 'red'],
      'SVC-0004': ['green', 'green'],
      'SVC-0030': ['green', 'red'],
      'SVC-0031': ['green', 'amber'],
      'SVC-0006': ['green', 'green'],
    }
    const touched = new Set(examples.map((o) => o.serviceRef))
    expect([...touched].sort()).toEqual(Object.keys(expected).sort())
    for (const [ref, [from, to]] of Object.entries(expected)) {
      expect([ref, before.get(ref), after.get(ref)]).toEqual([ref, from, to])
    }
  })
})
