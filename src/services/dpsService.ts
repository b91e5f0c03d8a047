import { z } from 'zod'
import type {
  Award,
  AwardOutcome,
  AwardTransactionFacts,
  CurrentJudgement,
  DpsRepository,
  DpsWithLots,
  EligibilityEvaluation,
  EligibilityEvent,
  Lot,
  Member,
  Membership,
  NewLot,
  OffContractShare,
  TaskView,
} from '../data/dps.js'
import { decideAward, type AwardDecision } from '../domain/award.js'
import { addDays, addMonths, isIsoDate, parseCouncilDate } from '../domain/dates.js'
import {
  DEFAULT_GATES,
  gatesSchema,
  RATED_CQC,
  evaluateEligibility,
  factsFromRiskResult,
  type EligibilityFacts,
  type EligibilityResult,
  type FailingGate,
  type Gates,
} from '../domain/eligibility.js'
import {
  LOT_TIERS,
  membershipFailure,
  referralOrder,
  type LotTier,
  type MembershipStatus,
  type PenPicture,
  type ReferralCandidate,
  type ReferralResult,
} from '../domain/referral.js'
import {
  ASSESSMENT_OUTCOMES,
  RAGS,
  SERVICE_TYPE_LABELS,
  SERVICE_TYPES,
  normaliseWord,
  type Rag,
  type ServiceType,
} from '../domain/vocabulary.js'
import { decimal, safeServiceRef, safeText } from '../domain/strictInput.js'

/** The current facts for a service, for the lists, the referral and the stored verdicts. */
export type CurrentFacts = (serviceId: number) => Promise<EligibilityFacts | null>

/**
 * The facts the gates read, from a service's published judgement. Synchronous and pure: the award calls it inside the
 * transaction that writes the award.
 */
export type JudgementFacts = (judgement: CurrentJudgement) => EligibilityFacts | null

export const factsOfJudgement: JudgementFacts = (judgement) => factsFromRiskResult(judgement.result)

export interface DpsServiceDependencies {
  repository: DpsRepository
  /** Default: the published judgement read through the repository, then `judgementFacts`. */
  currentFacts?: CurrentFacts
  /** Default: `factsOfJudgement` (the facts read out of the published RiskResult). */
  judgementFacts?: JudgementFacts
  /** Today's ISO date in the council's time zone. */
  today: () => string
}

export interface MemberView {
  ref: string
  name: string
  providerName: string
  status: MembershipStatus
  admittedOn: string
  statusChangedOn: string
  statusReason: string | null
  /** May receive new packages under this lot now: admitted and every gate holds. */
  eligible: boolean
  failingGates: FailingGate[]
  rag: Rag | null
  /** The RAG is a manual override's. */
  overridden: boolean
  awardsLast12Months: number
  weeklyHoursLast12Months: number
}

export interface LotView {
  id: number
  name: string
  tier: LotTier
  zone: string | null
  areas: string[]
  serviceType: ServiceType
  specialism: string | null
  members: MemberView[]
}

/** One DPS as SPEC §9 `GET /dps` gives it (extra fields are extensions). */
export interface FrameworkView {
  id: number
  name: string
  description: string | null
  gates: Gates
  lots: LotView[]
}

export interface FrameworkPage extends FrameworkView {
  /** New packages in the last 12 months going to off-contract services. */
  offContractShare: OffContractShare
  /** The same share for each quarter of the last 12 months, oldest first, so its trend shows. */
  offContractByQuarter: Array<{ from: string; to: string; share: OffContractShare }>
  awardsLast12Months: Award[]
}

const isoDate = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const parsed = parseCouncilDate(value)
    if (parsed === null) ctx.addIssue({ code: 'custom', message: 'Enter a real date, for example 2026-03-14' })
    return parsed ?? ''
  })

const serviceType = z
  .string()
  .transform((value) => normaliseWord(value))
  .pipe(z.enum(SERVICE_TYPES, { message: 'Select a service type' }))

/**
 * A number given as a JSON number or as plain decimal form text ("12.5"); anything else (true, [1], '', 0x10, 1e3)
 * is left for the schema to refuse, where `z.coerce` would have read `true` or `[1]` as 1 and `0x10` as 16.
 */
function numberOrText<T extends z.ZodType>(schema: T) {
  return decimal(schema)
}

