import { appendAuditEntry } from './audit.js'
import type { Db } from './database.js'
import type { AwardDecision, AwardFacts } from '../domain/award.js'
import { gatesSchema, type EligibilityResult, type FailingGate, type Gates, type GatesInput } from '../domain/eligibility.js'
import type { LotTier, MembershipStatus, ReferralLot } from '../domain/referral.js'
import type { RiskResult } from '../domain/riskResult.js'
import type { ContractStatus, Rag, ServiceType } from '../domain/vocabulary.js'

export interface Dps {
  id: number
  name: string
  description: string | null
  gates: Gates
}

export interface Lot extends ReferralLot {
  dpsId: number
}

export interface NewLot {
  name: string
  tier: LotTier
  zone?: string | null
  areas?: string[]
  serviceType: ServiceType
  specialism?: string | null
}

export interface NewDps {
  name: string
  description?: string | null
  /** Parsed with gatesSchema: missing gates take the SPEC defaults. */
  gates: GatesInput
  lots?: NewLot[]
}

export interface Membership {
  id: number
  lotId: number
  serviceId: number
  status: MembershipStatus
  admittedOn: string
  statusChangedOn: string
  reason: string | null
}

export interface StoredEligibility {
  eligible: boolean
  failingGates: FailingGate[]
  evaluatedAt: string
  runId: number | null
}

/** A member as the DPS page and API show it: the service, its current judgement and its stored gate verdict. */
export interface Member extends Membership {
  serviceRef: string
  serviceName: string
  providerName: string
  serviceType: ServiceType
  area: string
  contractStatus: ContractStatus
  /** null until the membership has been evaluated once. */
  eligibility: StoredEligibility | null
  rag: Rag | null
  /** The RAG is a manual override's, not the rules'. */
  overridden: boolean
  score: number | null
  reasons: string[]
}

export interface LotWithMembers extends Lot {
  members: Member[]
}

export interface DpsWithLots extends Dps {
  lots: LotWithMembers[]
}

/** A service's membership with where it sits, for the service page. */
export interface ServiceMembership extends Membership {
  dpsId: number
  dpsName: string
  lotName: string
  tier: LotTier
  zone: string | null
  eligibility: StoredEligibility | null
}

export interface MembershipToEvaluate {
  membershipId: number
  serviceId: number
  lotId: number
  dpsId: number
  gates: Gates
}

export interface EligibilityEvaluation extends EligibilityResult {
  membershipId: number
}

export interface EligibilityEvent {
  id: number
  membershipId: number
  runId: number | null
  at: string
  /** true: regained; false: lost. */
  eligible: boolean
  failingGates: FailingGate[]
  serviceId: number
  serviceRef: string
  serviceName: string
  dpsId: number
  dpsName: string
  lotId: number
  lotName: string
  /** For a regained event: when the membership had lost eligibility, and the gates it lost it on; else null. */
  lost: { at: string; failingGates: FailingGate[] } | null
  /**
   * Why, in lines a person can read: the failing gates of a loss; for a regain, what it was lost on ("No longer:
   * Embargo on new placements since 2026-11-02").
   */
  reasons: string[]
}

export interface Task {
  id: number
  kind: 'review_membership'
  serviceId: number
  membershipId: number | null
  openedAt: string
  closedAt: string | null
  closedBy: string | null
  note: string | null
}

/** An open task with what it is about, for the DPS page. */
export interface TaskView extends Task {
  serviceRef: string
  serviceName: string
  dpsId: number | null
  dpsName: string | null
  lotId: number | null
  lotName: string | null
  /** The membership as it is now (it may have been suspended, or regained eligibility, since the task opened). */
  membershipStatus: MembershipStatus | null
  eligibleNow: boolean | null
  failingNow: FailingGate[]
}

export interface NewAward {
  dpsId: number
  lotId: number
  serviceId: number
  weeklyHours: number
  startDate: string
  reference: string
  createdBy: string | null
  /**
   * When the award was recorded; default now. Only the demo seed sets it (to give the DPS page a year of awards): the
   * API and the form never do.
   */
  createdAt?: string
}

export interface Award extends NewAward {
  id: number
  serviceRef: string
  /** The service's contract status when the award was made. */
  contractStatus: ContractStatus
  createdAt: string
}

/** A service's published judgement (its current snapshot), as the award transaction reads it. */
export interface CurrentJudgement {
  serviceId: number
  snapshotId: number
  runId: number
  result: RiskResult
}

/** What the award transaction reads for its decision; the caller adds the live gate verdict and decides. */
export interface AwardTransactionFacts extends Omit<AwardFacts, 'liveVerdict'> {
  current: CurrentJudgement | null
  gates: Gates
}

export type AwardRefusal = 'ineligible' | 'duplicate_reference' | 'not_found'
/** A refusal's `message` is one readable line; `failingGates` lists the gates for an 'ineligible' refusal. */
/** `field` names the input a 'not_found' or 'duplicate_reference' refusal is about. */
export type AwardOutcome =
  | { ok: true; award: Award }
  | {
      ok: false
      refused: AwardRefusal
      message: string
      failingGates: FailingGate[]
      field?: 'serviceRef' | 'lotId' | 'reference'
    }

