import type { ObservationRepository, StoredObservation } from '../data/observations.js'
import type { Store } from '../data/store.js'
import type { RunRepository } from '../data/runs.js'
import type { ListedService, ServiceListingRepository } from '../data/serviceListing.js'
import type { Service, ServiceRepository } from '../data/services.js'
import { addDays, addMonths, daysBetween } from '../domain/dates.js'
import { rankDueNext, type DueNextEntry } from '../domain/dueNext.js'
import { isCountedAssessment } from '../domain/indicators/qualityAssessment.js'
import { versionChain, type NewObservation, type Observation } from '../domain/observation.js'
import type { RiskResult } from '../domain/riskResult.js'
import { ASSESSMENT_OUTCOMES, type AssessmentOutcome, type Source } from '../domain/vocabulary.js'
import { assessmentObservation, parseCouncilRecord, type AssessmentRow } from '../ingest/council/index.js'
import { asStored, type EntryContext, type FieldProblem } from './intelligenceService.js'
import type { RiskService } from './riskService.js'

/** SPEC §8: the cycle around a quality assessment. Only published (or status-less, e.g. imported) ones count. */
export const ASSESSMENT_STATUSES = ['draft', 'challenge', 'published'] as const
export type AssessmentStatus = (typeof ASSESSMENT_STATUSES)[number]
/** Days the provider has to challenge the draft's factual accuracy. */
export const CHALLENGE_DAYS = 14
/** A Requires Improvement or Poor outcome needs an action plan within this many days of the assessment. */
export const ACTION_PLAN_DAYS = 14
/** ... and a re-assessment about this many months after it. */
export const REASSESSMENT_MONTHS = 6

export const DOMAIN_NAMES = [
  'Involvement and information',
  'Personalised care and support',
  'Safeguarding and safety',
  'Suitability of staffing',
  'Quality of management',
] as const

export interface Assessment {
  id: number
  serviceId: number
  date: string
  outcome: string
  assessor: string | null
  /** Domain ratings 1 to 5, null where not given. */
  domains: Array<AssessmentOutcome | null>
  /** 'published' also for status-less (imported) assessments, which count. */
  status: AssessmentStatus
  challengeStartedOn: string | null
  challengeEndsOn: string | null
  publishedOn: string | null
  source: Source
  enteredBy: string | null
  recordedAt: string
  supersedesId: number | null
  supersededById: number | null
}

/** Where an assessment stands in its cycle, as of a day, and what follows from its outcome. */
export interface AssessmentCycle {
  status: AssessmentStatus
  /** The risk engine counts it. */
  counted: boolean
  canStartChallenge: boolean
  /** The challenge window is over (publishing earlier needs the provider's acceptance). */
  challengeOver: boolean
  canPublish: boolean
  /** Days left in the challenge window (0 on its last day); null outside it. */
  challengeDaysLeft: number | null
  /** Requires Improvement or Poor: the action plan and re-assessment due dates. */
  needsFollowUp: boolean
  actionPlanDueOn: string | null
  reassessmentDueOn: string | null
}

export function toAssessment(observation: StoredObservation): Assessment | null {
  if (observation.indicator !== 'quality_assessment') return null
  const detail = observation.detail
  const text = (key: string) => (typeof detail[key] === 'string' ? (detail[key] as string) : null)
  const rawStatus = text('status')
  const status: AssessmentStatus = (ASSESSMENT_STATUSES as readonly string[]).includes(rawStatus ?? '')
    ? (rawStatus as AssessmentStatus)
    : 'published'
  const domains = Array.isArray(detail.domains) ? detail.domains : []
  return {
    id: observation.id,
    serviceId: observation.serviceId,
    date: observation.observedOn,
    outcome: observation.value,
    assessor: text('assessor'),
    domains: [0, 1, 2, 3, 4].map((i) => {
      const rating = domains[i]
      return typeof rating === 'string' && (ASSESSMENT_OUTCOMES as readonly string[]).includes(rating)
        ? (rating as AssessmentOutcome)
        : null
    }),
    status,
    challengeStartedOn: text('challengeStartedOn'),
    challengeEndsOn: text('challengeEndsOn'),
    publishedOn: text('publishedOn'),
    source: observation.source,
    enteredBy: observation.enteredBy,
    recordedAt: observation.recordedAt,
    supersedesId: observation.supersedesId,
    supersededById: observation.supersededById,
  }
}