/** The body of `POST /dps/{id}/awards` (SPEC §9), for the route and the form. */
export const awardInputSchema = z.object({
  serviceRef: safeServiceRef(
    z
      .string({ error: 'Enter the service reference' })
      .trim()
      .min(1, 'Enter the service reference')
      .max(100, 'The service reference must be 100 characters or fewer'),
  ),
  lotId: numberOrText(
    z
      .number({ error: 'Select a lot' })
      .int('Select a lot')
      .positive('Select a lot')
      .max(Number.MAX_SAFE_INTEGER, 'Select a lot'),
  ),
  weeklyHours: numberOrText(
    z
      .number({ error: 'Enter the weekly hours as a number' })
      .positive('Weekly hours must be more than 0')
      .max(168, 'Weekly hours must be 168 or fewer'),
  ),
  startDate: z.string({ error: 'Enter the start date' }).pipe(isoDate),
  reference: safeText(
    z
      .string({ error: 'Enter the package reference' })
      .trim()
      .min(1, 'Enter the package reference')
      .max(100, 'The package reference must be 100 characters or fewer'),
  ),
})
export type AwardInput = z.infer<typeof awardInputSchema>

/** A pen picture (`GET /dps/{id}/referral?area=&type=`, plus optional hours, start date and needs). */
export const penPictureSchema = z.object({
  area: z.string().trim().min(1, 'Enter the area'),
  serviceType,
  weeklyHours: decimal(z.number().positive().max(168).optional()),
  startDate: isoDate.optional(),
  needs: z
    .union([z.string(), z.array(z.string())])
    .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((need) => need.trim()).filter(Boolean))
    .optional(),
})

/** An empty query or form value reads as absent. */
function blankAsAbsent<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), schema)
}

/**
 * The referral query as the page form and `GET /dps/{id}/referral` send it: `area`, `type` (service type) and the
 * optional `weeklyHours`, `startDate` and `needs` (comma-separated or repeated).
 */
export const referralQuerySchema = z.object({
  area: z
    .string({ error: 'Select the area the person lives in' })
    .trim()
    .min(1, 'Select the area the person lives in')
    .max(100),
  type: z
    .string({ error: 'Select the type of service' })
    .transform((value) => normaliseWord(value))
    .pipe(z.enum(SERVICE_TYPES, { error: 'Select the type of service' })),
  weeklyHours: blankAsAbsent(
    decimal(
      z
        .number({ error: 'Enter the weekly hours as a number' })
        .positive('Weekly hours must be more than 0')
        .max(168, 'Weekly hours must be 168 or fewer')
        .optional(),
    ),
  ),
  startDate: blankAsAbsent(z.string().pipe(isoDate).optional()),
  needs: blankAsAbsent(penPictureSchema.shape.needs),
})
export type ReferralQuery = z.infer<typeof referralQuerySchema>

export function toPenPicture(query: ReferralQuery): PenPicture {
  return {
    area: query.area,
    serviceType: query.type,
    weeklyHours: query.weeklyHours ?? null,
    startDate: query.startDate ?? null,
    needs: query.needs ?? [],
  }
}

/** A form's optional free text: trimmed, '' read as null; line breaks only where the field is a text area. */
function optionalText(max: number, label: string, options: { multiline?: boolean } = {}) {
  return safeText(
    z.string().trim().max(max, `${label} must be ${max} characters or fewer`).optional(),
    options,
  ).transform((value) => (value ? value : null))
}

function requiredText(max: number, missing: string, label: string, options: { multiline?: boolean } = {}) {
  return safeText(
    z.string({ error: missing }).trim().min(1, missing).max(max, `${label} must be ${max} characters or fewer`),
    options,
  )
}

/** A select whose 'off' option switches a gate off (null). */
function gateLevel<T extends string>(values: readonly [T, ...T[]], message: string) {
  return z
    .enum(['off', ...values] as [string, ...string[]], { error: message })
    .transform((value) => (value === 'off' ? null : (value as T)))
}

/** An HTML checkbox: present (any of these values) is true, absent is false. */
const checkbox = z
  .enum(['yes', 'true', 'on'], { error: 'Tick the box or leave it empty' })
  .optional()
  .transform((value) => value !== undefined)

const gatesFields = {
  minimumCqcRating: gateLevel(RATED_CQC, 'Select the minimum CQC rating'),
  maximumRag: gateLevel(RAGS, 'Select the worst RAG accepted'),
  noActiveEmbargo: checkbox,
  notInsolvent: checkbox,
  minimumQualityOutcome: gateLevel(ASSESSMENT_OUTCOMES, 'Select the minimum quality assessment outcome'),
  registeredManagerInPost: checkbox,
}

/** The gates form (admin): select and checkbox values into `Gates`, checked again by `gatesSchema`. */
export const gatesFormSchema = z.object(gatesFields).transform((gates): Gates => gatesSchema.parse(gates))