export interface MemberAwards {
  lotId: number
  serviceId: number
  awards: number
  weeklyHours: number
}

export interface OffContractShare {
  awards: number
  offContract: number
  /** offContract / awards, or null when there were no awards. */
  share: number | null
}

interface DpsRow {
  id: number
  name: string
  description: string | null
  gates: string
}
interface LotRow {
  id: number
  dps_id: number
  name: string
  tier: LotTier
  zone: string | null
  areas: string
  service_type: ServiceType
  specialism: string | null
}
interface MembershipRow {
  id: number
  lot_id: number
  service_id: number
  status: MembershipStatus
  admitted_on: string
  status_changed_on: string
  reason: string | null
}
interface EligibilityColumns {
  eligible: number | null
  failing_gates: string | null
  evaluated_at: string | null
  run_id: number | null
}
interface MemberRow extends MembershipRow, EligibilityColumns {
  service_ref: string
  service_name: string
  provider_name: string
  service_type: ServiceType
  area: string
  contract_status: ContractStatus
  rag: Rag | null
  score: number | null
  result: string | null
}
interface ServiceMembershipRow extends MembershipRow, EligibilityColumns {
  dps_id: number
  dps_name: string
  lot_name: string
  tier: LotTier
  zone: string | null
}
interface EventRow {
  id: number
  membership_id: number
  run_id: number | null
  at: string
  eligible: number
  failing_gates: string
  service_id: number
  service_ref: string
  service_name: string
  dps_id: number
  dps_name: string
  lot_id: number
  lot_name: string
  lost_at: string | null
  lost_gates: string | null
}
interface TaskRow {
  id: number
  kind: 'review_membership'
  service_id: number
  membership_id: number | null
  opened_at: string
  closed_at: string | null
  closed_by: string | null
  note: string | null
}
interface TaskViewRow extends TaskRow {
  service_ref: string
  service_name: string
  dps_id: number | null
  dps_name: string | null
  lot_id: number | null
  lot_name: string | null
  membership_status: MembershipStatus | null
  eligible_now: number | null
  failing_now: string | null
}
interface AwardRow {
  id: number
  dps_id: number
  lot_id: number
  service_id: number
  service_ref: string
  weekly_hours: number
  start_date: string
  reference: string
  contract_status: ContractStatus
  created_by: string | null
  created_at: string
}

function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback
  try {
    return JSON.parse(text) as T
  } catch {
    return fallback
  }
}

function toDps(row: DpsRow): Dps {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    gates: gatesSchema.parse(parseJson(row.gates, {})),
  }
}

function toLot(row: LotRow): Lot {
  return {
    id: row.id,
    dpsId: row.dps_id,
    name: row.name,
    tier: row.tier,
    zone: row.zone,
    areas: parseJson<string[]>(row.areas, []),
    serviceType: row.service_type,
    specialism: row.specialism,
  }
}

function toMembership(row: MembershipRow): Membership {
  return {
    id: row.id,
    lotId: row.lot_id,
    serviceId: row.service_id,
    status: row.status,
    admittedOn: row.admitted_on,
    statusChangedOn: row.status_changed_on,
    reason: row.reason,
  }
}

function toStoredEligibility(row: EligibilityColumns): StoredEligibility | null {
  if (row.eligible === null || row.evaluated_at === null) return null
  return {
    eligible: row.eligible === 1,
    failingGates: parseJson<FailingGate[]>(row.failing_gates, []),
    evaluatedAt: row.evaluated_at,
    runId: row.run_id,
  }
}

function toMember(row: MemberRow): Member {
  const result = parseJson<{ reasons?: unknown; override?: unknown }>(row.result, {})
  return {
    ...toMembership(row),
    serviceRef: row.service_ref,
    serviceName: row.service_name,
    providerName: row.provider_name,
    serviceType: row.service_type,
    area: row.area,
    contractStatus: row.contract_status,
    eligibility: toStoredEligibility(row),
    rag: row.rag,
    overridden: Boolean(result.override),
    score: row.score,
    reasons: Array.isArray(result.reasons) ? result.reasons.filter((r): r is string => typeof r === 'string') : [],
  }
}

function toEvent(row: EventRow): EligibilityEvent {
  const failingGates = parseJson<FailingGate[]>(row.failing_gates, [])
  const lost =
    row.eligible === 1 && row.lost_at !== null
      ? { at: row.lost_at, failingGates: parseJson<FailingGate[]>(row.lost_gates, []) }
      : null
  const reasons =
    row.eligible === 1
      ? (lost?.failingGates ?? []).map((gate) => `No longer: ${gate.reason}`)
      : failingGates.map((gate) => gate.reason)
  return {
    id: row.id,
    membershipId: row.membership_id,
    runId: row.run_id,
    at: row.at,
    eligible: row.eligible === 1,
    failingGates,
    serviceId: row.service_id,
    serviceRef: row.service_ref,
    serviceName: row.service_name,
    dpsId: row.dps_id,
    dpsName: row.dps_name,
    lotId: row.lot_id,
    lotName: row.lot_name,
    lost,
    reasons,
  }
}

