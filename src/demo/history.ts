import { addDays, daysBetween } from '../domain/dates.js'
import type { AssessmentOutcome, CompanyStatus, CqcKeyQuestion, CqcRating, IndicatorKey } from '../domain/vocabulary.js'
import { assessorName, personName } from './names.js'
import type { Random } from './random.js'
import type { DemoObservation, DemoProvider, DemoService } from './types.js'

/** Council-style reference numbers ('SG-1001'), numbered per prefix across the whole borough. */
export class ReferenceCounter {
  private readonly counters = new Map<string, number>()

  next(prefix: string): string {
    const n = (this.counters.get(prefix) ?? 1000) + 1
    this.counters.set(prefix, n)
    return `${prefix}-${n}`
  }
}

type KeyQuestions = Partial<Record<CqcKeyQuestion, CqcRating>>

/** Key question ratings that read plausibly beside an overall rating; `changes` pins particular ones. */
function keyQuestionsFor(rng: Random, overall: CqcRating, changes: KeyQuestions = {}): KeyQuestions | undefined {
  let base: KeyQuestions
  switch (overall) {
    case 'not_rated':
      return undefined
    case 'outstanding':
      base = {
        safe: 'good',
        effective: 'good',
        caring: 'outstanding',
        responsive: 'outstanding',
        well_led: 'outstanding',
      }
      break
    case 'good':
      base = {
        safe: 'good',
        effective: 'good',
        caring: rng.chance(0.15) ? 'outstanding' : 'good',
        responsive: 'good',
        well_led: 'good',
      }
      break
    case 'requires_improvement':
      base = {
        safe: 'requires_improvement',
        effective: 'good',
        caring: 'good',
        responsive: 'good',
        well_led: 'requires_improvement',
      }
      break
    case 'inadequate':
      base = {
        safe: 'inadequate',
        effective: 'requires_improvement',
        caring: 'good',
        responsive: 'requires_improvement',
        well_led: 'inadequate',
      }
      break
  }
  return { ...base, ...changes }
}

const INTELLIGENCE_NOTES = {
  safeguarding: [
    'Medication administered late on several occasions.',
    'Unexplained bruising reported by family.',
    'Missed calls reported by district nurse.',
    'Pressure ulcer not escalated promptly.',
    'Concern raised by whistleblower about night staffing.',
  ],
  embargo: ['Suspension of new placements pending improvement plan.', 'Embargo agreed at multi-agency meeting.'],
  default_notice: ['Failure to meet call-time standards.', 'Care plans not reviewed within contract timescales.'],
  death: ['Reported to coroner; provider review requested.', 'Fall resulting in hospital admission.'],
  concern: [
    'Late and missed calls.',
    'Staff not wearing ID badges.',
    'Complaint about food quality.',
    'Care records incomplete.',
    'Communication with family poor.',
  ],
} as const

/**
 * The observations of one demo service as they accumulate. Each method appends one observation following
 * the conventions of src/domain/observation.ts; `background*` methods lay down an unremarkable Green history
 * that scenarios add to or replace.
 */
export class ServiceHistory {
  readonly observations: DemoObservation[] = []
  private readonly seenKeys = new Set<string>()

  constructor(
    readonly service: DemoService,
    readonly provider: DemoProvider,
    readonly today: string,
    readonly rng: Random,
    private readonly references: ReferenceCounter,
  ) {}

  /** The date `days` days before today. */
  ago(days: number): string {
    return addDays(this.today, -days)
  }

  /** A random date `minDays` to `maxDays` days before today. */
  daysAgo(minDays: number, maxDays: number): string {
    return this.ago(this.rng.int(minDays, maxDays))
  }

  /** A random date between two dates, both inclusive. */
  between(from: string, to: string): string {
    return addDays(from, this.rng.int(0, Math.max(0, daysBetween(from, to))))
  }

  private add(
    indicator: IndicatorKey,
    observation: Omit<DemoObservation, 'serviceRef' | 'indicator' | 'source'>,
  ): void {
    const { observedOn, endDate } = observation
    if (observedOn > this.today || (endDate && (endDate > this.today || endDate < observedOn))) {
      throw new Error(`Demo ${this.service.ref} ${indicator}: bad dates ${observedOn}..${endDate ?? ''}`)
    }
    const key = `${indicator}|${observation.naturalKey}`
    if (this.seenKeys.has(key)) throw new Error(`Demo ${this.service.ref}: duplicate natural key ${key}`)
    this.seenKeys.add(key)
    this.observations.push({ serviceRef: this.service.ref, indicator, source: 'demo', ...observation })
  }

  private requireLocation(): string {
    if (!this.service.cqcLocationId) throw new Error(`Demo ${this.service.ref} is not CQC registered`)
    return this.service.cqcLocationId
  }