/** The "create a DPS" form: name, description and its gates. */
export const frameworkFormSchema = z
  .object({
    name: requiredText(200, 'Enter the name of the DPS', 'The name'),
    description: optionalText(2000, 'The description', { multiline: true }),
    ...gatesFields,
  })
  .transform(({ name, description, ...gates }) => ({ name, description, gates: gatesSchema.parse(gates) }))
export type FrameworkInput = z.infer<typeof frameworkFormSchema>

/** The "add a lot" form. A Tier 1 lot leads a zone, so it needs one; areas are a comma-separated list. */
export const lotFormSchema = z
  .object({
    name: requiredText(200, 'Enter the name of the lot', 'The name'),
    tier: z.enum(LOT_TIERS, { error: 'Select the tier' }),
    zone: optionalText(100, 'The zone'),
    areas: z
      .string()
      .max(1000, 'The areas must be 1000 characters or fewer')
      .optional()
      .transform((value) => [
        ...new Set(
          (value ?? '')
            .split(',')
            .map((area) => area.trim())
            .filter(Boolean),
        ),
      ])
      .pipe(
        z.array(z.string().max(100, 'Each area must be 100 characters or fewer')).max(50, 'List 50 areas or fewer'),
      ),
    serviceType,
    specialism: optionalText(100, 'The specialism'),
  })
  .superRefine((lot, ctx) => {
    if (lot.tier === 'tier1' && lot.zone === null) {
      ctx.addIssue({ code: 'custom', path: ['zone'], message: 'Enter the zone this Tier 1 lot leads' })
    }
    if (lot.tier === 'specialist' && lot.specialism === null) {
      ctx.addIssue({ code: 'custom', path: ['specialism'], message: 'Enter the specialism of this specialist lot' })
    }
  })
export type LotInput = z.infer<typeof lotFormSchema>

/** Admitting a service to a lot (admin). */
export const admitFormSchema = z.object({
  serviceRef: safeServiceRef(requiredText(100, 'Enter the service reference', 'The service reference')),
  lotId: awardInputSchema.shape.lotId,
  on: z.string({ error: 'Enter the date of admission' }).pipe(isoDate),
  reason: optionalText(500, 'The reason', { multiline: true }),
})
export type AdmitInput = z.infer<typeof admitFormSchema>

export const MEMBERSHIP_ACTIONS = ['suspend', 'remove', 'readmit'] as const
export type MembershipAction = (typeof MEMBERSHIP_ACTIONS)[number]

/** Suspending, removing or re-admitting a member (admin): always with a date and a reason. */
export const membershipChangeSchema = z.object({
  action: z.enum(MEMBERSHIP_ACTIONS, { error: 'Select what to do with this membership' }),
  on: z.string({ error: 'Enter the date of the change' }).pipe(isoDate),
  reason: requiredText(500, 'Enter the reason', 'The reason', { multiline: true }),
})
export type MembershipChange = z.infer<typeof membershipChangeSchema>

/** Closing a "review membership" task (compliance): the decision, in a note. */
export const closeTaskSchema = z.object({
  note: requiredText(2000, 'Enter a note saying what was decided', 'The note', { multiline: true }),
})

export interface FieldError {
  field: string
  message: string
}

/** What an admin write gives back: the result, or errors with the HTTP status they deserve (nothing written). */
export type WriteOutcome<T> = { ok: true; value: T } | { ok: false; status: 400 | 404 | 409; errors: FieldError[] }

function refuse<T>(status: 400 | 404 | 409, field: string, message: string): WriteOutcome<T> {
  return { ok: false, status, errors: [{ field, message }] }
}

/** An eligibility event as the morning list shows it. */
export interface EligibilityEventView extends EligibilityEvent {
  change: 'lost' | 'regained'
  /** One line: "Lost eligibility for Tier 1: North (Home Care DPS): Embargo on new placements since 2026-11-02". */
  summary: string
}

export interface ReferralView extends ReferralResult {
  dps: { id: number; name: string }
  penPicture: PenPicture
}

const DATA_MISSING: FailingGate = { gate: 'data', reason: 'No current risk judgement for this service' }

/** The live verdict for a service's facts, merged with a stored "not eligible" verdict not yet recomputed. */
function verdict(facts: EligibilityFacts | null, gates: Gates, member?: Member): EligibilityResult {
  const live = facts ? evaluateEligibility(facts, gates) : { eligible: false, failingGates: [DATA_MISSING] }
  const stored = member?.eligibility
  if (!stored || stored.eligible) return live
  const named = new Set(live.failingGates.map((gate) => gate.gate))
  const failingGates = [...live.failingGates, ...stored.failingGates.filter((gate) => !named.has(gate.gate))]
  return { eligible: false, failingGates }
}

export const DEMO_DPS_NAME = 'Home Care and Support DPS'