function toTask(row: TaskRow): Task {
  return {
    id: row.id,
    kind: row.kind,
    serviceId: row.service_id,
    membershipId: row.membership_id,
    openedAt: row.opened_at,
    closedAt: row.closed_at,
    closedBy: row.closed_by,
    note: row.note,
  }
}

function toTaskView(row: TaskViewRow): TaskView {
  return {
    ...toTask(row),
    serviceRef: row.service_ref,
    serviceName: row.service_name,
    dpsId: row.dps_id,
    dpsName: row.dps_name,
    lotId: row.lot_id,
    lotName: row.lot_name,
    membershipStatus: row.membership_status,
    eligibleNow: row.eligible_now === null ? null : row.eligible_now === 1,
    failingNow: parseJson<FailingGate[]>(row.failing_now, []),
  }
}

function toAward(row: AwardRow): Award {
  return {
    id: row.id,
    dpsId: row.dps_id,
    lotId: row.lot_id,
    serviceId: row.service_id,
    serviceRef: row.service_ref,
    weeklyHours: row.weekly_hours,
    startDate: row.start_date,
    reference: row.reference,
    contractStatus: row.contract_status,
    createdBy: row.created_by,
    createdAt: row.created_at,
  }
}

const MEMBER_SELECT = `
  SELECT m.id, m.lot_id, m.service_id, m.status, m.admitted_on, m.status_changed_on, m.reason,
         e.eligible, e.failing_gates, e.evaluated_at, e.run_id,
         s.ref AS service_ref, s.name AS service_name, p.name AS provider_name, s.service_type, s.area,
         s.contract_status, cs.rag, cs.score, sn.result
  FROM dps_memberships m
  JOIN dps_lots l ON l.id = m.lot_id
  JOIN services s ON s.id = m.service_id
  JOIN providers p ON p.id = s.provider_id
  LEFT JOIN membership_eligibility e ON e.membership_id = m.id
  LEFT JOIN current_snapshots cs ON cs.service_id = s.id
  LEFT JOIN snapshots sn ON sn.id = cs.snapshot_id`

// prev: the membership's event before this one (for a regained event, the loss it ends).
const EVENT_SELECT = `
  SELECT ev.id, ev.membership_id, ev.run_id, ev.at, ev.eligible, ev.failing_gates,
         s.id AS service_id, s.ref AS service_ref, s.name AS service_name,
         d.id AS dps_id, d.name AS dps_name, l.id AS lot_id, l.name AS lot_name,
         prev.at AS lost_at, prev.failing_gates AS lost_gates
  FROM eligibility_events ev
  JOIN dps_memberships m ON m.id = ev.membership_id
  JOIN dps_lots l ON l.id = m.lot_id
  JOIN dps d ON d.id = l.dps_id
  JOIN services s ON s.id = m.service_id
  LEFT JOIN eligibility_events prev ON prev.eligible = 0 AND prev.id = (
    SELECT MAX(p.id) FROM eligibility_events p WHERE p.membership_id = ev.membership_id AND p.id < ev.id)`

const TASK_VIEW_SELECT = `
  SELECT t.*, s.ref AS service_ref, s.name AS service_name, d.id AS dps_id, d.name AS dps_name,
         l.id AS lot_id, l.name AS lot_name, m.status AS membership_status, e.eligible AS eligible_now,
         e.failing_gates AS failing_now
  FROM tasks t
  JOIN services s ON s.id = t.service_id
  LEFT JOIN dps_memberships m ON m.id = t.membership_id
  LEFT JOIN membership_eligibility e ON e.membership_id = m.id
  LEFT JOIN dps_lots l ON l.id = m.lot_id
  LEFT JOIN dps d ON d.id = l.dps_id`

const AWARD_SELECT = `
  SELECT a.id, a.dps_id, a.lot_id, a.service_id, s.ref AS service_ref, a.weekly_hours, a.start_date, a.reference,
         a.contract_status, a.created_by, a.created_at
  FROM awards a JOIN services s ON s.id = a.service_id`

/** DPS frameworks, lots, memberships, eligibility verdicts and events, review tasks and awards (SPEC §4). */
export class DpsRepository {
  private readonly statements