export function needsFollowUp(outcome: string): boolean {
  return outcome === 'requires_improvement' || outcome === 'poor'
}

/** The cycle of one assessment as of `today`. Pure. */
export function assessmentCycle(assessment: Assessment, today: string): AssessmentCycle {
  const live = assessment.supersededById === null
  const inChallenge = assessment.status === 'challenge'
  const challengeOver = inChallenge && assessment.challengeEndsOn !== null && assessment.challengeEndsOn <= today
  const followUp = needsFollowUp(assessment.outcome)
  return {
    status: assessment.status,
    counted: assessment.status === 'published',
    canStartChallenge: live && assessment.status === 'draft',
    challengeOver,
    canPublish: live && inChallenge,
    challengeDaysLeft:
      inChallenge && assessment.challengeEndsOn !== null && !challengeOver
        ? daysBetween(today, assessment.challengeEndsOn)
        : null,
    needsFollowUp: followUp,
    actionPlanDueOn: followUp ? addDays(assessment.date, ACTION_PLAN_DAYS) : null,
    reassessmentDueOn: followUp ? addMonths(assessment.date, REASSESSMENT_MONTHS) : null,
  }
}

export interface DueNextRow extends DueNextEntry {
  ref: string
  name: string
  providerName: string
  lastOutcome: string | null
  actionPlanDueOn: string | null
  reassessmentDueOn: string | null
  /** No published judgement yet: ranked as Green with score 0. */
  notComputed: boolean
}

export interface InCycleRow {
  ref: string
  name: string
  assessment: Assessment
  cycle: AssessmentCycle
}

export interface DueNextView {
  asOf: string
  rows: DueNextRow[]
  /** Drafts and assessments under challenge, the ones ready to publish first. */
  inCycle: InCycleRow[]
}

export type AssessmentOutcomeResult =
  | { ok: true; service: Service; assessment: Assessment; previous: Assessment | null; risk: RiskResult | null }
  | { ok: false; status: 400 | 404 | 409; error: string; problems: FieldProblem[] }

export type StatusAction = 'challenge' | 'publish'

export interface AssessmentServiceDeps {
  services: Pick<ServiceRepository, 'findByRef'>
  observations: Pick<ObservationRepository, 'listHistory' | 'findById' | 'listLiveForIdRange'>
  listing: Pick<ServiceListingRepository, 'list'>
  runs: Pick<RunRepository, 'current'>
  risk: Pick<RiskService, 'recomputeServices' | 'activeRuleSet'>
  /** The entry and its audit entry are written in one transaction. */
  store: Pick<Store, 'write'>
  today: () => string
}

const ASSESSMENT_FIELDS = [
  'assessment_date',
  'outcome',
  'assessor',
  'domain_1',
  'domain_2',
  'domain_3',
  'domain_4',
  'domain_5',
]
const BATCH = 1000

function auditView(service: Service, assessment: Assessment) {
  return {
    service: service.ref,
    observationId: assessment.id,
    date: assessment.date,
    outcome: assessment.outcome,
    assessor: assessment.assessor,
    domains: assessment.domains,
    status: assessment.status,
    challengeEndsOn: assessment.challengeEndsOn,
    publishedOn: assessment.publishedOn,
  }
}

/**
 * Quality assessments (SPEC §8): recorded by form, moved through draft, factual-accuracy challenge and publication
 * (each step a superseding version, audited), and the due-next queue of services to assess.
 */
export class AssessmentService {
  constructor(private readonly deps: AssessmentServiceDeps) {}

  async findService(ref: string): Promise<Service | null> {
    return this.deps.services.findByRef(ref)
  }

  /** Every assessment of a service, newest first, earlier versions included. */
  async assessmentsFor(serviceId: number): Promise<Assessment[]> {
    const history = await this.deps.observations.listHistory(serviceId)
    return history.map(toAssessment).filter((a): a is Assessment => a !== null)
  }