/** Tier 1 zones of the demo DPS, over the demo areas North, South, East, West and Central. */
const DEMO_ZONES: Array<{ zone: string; areas: string[] }> = [
  { zone: 'North', areas: ['North'] },
  { zone: 'South and Central', areas: ['South', 'Central'] },
  { zone: 'East and West', areas: ['East', 'West'] },
]
const DEMO_TIER1_PER_ZONE = 3

const DEMO_LOTS: NewLot[] = [
  ...DEMO_ZONES.map((zone): NewLot => ({
    name: `Tier 1: ${zone.zone}`,
    tier: 'tier1',
    ...zone,
    serviceType: 'home_care',
  })),
  { name: 'Tier 2: Borough-wide', tier: 'tier2', zone: null, areas: [], serviceType: 'home_care' },
  {
    name: 'Specialist: Learning disability',
    tier: 'specialist',
    serviceType: 'supported_living',
    specialism: 'learning_disability',
  },
  {
    name: 'Specialist: Mental health',
    tier: 'specialist',
    serviceType: 'supported_living',
    specialism: 'mental_health',
  },
]

export interface DemoService {
  id: number
  ref: string
  serviceType: ServiceType
  area: string
}

/** DPS use cases (SPEC §4): frameworks and members, the gate at every evaluation, referral and awards. */
export class DpsService {
  private readonly repository: DpsRepository
  private readonly currentFacts: CurrentFacts
  private readonly judgementFacts: JudgementFacts
  private readonly today: () => string

  constructor(dependencies: DpsServiceDependencies) {
    const repository = dependencies.repository
    const judgementFacts = dependencies.judgementFacts ?? factsOfJudgement
    this.repository = repository
    this.judgementFacts = judgementFacts
    this.currentFacts =
      dependencies.currentFacts ??
      (async (serviceId) => {
        const judgement = await repository.currentJudgement(serviceId)
        return judgement ? judgementFacts(judgement) : null
      })
    this.today = dependencies.today
  }

  /** Every DPS with lots and members (SPEC §9 `GET /dps`). */
  async listFrameworks(): Promise<FrameworkView[]> {
    const all = await this.repository.listDps()
    return Promise.all(all.map((dps) => this.frameworkView(dps)))
  }

  /** One DPS for its page: lots, members with eligibility and awards, the off-contract share. */
  async getFramework(dpsId: number): Promise<FrameworkPage | null> {
    const dps = await this.repository.getDps(dpsId)
    if (!dps) return null
    const since = this.twelveMonthsAgo()
    // Quarters as [from, to) dates: the last ends with today.
    const tomorrow = addDays(this.today(), 1)
    const quarters = [3, 2, 1, 0].map((back) => ({
      from: addMonths(tomorrow, -3 * (back + 1)),
      to: addMonths(tomorrow, -3 * back),
    }))
    const [view, offContractShare, awardsLast12Months, byQuarter] = await Promise.all([
      this.frameworkView(dps),
      this.repository.offContractShare({ from: since, to: '9999-12-31', dpsId }),
      this.repository.listAwards(dpsId, since),
      Promise.all(quarters.map((quarter) => this.repository.offContractShare({ ...quarter, dpsId }))),
    ])
    const offContractByQuarter = quarters.map((quarter, index) => ({
      ...quarter,
      share: byQuarter[index] as OffContractShare,
    }))
    return { ...view, offContractShare, offContractByQuarter, awardsLast12Months }
  }

  /** Eligible services for a pen picture in allocation order, then the ineligible with why; null: no such DPS. */
  async referral(dpsId: number, penPicture: PenPicture): Promise<ReferralView | null> {
    const dps = await this.repository.getDps(dpsId)
    if (!dps) return null
    const facts = await this.factsFor(dps.lots.flatMap((lot) => lot.members).filter((m) => m.status !== 'removed'))
    const candidates: ReferralCandidate[] = dps.lots.flatMap((lot) =>
      lot.members.map((member) => {
        const serviceFacts = facts.get(member.serviceId) ?? null
        const { eligible, failingGates } = verdict(serviceFacts, dps.gates, member)
        return {
          lotId: lot.id,
          serviceId: member.serviceId,
          serviceRef: member.serviceRef,
          serviceName: member.serviceName,
          providerName: member.providerName,
          status: member.status,
          statusChangedOn: member.statusChangedOn,
          statusReason: member.reason,
          eligible,
          failingGates,
          rag: member.rag ?? serviceFacts?.rag ?? null,
          score: member.score,
          reasons: member.reasons,
          cqcRating: serviceFacts?.cqcOverall ?? null,
          cqcRatedOn: serviceFacts?.cqcRatedOn ?? null,
        }
      }),
    )
    const result = referralOrder(dps.lots, candidates, penPicture, this.today())
    return { dps: { id: dps.id, name: dps.name }, penPicture, ...result }
  }