  cqcRating(date: string, overall: CqcRating, keyQuestionChanges: KeyQuestions = {}): void {
    const location = this.requireLocation()
    const keyQuestions = keyQuestionsFor(this.rng, overall, keyQuestionChanges)
    this.add('cqc_rating', {
      observedOn: date,
      value: overall,
      detail: { ...(keyQuestions ? { keyQuestions } : {}), registrationStatus: 'registered' },
      reference: overall === 'not_rated' ? null : this.rng.uuid(),
      naturalKey: overall === 'not_rated' ? `cqc:${location}:not_rated:${date}` : `cqc:${location}:${date}`,
    })
  }

  foodHygiene(date: string, value: string): void {
    const fhrsId = this.service.fhrsId
    if (!fhrsId) throw new Error(`Demo ${this.service.ref} has no FHRS id`)
    this.add('food_hygiene', {
      observedOn: date,
      value,
      detail: { fhrsId, businessName: this.service.name },
      naturalKey: `fhrs:${fhrsId}:${date}:${value}`,
    })
  }

  assessment(date: string, outcome: AssessmentOutcome, status: 'draft' | 'published' = 'published'): void {
    const reference = this.references.next('QA')
    const domains = Array.from({ length: 5 }, () =>
      this.rng.chance(0.7) ? outcome : this.rng.pick(['good', 'requires_improvement'] as const),
    )
    this.add('quality_assessment', {
      observedOn: date,
      value: outcome,
      detail: { assessor: assessorName(this.rng), domains, status },
      reference,
      naturalKey: status === 'published' ? `qa:${date}:${outcome}` : `qa:${date}:${outcome}:${status}`,
    })
  }

  safeguardingDecision(date: string): void {
    const reference = this.references.next('SG')
    const outcome = this.rng.pick(['substantiated', 'not_substantiated', 'inconclusive', 'open'] as const)
    this.add('safeguarding', {
      observedOn: date,
      value: 'decision',
      detail: { outcome },
      reference,
      notes: this.rng.pick(INTELLIGENCE_NOTES.safeguarding),
      naturalKey: `council:safeguarding_decision:${reference}`,
    })
  }

  safeguardingCount(periodStart: string, periodEnd: string, decisions: number): void {
    this.add('safeguarding', {
      observedOn: periodEnd,
      value: 'count',
      detail: { periodStart, periodEnd, decisions },
      naturalKey: `sgcount:${periodStart}:${periodEnd}`,
    })
  }

  embargo(start: string, lifted: string | null): void {
    const reference = this.references.next('EMB')
    this.add('embargo', {
      observedOn: start,
      endDate: lifted,
      value: 'embargo',
      reference,
      notes: this.rng.pick(INTELLIGENCE_NOTES.embargo),
      naturalKey: `council:embargo:${reference}`,
    })
  }

  defaultNotice(issued: string, resolved: string | null): void {
    const reference = this.references.next('DN')
    this.add('default_notice', {
      observedOn: issued,
      endDate: resolved,
      value: 'default_notice',
      detail: { outcome: resolved ? 'resolved' : 'open' },
      reference,
      notes: this.rng.pick(INTELLIGENCE_NOTES.default_notice),
      naturalKey: `council:default_notice:${reference}`,
    })
  }

  unexpectedDeath(date: string): void {
    const reference = this.references.next('UD')
    this.add('unexpected_deaths', {
      observedOn: date,
      value: 'death',
      reference,
      notes: this.rng.pick(INTELLIGENCE_NOTES.death),
      naturalKey: `council:unexpected_death:${reference}`,
    })
  }

  contractConcern(date: string, value: 'substantiated' | 'not_substantiated' | 'open'): void {
    const reference = this.references.next('CC')
    this.add('contract_concerns', {
      observedOn: date,
      value,
      reference,
      notes: this.rng.pick(INTELLIGENCE_NOTES.concern),
      naturalKey: `council:contract_concern:${reference}`,
    })
  }

  companyStatus(date: string, status: CompanyStatus): void {
    const companyNumber = this.provider.companiesHouseNumber
    if (!companyNumber) throw new Error(`Demo provider ${this.provider.key} has no company number`)
    this.add('insolvency', {
      observedOn: date,
      value: status,
      detail: { companyNumber },
      naturalKey: `ch:${companyNumber}:${status}:${date}`,
    })
  }

  managerVacancy(since: string, filled: string | null): void {
    const reference = this.references.next('MV')
    this.add('manager_vacancy', {
      observedOn: since,
      endDate: filled,
      value: 'vacant',
      reference,
      naturalKey: `council:manager_vacancy:${reference}`,
    })
    if (filled) this.managerInPost(filled)
  }

  managerInPost(date: string): void {
    this.add('manager_vacancy', {
      observedOn: date,
      value: 'in_post',
      detail: { managerName: personName(this.rng) },
      naturalKey: `manager:${this.service.ref}:${date}`,
    })
  }

  /** When the demo's data feeds "started": company statuses are first seen then. */
  get historyStart(): string {
    return this.ago(548)
  }