  constructor(private readonly db: Db) {
    this.statements = {
      insertDps: db.prepare<{ name: string; description: string | null; gates: string; now: string }>(
        `INSERT INTO dps (name, description, gates, created_at, updated_at) VALUES (@name, @description, @gates, @now, @now)`,
      ),
      updateGates: db.prepare<{ id: number; gates: string; now: string }>(
        'UPDATE dps SET gates = @gates, updated_at = @now WHERE id = @id',
      ),
      dpsById: db.prepare<[number], DpsRow>('SELECT id, name, description, gates FROM dps WHERE id = ?'),
      dpsByName: db.prepare<[string], DpsRow>('SELECT id, name, description, gates FROM dps WHERE name = ?'),
      allDps: db.prepare<[], DpsRow>('SELECT id, name, description, gates FROM dps ORDER BY name, id'),
      insertLot: db.prepare<{
        dpsId: number
        name: string
        tier: LotTier
        zone: string | null
        areas: string
        serviceType: ServiceType
        specialism: string | null
        now: string
      }>(
        `INSERT INTO dps_lots (dps_id, name, tier, zone, areas, service_type, specialism, created_at)
         VALUES (@dpsId, @name, @tier, @zone, @areas, @serviceType, @specialism, @now)`,
      ),
      updateLot: db.prepare<{
        id: number
        name: string
        tier: LotTier
        zone: string | null
        areas: string
        serviceType: ServiceType
        specialism: string | null
      }>(
        `UPDATE dps_lots SET name = @name, tier = @tier, zone = @zone, areas = @areas, service_type = @serviceType,
           specialism = @specialism
         WHERE id = @id`,
      ),
      lotById: db.prepare<[number], LotRow>('SELECT * FROM dps_lots WHERE id = ?'),
      lotsOfDps: db.prepare<[number], LotRow>(
        `SELECT * FROM dps_lots WHERE dps_id = ?
         ORDER BY CASE tier WHEN 'tier1' THEN 0 WHEN 'tier2' THEN 1 WHEN 'specialist' THEN 2 ELSE 3 END, name, id`,
      ),
      membersOfDps: db.prepare<[number], MemberRow>(`${MEMBER_SELECT} WHERE l.dps_id = ? ORDER BY s.name, s.ref`),
      admit: db.prepare<{ lotId: number; serviceId: number; on: string; reason: string | null }>(
        `INSERT INTO dps_memberships (lot_id, service_id, status, admitted_on, status_changed_on, reason)
         VALUES (@lotId, @serviceId, 'admitted', @on, @on, @reason)
         ON CONFLICT (lot_id, service_id) DO UPDATE SET status = 'admitted', admitted_on = excluded.admitted_on,
           status_changed_on = excluded.status_changed_on, reason = excluded.reason
         WHERE dps_memberships.status <> 'admitted'`,
      ),
      setStatus: db.prepare<{ id: number; status: MembershipStatus; on: string; reason: string | null }>(
        'UPDATE dps_memberships SET status = @status, status_changed_on = @on, reason = @reason WHERE id = @id',
      ),
      membershipById: db.prepare<[number], MembershipRow>('SELECT * FROM dps_memberships WHERE id = ?'),
      membershipByLotService: db.prepare<[number, number], MembershipRow>(
        'SELECT * FROM dps_memberships WHERE lot_id = ? AND service_id = ?',
      ),
      membershipsOfService: db.prepare<[number], ServiceMembershipRow>(
        `SELECT m.*, e.eligible, e.failing_gates, e.evaluated_at, e.run_id,
                d.id AS dps_id, d.name AS dps_name, l.name AS lot_name, l.tier, l.zone
         FROM dps_memberships m
         JOIN dps_lots l ON l.id = m.lot_id
         JOIN dps d ON d.id = l.dps_id
         LEFT JOIN membership_eligibility e ON e.membership_id = m.id
         WHERE m.service_id = ?
         ORDER BY d.name, l.name`,
      ),
      toEvaluate: db.prepare<[], { membership_id: number; service_id: number; lot_id: number; dps_id: number; gates: string }>(
        `SELECT m.id AS membership_id, m.service_id, m.lot_id, d.id AS dps_id, d.gates
         FROM dps_memberships m JOIN dps_lots l ON l.id = m.lot_id JOIN dps d ON d.id = l.dps_id
         WHERE m.status <> 'removed'
         ORDER BY m.service_id, m.id`,
      ),
      unevaluated: db
        .prepare<[], number>(
          `SELECT DISTINCT m.service_id FROM dps_memberships m
           LEFT JOIN membership_eligibility e ON e.membership_id = m.id
           WHERE m.status <> 'removed' AND e.membership_id IS NULL ORDER BY m.service_id`,
        )
        .pluck(),
      eligibilityOf: db.prepare<[number], { eligible: number; failing_gates: string }>(
        'SELECT eligible, failing_gates FROM membership_eligibility WHERE membership_id = ?',
      ),
      upsertEligibility: db.prepare<{
        membershipId: number
        eligible: number
        failingGates: string
        at: string
        runId: number
      }>(
        `INSERT INTO membership_eligibility (membership_id, eligible, failing_gates, evaluated_at, run_id)
         VALUES (@membershipId, @eligible, @failingGates, @at, @runId)
         ON CONFLICT (membership_id) DO UPDATE SET eligible = excluded.eligible,
           failing_gates = excluded.failing_gates, evaluated_at = excluded.evaluated_at, run_id = excluded.run_id`,
      ),
      insertEvent: db.prepare<{
        membershipId: number
        runId: number
        at: string
        eligible: number
        failingGates: string
      }>(
        `INSERT INTO eligibility_events (membership_id, run_id, at, eligible, failing_gates)
         VALUES (@membershipId, @runId, @at, @eligible, @failingGates)`,
      ),
      eventById: db.prepare<[number], EventRow>(`${EVENT_SELECT} WHERE ev.id = ?`),
      eventsSince: db.prepare<[number], EventRow>(`${EVENT_SELECT} WHERE ev.run_id > ? ORDER BY ev.id`),
      eventsOfService: db.prepare<[number], EventRow>(`${EVENT_SELECT} WHERE m.service_id = ? ORDER BY ev.id DESC`),
      openReviewTask: db.prepare<[number], { id: number }>(
        `SELECT id FROM tasks WHERE kind = 'review_membership' AND membership_id = ? AND closed_at IS NULL`,
      ),
      insertTask: db.prepare<{ serviceId: number; membershipId: number; at: string; note: string }>(
        `INSERT INTO tasks (kind, service_id, membership_id, opened_at, note)
         VALUES ('review_membership', @serviceId, @membershipId, @at, @note)`,
      ),
      openTasks: db.prepare<[], TaskRow>('SELECT * FROM tasks WHERE closed_at IS NULL ORDER BY opened_at, id'),
      openTaskViews: db.prepare<[], TaskViewRow>(
        `${TASK_VIEW_SELECT} WHERE t.closed_at IS NULL ORDER BY t.opened_at, t.id`,
      ),
      taskViewById: db.prepare<[number], TaskViewRow>(`${TASK_VIEW_SELECT} WHERE t.id = ?`),
      closeTask: db.prepare<{ id: number; at: string; closedBy: string; note: string | null }>(
        `UPDATE tasks SET closed_at = @at, closed_by = @closedBy, note = COALESCE(@note, note)
         WHERE id = @id AND closed_at IS NULL`,
      ),
      serviceByRef: db.prepare<[string], { id: number }>('SELECT id FROM services WHERE ref = ?'),
      serviceType: db.prepare<[number], { service_type: ServiceType }>('SELECT service_type FROM services WHERE id = ?'),
      currentJudgement: db.prepare<[number], { service_id: number; snapshot_id: number; run_id: number; result: string }>(
        `SELECT c.service_id, c.snapshot_id, c.run_id, sn.result
         FROM current_snapshots c JOIN snapshots sn ON sn.id = c.snapshot_id WHERE c.service_id = ?`,
      ),
      serviceContract: db.prepare<[number], { contract_status: ContractStatus }>(
        'SELECT contract_status FROM services WHERE id = ?',
      ),
      awardByReference: db.prepare<[number, string], { id: number }>(
        'SELECT id FROM awards WHERE dps_id = ? AND reference = ?',
      ),
      insertAward: db.prepare<NewAward & { contractStatus: ContractStatus; now: string }>(
        `INSERT INTO awards (dps_id, lot_id, service_id, weekly_hours, start_date, reference, contract_status,
           created_by, created_at)
         VALUES (@dpsId, @lotId, @serviceId, @weeklyHours, @startDate, @reference, @contractStatus, @createdBy, @now)`,
      ),
      awardById: db.prepare<[number], AwardRow>(`${AWARD_SELECT} WHERE a.id = ?`),
      awardsOfDps: db.prepare<[number, string], AwardRow>(
        `${AWARD_SELECT} WHERE a.dps_id = ? AND a.created_at >= ? ORDER BY a.created_at DESC, a.id DESC`,
      ),
      awardsPerMember: db.prepare<
        [number, string],
        { lot_id: number; service_id: number; awards: number; weekly_hours: number }
      >(
        `SELECT lot_id, service_id, COUNT(*) AS awards, SUM(weekly_hours) AS weekly_hours
         FROM awards WHERE dps_id = ? AND created_at >= ?
         GROUP BY lot_id, service_id ORDER BY lot_id, service_id`,
      ),
      offContractShare: db.prepare<{ from: string; to: string; dpsId: number | null }, { total: number; off: number | null }>(
        `SELECT COUNT(*) AS total, SUM(CASE WHEN contract_status = 'off_contract' THEN 1 ELSE 0 END) AS off
         FROM awards WHERE created_at >= @from AND created_at < @to AND (@dpsId IS NULL OR dps_id = @dpsId)`,
      ),
    }
  }