  /**
   * Records a package award if the gate holds. The gate is evaluated inside the repository's immediate transaction
   * that writes the award, on the service's published judgement read in that transaction, together with the
   * membership and its stored verdict: whatever was published or stored before the write refuses it.
   */
  async award(dpsId: number, input: AwardInput, createdBy: string | null): Promise<AwardOutcome> {
    const dps = await this.repository.findDps(dpsId)
    if (!dps) return { ok: false, refused: 'not_found', message: `No DPS ${dpsId}`, failingGates: [] }
    const lot = await this.repository.findLot(input.lotId)
    if (!lot || lot.dpsId !== dpsId) {
      const message = `No lot ${input.lotId} in ${dps.name}`
      return { ok: false, refused: 'not_found', message, failingGates: [], field: 'lotId' }
    }
    const serviceId = await this.repository.serviceIdByRef(input.serviceRef)
    if (serviceId === null) {
      return {
        ok: false,
        refused: 'not_found',
        message: `No service with reference ${input.serviceRef}`,
        failingGates: [],
        field: 'serviceRef',
      }
    }
    if (!isIsoDate(input.startDate)) throw new Error(`startDate must be an ISO date, got ${input.startDate}`)
    return this.repository.recordAwardIfEligible(
      {
        dpsId,
        lotId: input.lotId,
        serviceId,
        weeklyHours: input.weeklyHours,
        startDate: input.startDate,
        reference: input.reference,
        createdBy,
      },
      (facts) => this.decideAward(facts),
    )
  }

  /** The award decision on facts read inside the award's transaction, with the gates evaluated on its judgement. */
  private decideAward(facts: AwardTransactionFacts): AwardDecision {
    const liveVerdict = verdict(facts.current ? this.judgementFacts(facts.current) : null, facts.gates)
    return decideAward({ ...facts, liveVerdict })
  }

  /**
   * Re-evaluates the gate for every membership (or those of the given services) and stores the verdicts under the
   * run; returns the lost/regained events written. Services with no current facts keep their previous verdict.
   */
  async evaluateMemberships(runId: number, serviceIds?: number[]): Promise<EligibilityEvent[]> {
    const memberships = await this.repository.membershipsToEvaluate(serviceIds)
    const facts = await this.factsFor(memberships)
    const evaluations: EligibilityEvaluation[] = []
    for (const membership of memberships) {
      const serviceFacts = facts.get(membership.serviceId)
      if (!serviceFacts) continue
      evaluations.push({
        membershipId: membership.membershipId,
        ...evaluateEligibility(serviceFacts, membership.gates),
      })
    }
    return this.repository.applyEligibility(runId, evaluations)
  }

  /**
   * The demo "Home Care and Support DPS": Tier 1 home care lots for three zones (North; South and Central; East and
   * West), a Tier 2 borough-wide lot and specialist supported living lots (learning disability, mental health).
   * The first three home care services (by ref) of each zone lead it; the rest are Tier 2. Re-running adds nothing.
   */
  async seedDemoDps(services: DemoService[], on: string = this.today()): Promise<DpsWithLots> {
    const existing = await this.repository.findDpsByName(DEMO_DPS_NAME)
    const dps =
      (existing && (await this.repository.getDps(existing.id))) ??
      (await this.repository.createDps({
        name: DEMO_DPS_NAME,
        description:
          'Home care and supported living. Only open to providers holding a CQC rating of Good or above; ' +
          'providers downgraded below Good may not receive new packages of care.',
        gates: DEFAULT_GATES,
        lots: DEMO_LOTS,
      }))
    const lotId = (name: string): number => {
      const lot = dps.lots.find((candidate) => candidate.name === name)
      if (!lot) throw new Error(`Demo DPS has no lot "${name}"`)
      return lot.id
    }
    const sorted = [...services].sort((a, b) => a.ref.localeCompare(b.ref))
    const tier1Count = new Map<string, number>()
    const admissions: Array<{ lotId: number; serviceId: number }> = []
    for (const service of sorted.filter((s) => s.serviceType === 'home_care')) {
      const zone = DEMO_ZONES.find((z) => z.areas.some((area) => normaliseWord(area) === normaliseWord(service.area)))
      const led = zone ? (tier1Count.get(zone.zone) ?? 0) : DEMO_TIER1_PER_ZONE
      if (zone && led < DEMO_TIER1_PER_ZONE) {
        tier1Count.set(zone.zone, led + 1)
        admissions.push({ lotId: lotId(`Tier 1: ${zone.zone}`), serviceId: service.id })
      } else {
        admissions.push({ lotId: lotId('Tier 2: Borough-wide'), serviceId: service.id })
      }
    }
    sorted
      .filter((s) => s.serviceType === 'supported_living')
      .forEach((service, index) => {
        admissions.push({ lotId: lotId('Specialist: Learning disability'), serviceId: service.id })
        if (index % 2 === 0) admissions.push({ lotId: lotId('Specialist: Mental health'), serviceId: service.id })
      })
    for (const admission of admissions) {
      await this.repository.admitMember({ ...admission, on, reason: 'Demo admission' })
    }
    return (await this.repository.getDps(dps.id)) as DpsWithLots
  }