  /** Days since CQC registration (0 when unregistered). */
  private get registeredDays(): number {
    return this.service.registeredOn ? daysBetween(this.service.registeredOn, this.today) : 0
  }

  /** A Good (sometimes Outstanding) rating published over a year ago; some from 2016-2019, to show staleness. */
  backgroundCqc(): void {
    const registeredOn = this.service.registeredOn
    if (!registeredOn || !this.service.cqcLocationId) return
    const stale = this.rng.chance(0.3) && registeredOn < '2019-06-01'
    const earliest = addDays(registeredOn, 120)
    const latest = stale
      ? this.between(earliest > '2016-01-01' ? earliest : '2016-01-01', '2019-12-31')
      : this.daysAgo(400, Math.min(1400, this.registeredDays - 120))
    const hasPrevious = this.rng.chance(0.6)
    const previous = addDays(latest, -this.rng.int(700, 1100))
    if (hasPrevious && previous >= earliest) {
      this.cqcRating(previous, this.rng.chance(0.3) ? 'requires_improvement' : 'good')
    }
    this.cqcRating(latest, this.rng.chance(0.12) ? 'outstanding' : 'good')
  }

  backgroundFoodHygiene(): void {
    if (!this.service.fhrsId) return
    if (this.rng.chance(0.04)) {
      this.foodHygiene(this.daysAgo(20, 200), 'awaiting_inspection')
      return
    }
    const latest = this.daysAgo(60, 1000)
    if (this.rng.chance(0.5)) this.foodHygiene(addDays(latest, -this.rng.int(500, 900)), String(this.rng.int(3, 5)))
    this.foodHygiene(
      latest,
      this.rng.weighted([
        ['5', 60],
        ['4', 30],
        ['3', 10],
      ]),
    )
  }

  /** Assessments about yearly, back beyond the 18 months, each Good or Excellent; about 1 in 10 never assessed. */
  backgroundAssessments(): void {
    if (this.rng.chance(0.1)) return
    this.assessmentChain(this.daysAgo(20, 300))
  }

  /** Good or Excellent assessments every 10-12 months, from `latest` back to before the 18 months. */
  assessmentChain(latest: string): void {
    const dates: string[] = []
    for (let date = latest; date >= this.ago(640); date = addDays(date, -this.rng.int(300, 350))) dates.push(date)
    for (const date of dates.reverse()) this.assessment(date, this.rng.chance(0.2) ? 'excellent' : 'good')
  }

  backgroundManager(): void {
    if (!this.service.cqcLocationId || !this.service.registeredOn) return
    this.managerInPost(this.daysAgo(560, Math.max(560, Math.min(2500, this.registeredDays))))
  }

  backgroundCompanyStatus(): void {
    if (this.provider.companiesHouseNumber) this.companyStatus(this.historyStart, 'active')
  }

  /** A few services report safeguarding as quarterly counts rather than one row per decision. */
  backgroundSafeguarding(): void {
    if (this.rng.chance(0.06)) this.quarterlyCounts([0, 0, 0, 0, 0, 0])
  }

  /** Quarterly counts, oldest first, ending with the last full quarter before today. */
  quarterlyCounts(decisions: readonly number[]): void {
    const quarters = lastFullQuarters(this.today, decisions.length)
    quarters.forEach(([start, end], i) => this.safeguardingCount(start, end, decisions[i] ?? 0))
  }

  /** Contract-monitoring noise that never changes a colour: unfounded or open concerns, at most one substantiated. */
  backgroundConcerns(): void {
    if (!this.rng.chance(0.3)) return
    const count = this.rng.int(1, 2)
    let substantiated = false
    for (let i = 0; i < count; i++) {
      const value = this.rng.weighted([
        ['not_substantiated', 60],
        ['open', 15],
        ['substantiated', 25],
      ] as const)
      if (value === 'substantiated' && substantiated) continue
      substantiated ||= value === 'substantiated'
      this.contractConcern(value === 'open' ? this.daysAgo(5, 60) : this.daysAgo(10, 540), value)
    }
  }
}

/** The last `count` calendar quarters that ended before `today`, oldest first, as [start, end] ISO dates. */
export function lastFullQuarters(today: string, count: number): [string, string][] {
  const year = Number(today.slice(0, 4))
  const month = Number(today.slice(5, 7))
  let quarterIndex = year * 4 + Math.floor((month - 1) / 3) - 1
  const quarters: [string, string][] = []
  for (let i = 0; i < count; i++, quarterIndex--) {
    const y = Math.floor(quarterIndex / 4)
    const firstMonth = (quarterIndex % 4) * 3
    const start = new Date(Date.UTC(y, firstMonth, 1)).toISOString().slice(0, 10)
    const end = new Date(Date.UTC(y, firstMonth + 3, 0)).toISOString().slice(0, 10)
    quarters.unshift([start, end])
  }
  return quarters
}