  /** Creates a DPS with its lots; with an actor, audited as `dps.created` in the same transaction. */
  async createDps(input: NewDps, actor?: string): Promise<DpsWithLots> {
    const now = new Date().toISOString()
    const gates = gatesSchema.parse(input.gates)
    const id = this.db.transaction(() => {
      const result = this.statements.insertDps.run({
        name: input.name,
        description: input.description ?? null,
        gates: JSON.stringify(gates),
        now,
      })
      const dpsId = Number(result.lastInsertRowid)
      for (const lot of input.lots ?? []) this.insertLot(dpsId, lot, now)
      this.audit(actor, 'dps.created', 'dps', dpsId, null, { ...input, gates }, now)
      return dpsId
    }).immediate()
    return (await this.getDps(id)) as DpsWithLots
  }

  /** Replaces a DPS's gates; with an actor, audited as `dps.gates_changed` (before and after). */
  async updateGates(dpsId: number, gates: Gates, actor?: string): Promise<boolean> {
    const parsed = gatesSchema.parse(gates)
    const now = new Date().toISOString()
    return this.db.transaction(() => {
      const before = this.statements.dpsById.get(dpsId)
      if (!before) return false
      this.statements.updateGates.run({ id: dpsId, gates: JSON.stringify(parsed), now })
      this.audit(actor, 'dps.gates_changed', 'dps', dpsId, toDps(before).gates, parsed, now)
      return true
    }).immediate()
  }