  async assessment(serviceId: number, id: number): Promise<Assessment | null> {
    const observation = await this.deps.observations.findById(id)
    if (!observation || observation.serviceId !== serviceId) return null
    return toAssessment(observation)
  }

  /** The versions of an assessment, newest first. */
  async versionsOf(serviceId: number, id: number): Promise<Assessment[]> {
    return versionChain(await this.assessmentsFor(serviceId), id)
  }

  /**
   * Records an assessment from fields named as the CSV's columns (assessment_date, outcome, assessor, domain_1..5),
   * as a draft (the cycle starts) or already published (its cycle ran elsewhere).
   */
  async record(
    ref: string,
    fields: Record<string, unknown>,
    status: 'draft' | 'published',
    context: EntryContext,
  ): Promise<AssessmentOutcomeResult> {
    const service = await this.deps.services.findByRef(ref)
    if (!service) return notFound(ref)
    const parsed = this.parse(service, fields)
    if (!parsed.ok) return invalid(parsed.problems)
    const fresh = assessmentObservation(parsed.value)
    const history = await this.deps.observations.listHistory(service.id)
    if (history.some((o) => o.indicator === 'quality_assessment' && o.naturalKey === fresh.naturalKey)) {
      return invalid([
        {
          field: 'assessment_date',
          message: `An assessment dated ${parsed.value.assessmentDate} is already recorded for this service: change that one instead`,
        },
      ])
    }
    const today = this.deps.today()
    const observation: NewObservation = {
      ...fresh,
      detail: { ...fresh.detail, status, ...(status === 'published' ? { publishedOn: today } : {}) },
      serviceId: service.id,
      source: context.source,
      enteredBy: context.actor,
    }
    return this.store(service, observation, null, context, 'assessment.recorded')
  }

  /** Corrects an assessment (after a factual-accuracy challenge, say): a new version; its place in the cycle stays. */
  async edit(
    ref: string,
    id: number,
    fields: Record<string, unknown>,
    context: EntryContext,
  ): Promise<AssessmentOutcomeResult> {
    const found = await this.liveAssessment(ref, id)
    if (!found.ok) return found
    const { service, old } = found
    const parsed = this.parse(service, fields)
    if (!parsed.ok) return invalid(parsed.problems)
    const fresh = assessmentObservation(parsed.value)
    const row = parsed.value
    const same =
      row.assessmentDate === old.date &&
      row.outcome === old.outcome &&
      row.assessor === old.assessor &&
      row.domains.every((d, i) => d === (old.domains[i] ?? null))
    if (same) return invalid([{ field: 'form', message: 'Nothing has changed: change a field, or go back' }])
    const observation: NewObservation = {
      ...fresh,
      detail: { ...fresh.detail, ...cycleDetail(old) },
      naturalKey: `edit:${old.id}`,
      supersedes: old.id,
      serviceId: service.id,
      source: context.source,
      enteredBy: context.actor,
    }
    return this.store(service, observation, old, context, 'assessment.changed')
  }