  /**
   * The demo DPS's past, once its services have judgements published (the demo's history runs): the verdicts as of
   * the last judged day, so the first refresh's lost/regained list shows only what changed since, as its RAG changes
   * list does; then a year of package awards. Returns the number of awards recorded (0 when run again).
   */
  async seedDemoHistory(dpsId: number): Promise<number> {
    const dps = await this.repository.getDps(dpsId)
    if (!dps) return 0
    const serviceIds = [...new Set(dps.lots.flatMap((lot) => lot.members.map((member) => member.serviceId)))]
    const judgements = await Promise.all(serviceIds.map((id) => this.repository.currentJudgement(id)))
    const runIds = judgements.flatMap((judgement) => (judgement ? [judgement.runId] : []))
    if (runIds.length > 0) await this.evaluateMemberships(Math.max(...runIds))
    return this.seedDemoAwards(dpsId)
  }

  /**
   * A year of demo package awards (four a month, to eligible members), each through the gate as any award is, so the DPS
   * page has awards per member and an off-contract share, falling quarter by quarter, to show. References are fixed,
   * so re-running adds nothing.
   */
  private async seedDemoAwards(dpsId: number): Promise<number> {
    const dps = await this.repository.getDps(dpsId)
    if (!dps) return 0
    const today = this.today()
    const eligible = dps.lots.flatMap((lot) =>
      lot.members
        .filter((member) => member.status === 'admitted' && member.eligibility?.eligible !== false)
        .map((member) => ({
          lotId: lot.id,
          serviceId: member.serviceId,
          off: member.contractStatus === 'off_contract',
        })),
    )
    const onContract = eligible.filter((candidate) => !candidate.off)
    const offContract = eligible.filter((candidate) => candidate.off)
    let recorded = 0
    if (onContract.length === 0) return recorded
    let next = 0
    for (let monthsAgo = 12; monthsAgo >= 1; monthsAgo--) {
      // The councils' story: the share going off-contract falls over the year (half, a quarter, then almost none).
      const offThisMonth =
        offContract.length === 0 ? 0 : monthsAgo >= 10 ? 2 : monthsAgo >= 7 || monthsAgo === 5 ? 1 : 0
      for (let n = 1; n <= 4; n++) {
        const pool = n <= offThisMonth ? offContract : onContract
        const { lotId, serviceId } = pool[(next * 7) % pool.length] as (typeof eligible)[number]
        const candidate = { lotId, serviceId }
        next++
        const recordedOn = addDays(addMonths(today, -monthsAgo), n * 6)
        const outcome = await this.repository.recordAwardIfEligible(
          {
            dpsId,
            ...candidate,
            weeklyHours: 5 + ((next * 3) % 16),
            startDate: addDays(recordedOn, 7),
            reference: `DEMO-PKG-${String(next).padStart(3, '0')}`,
            createdBy: null,
            createdAt: `${recordedOn}T10:00:00.000Z`,
          },
          (facts) => this.decideAward(facts),
        )
        if (outcome.ok) recorded++
      }
    }
    return recorded
  }

  /** Lost/regained events of runs after `runId` (0: all), oldest first, with service, DPS and lot names. */
  async eventsSince(runId: number): Promise<EligibilityEventView[]> {
    const events = await this.repository.eventsSince(runId)
    return events.map((event) => {
      const where = `${event.lotName} (${event.dpsName})`
      const why = event.failingGates.map((gate) => gate.reason).join('; ')
      const lost = event.lost
        ? ` (lost on ${event.lost.at.slice(0, 10)}: ${event.lost.failingGates.map((gate) => gate.reason).join('; ')})`
        : ''
      return {
        ...event,
        change: event.eligible ? 'regained' : 'lost',
        summary: event.eligible ? `Regained eligibility for ${where}${lost}` : `Lost eligibility for ${where}: ${why}`,
      }
    })
  }