  /** Adds a lot to a DPS; with an actor, audited as `dps.lot_added`. */
  async addLot(dpsId: number, lot: NewLot, actor?: string): Promise<Lot> {
    const now = new Date().toISOString()
    const id = this.db.transaction(() => {
      const lotId = this.insertLot(dpsId, lot, now)
      this.audit(actor, 'dps.lot_added', 'dps_lot', lotId, null, { dpsId, ...lot }, now)
      return lotId
    }).immediate()
    return toLot(this.statements.lotById.get(id) as LotRow)
  }

  /** Changes a lot's name, tier, zone, areas, service type or specialism; with an actor, audited as `dps.lot_changed`. */
  async updateLot(lotId: number, lot: NewLot, actor?: string): Promise<Lot | null> {
    return this.db.transaction(() => {
      const before = this.statements.lotById.get(lotId)
      if (!before) return null
      this.statements.updateLot.run({
        id: lotId,
        name: lot.name,
        tier: lot.tier,
        zone: lot.zone ?? null,
        areas: JSON.stringify(lot.areas ?? []),
        serviceType: lot.serviceType,
        specialism: lot.specialism ?? null,
      })
      const after = toLot(this.statements.lotById.get(lotId) as LotRow)
      this.audit(actor, 'dps.lot_changed', 'dps_lot', lotId, toLot(before), after)
      return after
    }).immediate()
  }

  async findLot(lotId: number): Promise<Lot | null> {
    const row = this.statements.lotById.get(lotId)
    return row ? toLot(row) : null
  }

  async findDps(id: number): Promise<Dps | null> {
    const row = this.statements.dpsById.get(id)
    return row ? toDps(row) : null
  }

  async findDpsByName(name: string): Promise<Dps | null> {
    const row = this.statements.dpsByName.get(name)
    return row ? toDps(row) : null
  }

  async getDps(id: number): Promise<DpsWithLots | null> {
    const row = this.statements.dpsById.get(id)
    return row ? this.withLots(row) : null
  }

  async listDps(): Promise<DpsWithLots[]> {
    return this.statements.allDps.all().map((row) => this.withLots(row))
  }

  /** Admits a service to a lot, or re-admits a suspended or removed member. Admitting a member again changes nothing. */
  /**
   * Admits a service to a lot, or re-admits a suspended or removed member. Admitting a member again changes nothing.
   * With an actor, a change is audited as `dps.member_admitted` (before and after).
   */
  async admitMember(
    input: { lotId: number; serviceId: number; on: string; reason?: string | null },
    actor?: string,
  ): Promise<Membership> {
    return this.db.transaction(() => {
      const beforeRow = this.statements.membershipByLotService.get(input.lotId, input.serviceId)
      const result = this.statements.admit.run({
        lotId: input.lotId,
        serviceId: input.serviceId,
        on: input.on,
        reason: input.reason ?? null,
      })
      const after = toMembership(this.statements.membershipByLotService.get(input.lotId, input.serviceId) as MembershipRow)
      if (result.changes > 0) {
        const before = beforeRow ? toMembership(beforeRow) : null
        this.audit(actor, 'dps.member_admitted', 'dps_membership', after.id, before, after)
      }
      return after
    }).immediate()
  }

  async suspendMember(membershipId: number, change: { on: string; reason: string }, actor?: string): Promise<Membership | null> {
    return this.setStatus(membershipId, 'suspended', change, actor)
  }

  async removeMember(membershipId: number, change: { on: string; reason: string }, actor?: string): Promise<Membership | null> {
    return this.setStatus(membershipId, 'removed', change, actor)
  }

  async findMembershipById(membershipId: number): Promise<Membership | null> {
    const row = this.statements.membershipById.get(membershipId)
    return row ? toMembership(row) : null
  }

  async findMembership(lotId: number, serviceId: number): Promise<Membership | null> {
    const row = this.statements.membershipByLotService.get(lotId, serviceId)
    return row ? toMembership(row) : null
  }

  async membershipsForService(serviceId: number): Promise<ServiceMembership[]> {
    return this.statements.membershipsOfService.all(serviceId).map((row) => ({
      ...toMembership(row),
      dpsId: row.dps_id,
      dpsName: row.dps_name,
      lotName: row.lot_name,
      tier: row.tier,
      zone: row.zone,
      eligibility: toStoredEligibility(row),
    }))
  }

  /** Memberships that are not removed, with their DPS's gates; all of them, or those of the given services. */
  /** Services with a membership whose gate has never been evaluated (admitted since their last judgement). */
  async servicesWithUnevaluatedMemberships(): Promise<number[]> {
    return this.statements.unevaluated.all()
  }

  async membershipsToEvaluate(serviceIds?: number[]): Promise<MembershipToEvaluate[]> {
    const wanted = serviceIds ? new Set(serviceIds) : null
    const gatesByDps = new Map<number, Gates>()
    return this.statements.toEvaluate
      .all()
      .filter((row) => wanted === null || wanted.has(row.service_id))
      .map((row) => {
        let gates = gatesByDps.get(row.dps_id)
        if (!gates) {
          gates = gatesSchema.parse(parseJson(row.gates, {}))
          gatesByDps.set(row.dps_id, gates)
        }
        return { membershipId: row.membership_id, serviceId: row.service_id, lotId: row.lot_id, dpsId: row.dps_id, gates }
      })
  }