  /**
   * Moves an assessment on in its cycle: a draft goes to the provider for a 14-day factual-accuracy challenge; an
   * assessment under challenge is published once the window is over, or earlier when the provider has accepted it.
   */
  async changeStatus(
    ref: string,
    id: number,
    action: StatusAction,
    options: { providerAccepted: boolean },
    context: EntryContext,
  ): Promise<AssessmentOutcomeResult> {
    const found = await this.liveAssessment(ref, id)
    if (!found.ok) return found
    const { service, old } = found
    const today = this.deps.today()
    const cycle = assessmentCycle(old, today)
    let detail: Record<string, unknown>
    if (action === 'challenge') {
      if (!cycle.canStartChallenge) return wrongStep(`It is ${old.status}, not a draft`)
      detail = {
        status: 'challenge',
        challengeStartedOn: today,
        challengeEndsOn: addDays(today, CHALLENGE_DAYS),
      }
    } else {
      if (!cycle.canPublish) return wrongStep(`It is ${old.status}: only an assessment under challenge is published`)
      if (!cycle.challengeOver && !options.providerAccepted) {
        return invalid([
          {
            field: 'providerAccepted',
            message: `The challenge window is open until ${old.challengeEndsOn}: publish earlier only if the provider has accepted the report`,
          },
        ])
      }
      detail = {
        status: 'published',
        challengeStartedOn: old.challengeStartedOn,
        challengeEndsOn: old.challengeEndsOn,
        publishedOn: today,
        ...(cycle.challengeOver ? {} : { providerAccepted: true }),
      }
    }
    const observation: NewObservation = {
      indicator: 'quality_assessment',
      value: old.outcome,
      observedOn: old.date,
      endDate: null,
      detail: {
        ...(old.assessor !== null ? { assessor: old.assessor } : {}),
        ...(old.domains.some((d) => d !== null) ? { domains: old.domains } : {}),
        ...withoutNulls(detail),
      },
      reference: null,
      notes: null,
      naturalKey: `edit:${old.id}`,
      supersedes: old.id,
      serviceId: service.id,
      source: context.source,
      enteredBy: context.actor,
    }
    return this.store(
      service,
      observation,
      old,
      context,
      action === 'challenge' ? 'assessment.challenge_started' : 'assessment.published',
    )
  }