  /** Open "review membership" tasks, oldest first. */
  async openTasks(): Promise<TaskView[]> {
    return this.repository.openTaskViews()
  }

  async findTask(taskId: number): Promise<TaskView | null> {
    return this.repository.findTask(taskId)
  }

  /** Closes an open task with the decision as its note (audited). */
  async closeTask(taskId: number, note: string, actor: string): Promise<WriteOutcome<TaskView>> {
    const task = await this.repository.findTask(taskId)
    if (!task) return refuse(404, 'taskId', `No task ${taskId}`)
    if (task.closedAt !== null) return refuse(409, 'taskId', `This task was closed on ${task.closedAt.slice(0, 10)}`)
    if (!(await this.repository.closeTask(taskId, actor, note))) {
      return refuse(409, 'taskId', 'This task has just been closed by someone else')
    }
    return { ok: true, value: (await this.repository.findTask(taskId)) as TaskView }
  }

  /** Creates a DPS with no lots yet (audited). */
  async createFramework(input: FrameworkInput, actor: string): Promise<WriteOutcome<DpsWithLots>> {
    if (await this.repository.findDpsByName(input.name)) {
      return refuse(409, 'name', `There is already a DPS called ${input.name}`)
    }
    const created = await this.repository.createDps(
      { name: input.name, description: input.description, gates: input.gates },
      actor,
    )
    return { ok: true, value: created }
  }

  /**
   * Replaces a DPS's gates (audited). Returns the services whose memberships the caller must re-evaluate now
   * (every member not removed), so the stored verdicts follow the new gates before the answer.
   */
  async updateGates(dpsId: number, gates: Gates, actor: string): Promise<WriteOutcome<{ serviceIds: number[] }>> {
    const dps = await this.repository.getDps(dpsId)
    if (!dps) return refuse(404, 'dpsId', `No DPS ${dpsId}`)
    await this.repository.updateGates(dpsId, gates, actor)
    const serviceIds = dps.lots.flatMap((lot) =>
      lot.members.filter((m) => m.status !== 'removed').map((m) => m.serviceId),
    )
    return { ok: true, value: { serviceIds: [...new Set(serviceIds)] } }
  }

  /** Adds a lot to a DPS (audited); lot names are unique within a DPS. */
  async addLot(dpsId: number, lot: LotInput, actor: string): Promise<WriteOutcome<Lot>> {
    const dps = await this.repository.getDps(dpsId)
    if (!dps) return refuse(404, 'dpsId', `No DPS ${dpsId}`)
    if (dps.lots.some((existing) => normaliseWord(existing.name) === normaliseWord(lot.name))) {
      return refuse(409, 'name', `${dps.name} already has a lot called ${lot.name}`)
    }
    const newLot: NewLot = { ...lot, zone: lot.zone, specialism: lot.specialism }
    return { ok: true, value: await this.repository.addLot(dpsId, newLot, actor) }
  }

  /**
   * Changes a lot (audited). Its name stays unique within the DPS; its type of service can change only while it has no
   * member of another type (removed members aside). Referrals follow the new tier, zone and areas at once.
   */
  async changeLot(dpsId: number, lotId: number, lot: LotInput, actor: string): Promise<WriteOutcome<Lot>> {
    const dps = await this.repository.getDps(dpsId)
    const current = dps?.lots.find((candidate) => candidate.id === lotId)
    if (!dps || !current) return refuse(404, 'lotId', `No lot ${lotId} in this DPS`)
    const taken = dps.lots.some((other) => other.id !== lotId && normaliseWord(other.name) === normaliseWord(lot.name))
    if (taken) return refuse(409, 'name', `${dps.name} already has a lot called ${lot.name}`)
    const otherType = current.members.filter((m) => m.status !== 'removed' && m.serviceType !== lot.serviceType)
    if (otherType.length > 0) {
      const label = SERVICE_TYPE_LABELS[current.serviceType].toLowerCase()
      const members =
        otherType.length === 1 ? `1 member is a ${label} service` : `${otherType.length} members are ${label} services`
      return refuse(400, 'serviceType', `${members}: remove them before changing the type of service`)
    }
    const updated = await this.repository.updateLot(lotId, lot, actor)
    return updated ? { ok: true, value: updated } : refuse(404, 'lotId', `No lot ${lotId} in this DPS`)
  }