  /**
   * Stores each membership's current verdict. Where eligibility changed (a membership never evaluated counts as
   * eligible, as admission implies), writes a lost/regained event, and on a loss opens a "review membership" task
   * unless one is already open. Re-running with the same verdicts writes no events. Returns the events written.
   */
  async applyEligibility(
    runId: number,
    evaluations: EligibilityEvaluation[],
    at: string = new Date().toISOString(),
  ): Promise<EligibilityEvent[]> {
    const eventIds = this.db.transaction(() => {
      const ids: number[] = []
      for (const evaluation of evaluations) {
        const previous = this.statements.eligibilityOf.get(evaluation.membershipId)
        const wasEligible = previous ? previous.eligible === 1 : true
        const failingGates = JSON.stringify(evaluation.failingGates)
        const eligible = evaluation.eligible ? 1 : 0
        this.statements.upsertEligibility.run({ membershipId: evaluation.membershipId, eligible, failingGates, at, runId })
        if (wasEligible === evaluation.eligible) continue
        const event = this.statements.insertEvent.run({
          membershipId: evaluation.membershipId,
          runId,
          at,
          eligible,
          failingGates,
        })
        ids.push(Number(event.lastInsertRowid))
        if (!evaluation.eligible) this.openReviewTask(evaluation, at)
      }
      return ids
    }).immediate()
    return eventIds.map((id) => toEvent(this.statements.eventById.get(id) as EventRow))
  }

  /** Lost/regained events written by runs after `runId` (pass 0 for all), oldest first. */
  async eventsSince(runId: number): Promise<EligibilityEvent[]> {
    return this.statements.eventsSince.all(runId).map(toEvent)
  }

  async eventsForService(serviceId: number): Promise<EligibilityEvent[]> {
    return this.statements.eventsOfService.all(serviceId).map(toEvent)
  }

  async openTasks(): Promise<Task[]> {
    return this.statements.openTasks.all().map(toTask)
  }

  /** Open tasks with the service, DPS and lot they are about, oldest first. */
  async openTaskViews(): Promise<TaskView[]> {
    return this.statements.openTaskViews.all().map(toTaskView)
  }

  async findTask(taskId: number): Promise<TaskView | null> {
    const row = this.statements.taskViewById.get(taskId)
    return row ? toTaskView(row) : null
  }

  /** Closes an open task, audited as `task.closed` by `closedBy`; false when there is no such open task. */
  async closeTask(taskId: number, closedBy: string, note: string | null = null): Promise<boolean> {
    const at = new Date().toISOString()
    return this.db.transaction(() => {
      const before = this.statements.taskViewById.get(taskId)
      const result = this.statements.closeTask.run({ id: taskId, at, closedBy, note })
      if (result.changes !== 1 || !before) return false
      const after = toTask(this.statements.taskViewById.get(taskId) as TaskViewRow)
      this.audit(closedBy, 'task.closed', 'task', taskId, toTask(before), after, at)
      return true
    }).immediate()
  }

  async serviceIdByRef(ref: string): Promise<number | null> {
    return this.statements.serviceByRef.get(ref)?.id ?? null
  }

  async serviceTypeOf(serviceId: number): Promise<ServiceType | null> {
    return this.statements.serviceType.get(serviceId)?.service_type ?? null
  }

  /** The service's published judgement now, or null when it has none (or its stored result cannot be read). */
  async currentJudgement(serviceId: number): Promise<CurrentJudgement | null> {
    return this.readCurrentJudgement(serviceId)
  }

  /**
   * Records an award only if `decide` allows it on facts read inside the one immediate transaction that writes it: the
   * lot (it must belong to the DPS), the service's membership and its stored verdict, the service's published judgement
   * and the DPS's gates (so `decide` must be synchronous). A judgement published or a verdict stored by a concurrent
   * write, even one whose eligibility has not been re-stored yet, therefore refuses the award rather than racing it:
   * nothing read before the transaction decides.
   */
  async recordAwardIfEligible(
    award: NewAward,
    decide: (facts: AwardTransactionFacts) => AwardDecision,
  ): Promise<AwardOutcome> {
    const outcome = this.db.transaction((): AwardOutcome => {
      const dps = this.statements.dpsById.get(award.dpsId)
      const lot = this.statements.lotById.get(award.lotId)
      if (!dps || !lot || lot.dps_id !== award.dpsId) {
        const message = `No lot ${award.lotId} in this DPS`
        return { ok: false, refused: 'not_found', message, failingGates: [], field: 'lotId' }
      }
      const contract = this.statements.serviceContract.get(award.serviceId)
      if (!contract) {
        return { ok: false, refused: 'not_found', message: 'No such service', failingGates: [], field: 'serviceRef' }
      }
      const membershipRow = this.statements.membershipByLotService.get(award.lotId, award.serviceId)
      const membership = membershipRow ? toMembership(membershipRow) : null
      const stored = membership ? this.statements.eligibilityOf.get(membership.id) : undefined
      const decision = decide({
        lotName: lot.name,
        membership,
        storedVerdict: stored
          ? {
              eligible: stored.eligible === 1,
              failingGates: stored.eligible === 0 ? parseJson<FailingGate[]>(stored.failing_gates, []) : [],
            }
          : null,
        current: this.readCurrentJudgement(award.serviceId),
        gates: toDps(dps).gates,
      })
      if (!decision.eligible) {
        return { ok: false, refused: 'ineligible', message: decision.message, failingGates: decision.failingGates }
      }
      if (this.statements.awardByReference.get(award.dpsId, award.reference)) {
        const message = `Reference ${award.reference} is already used in this DPS`
        return { ok: false, refused: 'duplicate_reference', message, failingGates: [], field: 'reference' }
      }
      const { createdAt, ...fields } = award
      const now = new Date().toISOString()
      const result = this.statements.insertAward.run({
        ...fields,
        contractStatus: contract.contract_status,
        now: createdAt ?? now,
      })
      const recorded = toAward(this.statements.awardById.get(Number(result.lastInsertRowid)) as AwardRow)
      this.audit(award.createdBy ?? 'system', 'dps.award_recorded', 'award', recorded.id, null, recorded, now)
      return { ok: true, award: recorded }
    })
    return outcome.immediate()
  }