  /** The due-next queue (SPEC §8) ranked by rankDueNext, and the assessments still in their cycle. */
  async dueNext(): Promise<DueNextView> {
    const asOf = this.deps.today()
    const { ruleSet } = await this.deps.risk.activeRuleSet()
    const { rows: listed } = await this.deps.listing.list({ sort: 'name', limit: Number.MAX_SAFE_INTEGER })
    const byId = new Map<number, ListedService>(listed.map((row) => [row.id, row]))
    const ids = [...byId.keys()].sort((a, b) => a - b)
    const lastCounted = new Map<number, Observation>()
    const inCycle: InCycleRow[] = []
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH)
      const grouped = await this.deps.observations.listLiveForIdRange(batch[0] as number, (batch.at(-1) as number) + 1)
      for (const [serviceId, observations] of grouped) {
        const service = byId.get(serviceId)
        if (!service) continue
        for (const o of observations) {
          if (o.indicator !== 'quality_assessment') continue
          if (isCountedAssessment(o)) {
            const last = lastCounted.get(serviceId)
            if (!last || o.observedOn > last.observedOn || (o.observedOn === last.observedOn && o.id > last.id)) {
              lastCounted.set(serviceId, o)
            }
            continue
          }
          const assessment = toAssessment({ ...o, serviceId, naturalKey: '', supersedesId: null, supersededById: null })
          if (assessment) {
            inCycle.push({ ref: service.ref, name: service.name, assessment, cycle: assessmentCycle(assessment, asOf) })
          }
        }
      }
    }
    const ranked = rankDueNext(
      listed.map((service) => ({
        serviceId: service.id,
        rag: service.rag ?? 'green',
        score: service.score ?? 0,
        lastAssessmentDate: lastCounted.get(service.id)?.observedOn ?? null,
        contractStatus: service.contractStatus,
      })),
      asOf,
      ruleSet.assessmentSchedule,
    )
    const rows = ranked.map((entry): DueNextRow => {
      const service = byId.get(entry.serviceId) as ListedService
      const last = lastCounted.get(entry.serviceId)
      const followUp = last !== undefined && needsFollowUp(last.value)
      return {
        ...entry,
        ref: service.ref,
        name: service.name,
        providerName: service.providerName,
        lastOutcome: last?.value ?? null,
        actionPlanDueOn: followUp && last ? addDays(last.observedOn, ACTION_PLAN_DAYS) : null,
        reassessmentDueOn: followUp && last ? addMonths(last.observedOn, REASSESSMENT_MONTHS) : null,
        notComputed: service.rag === null,
      }
    })
    inCycle.sort(
      (a, b) =>
        Number(b.cycle.challengeOver) - Number(a.cycle.challengeOver) ||
        (a.assessment.challengeEndsOn ?? '9999').localeCompare(b.assessment.challengeEndsOn ?? '9999') ||
        a.assessment.date.localeCompare(b.assessment.date),
    )
    return { asOf, rows, inCycle }
  }

  private async liveAssessment(
    ref: string,
    id: number,
  ): Promise<{ ok: true; service: Service; old: Assessment } | Extract<AssessmentOutcomeResult, { ok: false }>> {
    const service = await this.deps.services.findByRef(ref)
    if (!service) return notFound(ref)
    const old = await this.assessment(service.id, id)
    if (!old) {
      return {
        ok: false,
        status: 404,
        error: 'Assessment not found',
        problems: [{ field: 'id', message: `No assessment ${id} for ${ref}` }],
      }
    }
    if (old.supersededById !== null) {
      return {
        ok: false,
        status: 409,
        error: 'This assessment has been changed since',
        problems: [
          { field: 'id', message: `Assessment ${id} has been replaced by a later version: change the latest one` },
        ],
      }
    }
    return { ok: true, service, old }
  }

  /** The problems `record` or `edit` would report for these fields, without writing anything. */
  validate(service: Service, fields: Record<string, unknown>): FieldProblem[] {
    const parsed = this.parse(service, fields)
    return parsed.ok ? [] : parsed.problems
  }

  private parse(service: Service, fields: Record<string, unknown>) {
    const row: Record<string, unknown> = { service_ref: service.ref }
    for (const name of ASSESSMENT_FIELDS) if (fields[name] !== undefined) row[name] = fields[name]
    const parsed = parseCouncilRecord('assessments', row, { today: this.deps.today() })
    if (parsed.ok) return { ok: true as const, value: parsed.value as AssessmentRow }
    return {
      ok: false as const,
      problems: parsed.problems.map((p) => ({ field: p.column ?? 'assessment_date', message: p.reason })),
    }
  }

  private async store(
    service: Service,
    observation: NewObservation,
    previous: Assessment | null,
    context: EntryContext,
    action: string,
  ): Promise<AssessmentOutcomeResult> {
    // The assessment and its audit entry in one transaction: a crash between them cannot leave an unaudited write.
    const id = await this.deps.store.write(async ({ observations, audit }) => {
      const inserted = (await observations.append([observation])).insertedIds[0]
      if (inserted === undefined) return undefined
      const written = toAssessment(asStored(observation, inserted))
      if (!written) throw new Error(`Observation ${inserted} is not an assessment`)
      await audit.record({
        actor: context.actor,
        action,
        entityType: 'service',
        entityId: service.ref,
        before: previous ? auditView(service, previous) : null,
        after: auditView(service, written),
      })
      return inserted
    })
    if (id === undefined) {
      return {
        ok: false,
        status: 409,
        error: 'This assessment has been changed since',
        problems: [
          { field: 'id', message: 'Someone recorded or changed this assessment at the same moment: look again' },
        ],
      }
    }
    const stored = await this.deps.observations.findById(id)
    const assessment = stored ? toAssessment(stored) : null
    if (!assessment) throw new Error(`Stored observation ${id} is not an assessment`)
    await this.deps.risk.recomputeServices([service.id], `${action} ${service.ref} by ${context.actor}`)
    const current = await this.deps.runs.current(service.id)
    return { ok: true, service, assessment, previous, risk: current?.result ?? null }
  }
}

/** The cycle fields of a version, carried over to the next. */
function cycleDetail(assessment: Assessment): Record<string, unknown> {
  return withoutNulls({
    status: assessment.status,
    challengeStartedOn: assessment.challengeStartedOn,
    challengeEndsOn: assessment.challengeEndsOn,
    publishedOn: assessment.publishedOn,
  })
}

function withoutNulls(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== null && value !== undefined))
}

function notFound(ref: string): Extract<AssessmentOutcomeResult, { ok: false }> {
  return {
    ok: false,
    status: 404,
    error: 'Service not found',
    problems: [{ field: 'ref', message: `No service ${ref}` }],
  }
}

function invalid(problems: FieldProblem[]): AssessmentOutcomeResult {
  return { ok: false, status: 400, error: 'Invalid assessment', problems }
}

function wrongStep(message: string): AssessmentOutcomeResult {
  return { ok: false, status: 409, error: 'Not at that step of the cycle', problems: [{ field: 'action', message }] }
}