  /**
   * Admits a service to a lot of the DPS, or re-admits a suspended or removed member (audited). The service must
   * exist and be of the lot's service type. The caller re-evaluates the service's eligibility afterwards.
   */
  async admitMember(
    dpsId: number,
    input: AdmitInput,
    actor: string,
  ): Promise<WriteOutcome<Membership & { serviceId: number }>> {
    const dps = await this.repository.findDps(dpsId)
    if (!dps) return refuse(404, 'dpsId', `No DPS ${dpsId}`)
    const lot = await this.repository.findLot(input.lotId)
    if (!lot || lot.dpsId !== dpsId) return refuse(400, 'lotId', `Select a lot of ${dps.name}`)
    const serviceId = await this.repository.serviceIdByRef(input.serviceRef)
    if (serviceId === null) return refuse(400, 'serviceRef', `There is no service with reference ${input.serviceRef}`)
    const serviceType = await this.repository.serviceTypeOf(serviceId)
    if (serviceType !== lot.serviceType) {
      const label = (type: ServiceType | null) => (type ? SERVICE_TYPE_LABELS[type].toLowerCase() : 'unknown')
      return refuse(
        400,
        'serviceRef',
        `${input.serviceRef} is a ${label(serviceType)} service; ${lot.name} is for ${label(lot.serviceType)}`,
      )
    }
    const membership = await this.repository.admitMember(
      { lotId: lot.id, serviceId, on: input.on, reason: input.reason },
      actor,
    )
    return { ok: true, value: membership }
  }

  /** Suspends, removes or re-admits a member of the DPS, with a date and reason (audited). */
  async changeMembership(
    dpsId: number,
    membershipId: number,
    change: MembershipChange,
    actor: string,
  ): Promise<WriteOutcome<Membership>> {
    const membership = await this.repository.findMembershipById(membershipId)
    const lot = membership ? await this.repository.findLot(membership.lotId) : null
    if (!membership || !lot || lot.dpsId !== dpsId) return refuse(404, 'membershipId', `No membership ${membershipId}`)
    const target: MembershipStatus =
      change.action === 'suspend' ? 'suspended' : change.action === 'remove' ? 'removed' : 'admitted'
    if (membership.status === target) return refuse(409, 'action', `This membership is already ${target}`)
    const updated =
      change.action === 'readmit'
        ? await this.repository.admitMember(
            { lotId: membership.lotId, serviceId: membership.serviceId, on: change.on, reason: change.reason },
            actor,
          )
        : change.action === 'suspend'
          ? await this.repository.suspendMember(membershipId, { on: change.on, reason: change.reason }, actor)
          : await this.repository.removeMember(membershipId, { on: change.on, reason: change.reason }, actor)
    if (!updated) return refuse(404, 'membershipId', `No membership ${membershipId}`)
    return { ok: true, value: updated }
  }

  private twelveMonthsAgo(): string {
    return addMonths(this.today(), -12)
  }

  private async factsFor(members: Array<{ serviceId: number }>): Promise<Map<number, EligibilityFacts | null>> {
    const ids = [...new Set(members.map((member) => member.serviceId))]
    const facts = await Promise.all(ids.map(async (id) => [id, await this.currentFacts(id)] as const))
    return new Map(facts)
  }

  private async frameworkView(dps: DpsWithLots): Promise<FrameworkView> {
    const awards = await this.repository.awardsPerMember(dps.id, this.twelveMonthsAgo())
    const awardsOf = (lotId: number, serviceId: number) =>
      awards.find((row) => row.lotId === lotId && row.serviceId === serviceId)
    const unevaluated = dps.lots.flatMap((lot) => lot.members).filter((m) => m.eligibility === null)
    const facts = await this.factsFor(unevaluated)
    return {
      id: dps.id,
      name: dps.name,
      description: dps.description,
      gates: dps.gates,
      lots: dps.lots.map((lot) => ({
        id: lot.id,
        name: lot.name,
        tier: lot.tier,
        zone: lot.zone,
        areas: lot.areas,
        serviceType: lot.serviceType,
        specialism: lot.specialism,
        members: lot.members.map((member): MemberView => {
          const gate = member.eligibility ?? verdict(facts.get(member.serviceId) ?? null, dps.gates)
          const membership = membershipFailure({
            status: member.status,
            statusChangedOn: member.statusChangedOn,
            statusReason: member.reason,
          })
          const memberAwards = awardsOf(lot.id, member.serviceId)
          return {
            ref: member.serviceRef,
            name: member.serviceName,
            providerName: member.providerName,
            status: member.status,
            admittedOn: member.admittedOn,
            statusChangedOn: member.statusChangedOn,
            statusReason: member.reason,
            eligible: gate.eligible && membership === null,
            failingGates: membership ? [membership, ...gate.failingGates] : gate.failingGates,
            rag: member.rag,
            overridden: member.overridden,
            awardsLast12Months: memberAwards?.awards ?? 0,
            weeklyHoursLast12Months: memberAwards?.weeklyHours ?? 0,
          }
        }),
      })),
    }
  }
}