  /** Awards of a DPS made on or after `since` (ISO date or timestamp), newest first. */
  async listAwards(dpsId: number, since: string): Promise<Award[]> {
    return this.statements.awardsOfDps.all(dpsId, since).map(toAward)
  }

  /** Awards per member (lot and service) made on or after `since`. */
  async awardsPerMember(dpsId: number, since: string): Promise<MemberAwards[]> {
    return this.statements.awardsPerMember.all(dpsId, since).map((row) => ({
      lotId: row.lot_id,
      serviceId: row.service_id,
      awards: row.awards,
      weeklyHours: row.weekly_hours,
    }))
  }

  /**
   * Share of new packages awarded to off-contract services in [from, to) (ISO dates or timestamps), using each
   * service's contract status at the time of the award; all DPSs unless one is given.
   */
  async offContractShare(period: { from: string; to: string; dpsId?: number }): Promise<OffContractShare> {
    const row = this.statements.offContractShare.get({ from: period.from, to: period.to, dpsId: period.dpsId ?? null })
    const awards = row?.total ?? 0
    const offContract = row?.off ?? 0
    return { awards, offContract, share: awards === 0 ? null : offContract / awards }
  }

  private readCurrentJudgement(serviceId: number): CurrentJudgement | null {
    const row = this.statements.currentJudgement.get(serviceId)
    if (!row) return null
    const result = parseJson<RiskResult | null>(row.result, null)
    if (result === null || typeof result !== 'object' || !Array.isArray(result.indicators)) return null
    return { serviceId: row.service_id, snapshotId: row.snapshot_id, runId: row.run_id, result }
  }

  private insertLot(dpsId: number, lot: NewLot, now: string): number {
    const result = this.statements.insertLot.run({
      dpsId,
      name: lot.name,
      tier: lot.tier,
      zone: lot.zone ?? null,
      areas: JSON.stringify(lot.areas ?? []),
      serviceType: lot.serviceType,
      specialism: lot.specialism ?? null,
      now,
    })
    return Number(result.lastInsertRowid)
  }

  private withLots(row: DpsRow): DpsWithLots {
    const members = this.statements.membersOfDps.all(row.id).map(toMember)
    const lots = this.statements.lotsOfDps.all(row.id).map((lotRow) => ({
      ...toLot(lotRow),
      members: members.filter((member) => member.lotId === lotRow.id),
    }))
    return { ...toDps(row), lots }
  }

  private setStatus(
    membershipId: number,
    status: MembershipStatus,
    change: { on: string; reason: string },
    actor: string | undefined,
  ): Membership | null {
    return this.db.transaction(() => {
      const before = this.statements.membershipById.get(membershipId)
      const result = this.statements.setStatus.run({ id: membershipId, status, on: change.on, reason: change.reason })
      if (result.changes === 0 || !before) return null
      const after = toMembership(this.statements.membershipById.get(membershipId) as MembershipRow)
      this.audit(actor, `dps.member_${status}`, 'dps_membership', membershipId, toMembership(before), after)
      return after
    }).immediate()
  }

  /** Appends an audit entry inside the caller's transaction; writes made without an actor (seeding) are not audited. */
  private audit(
    actor: string | undefined,
    action: string,
    entityType: string,
    entityId: number,
    before: unknown,
    after: unknown,
    at?: string,
  ): void {
    if (actor === undefined) return
    appendAuditEntry(this.db, { actor, action, entityType, entityId, before, after }, at)
  }

  private openReviewTask(evaluation: EligibilityEvaluation, at: string): void {
    if (this.statements.openReviewTask.get(evaluation.membershipId)) return
    const membership = this.statements.membershipById.get(evaluation.membershipId) as MembershipRow
    this.statements.insertTask.run({
      serviceId: membership.service_id,
      membershipId: evaluation.membershipId,
      at,
      note: evaluation.failingGates.map((gate) => gate.reason).join('; '),
    })
  }
}
