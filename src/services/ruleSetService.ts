import type { AuditLog } from '../data/audit.js'
import type { ObservationRepository } from '../data/observations.js'
import type { RuleSetRepository, StoredRuleSet } from '../data/ruleSets.js'
import { AnotherRunInProgressError, type RunRepository } from '../data/runs.js'
import type { ServiceRepository } from '../data/services.js'
import { assessRisk } from '../domain/risk.js'
import type { ActiveOverride, RiskResult } from '../domain/riskResult.js'
import { ruleSetSchema, type RuleSet } from '../domain/ruleSet.js'
import { RAG_ORDER, type Rag } from '../domain/vocabulary.js'
import type { ActiveRuleSet, RiskService } from './riskService.js'

/** One problem with a proposed rule set; `path` is the dotted field path ('' for the document as a whole). */
export interface RuleSetIssue {
  path: string
  message: string
}

export type RuleSetValidation = { ok: true; ruleSet: RuleSet } | { ok: false; issues: RuleSetIssue[] }

export type RagCounts = Record<Rag, number>

/** A service whose colour the proposed rules would change. */
export interface ColourChange {
  serviceId: number
  ref: string
  name: string
  providerName: string
  from: Rag
  to: Rag
  /** The reasons the proposed rules give. */
  reasons: string[]
  /** A manual override in force keeps the dashboard at its colour whatever the rules say. */
  override: ActiveOverride | null
}

export interface RuleSetPreview {
  asOf: string
  /** The version the proposal is compared with (the one in force). */
  baseVersion: number
  servicesAssessed: number
  /** Colours the rules give (before any manual override), under the rules in force and under the proposal. */
  countsBefore: RagCounts
  countsAfter: RagCounts
  /** Worst new colour first. */
  changes: ColourChange[]
  /** Services keeping their colour whose reasons, score or flags would change. */
  otherwiseChanged: number
}

export interface SaveRuleSetInput {
  document: unknown
  /** The version in force when the admin previewed: a save on top of a newer one is refused. */
  baseVersion: number
  note: string
  actor: string
}

export type SaveRuleSetOutcome =
  | {
      ok: true
      version: number
      runId: number
      /** Set when the rules were saved but recomputing the services failed (the next refresh applies them). */
      recomputeError: string | null
      ragChanges: number
    }
  | { ok: false; reason: 'invalid'; issues: RuleSetIssue[] }
  | { ok: false; reason: 'stale'; currentVersion: number }
  | { ok: false; reason: 'busy'; message: string }

export interface RuleSetServiceDeps {
  ruleSets: RuleSetRepository
  risk: RiskService
  runs: RunRepository
  services: ServiceRepository
  observations: ObservationRepository
  audit: AuditLog
  today: () => string
}

const BATCH = 1000

function zeroCounts(): RagCounts {
  return { red: 0, amber: 0, green: 0 }
}

/** Whether two judgements differ in anything a reader sees, apart from the date they were made. */
function differs(a: RiskResult, b: RiskResult): boolean {
  return (
    a.score !== b.score ||
    JSON.stringify(a.reasons) !== JSON.stringify(b.reasons) ||
    JSON.stringify(a.flags) !== JSON.stringify(b.flags) ||
    JSON.stringify(a.indicators) !== JSON.stringify(b.indicators)
  )
}

/** Validates a rule set document (SPEC §3), keeping each issue's field path apart from its message. */
export function validateRuleSet(document: unknown): RuleSetValidation {
  const parsed = ruleSetSchema.safeParse(document)
  if (parsed.success) return { ok: true, ruleSet: parsed.data }
  return {
    ok: false,
    issues: parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  }
}

/** Parses the JSON an admin typed, then validates it. */
export function validateRuleSetJson(text: string): RuleSetValidation {
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (error) {
    return { ok: false, issues: [{ path: '', message: `The rule set is not valid JSON: ${(error as Error).message}` }] }
  }
  return validateRuleSet(document)
}

/**
 * The rule set admin (SPEC §1, §3): the version in force and its history, a preview of which services a proposed
 * rule set would change colour, and saving a new version, which recomputes every service at once as a full run.
 */
export class RuleSetService {
  constructor(private readonly deps: RuleSetServiceDeps) {}

  /** The version in force (the default rule set is stored as version 1 on first use). */
  async inForce(): Promise<StoredRuleSet & { ruleSet: RuleSet }> {
    const { version, ruleSet } = await this.deps.risk.activeRuleSet()
    const stored = await this.deps.ruleSets.byVersion(version)
    if (!stored) throw new Error(`Rule set version ${version} disappeared`)
    return { ...stored, ruleSet }
  }

  /** Every version, newest first. */
  async history(): Promise<StoredRuleSet[]> {
    await this.deps.risk.activeRuleSet()
    return this.deps.ruleSets.list()
  }

  async version(version: number): Promise<StoredRuleSet | null> {
    return this.deps.ruleSets.byVersion(version)
  }

  /**
   * Judges every service as of today under the rules in force and under the proposal, with the pure engine; nothing
   * is stored. Colours are compared before manual overrides, which the rules do not change.
   */
  async preview(proposed: RuleSet, asOf: string = this.deps.today()): Promise<RuleSetPreview> {
    const current = await this.deps.risk.activeRuleSet()
    const candidate: ActiveRuleSet = { version: current.version + 1, ruleSet: proposed }
    const services = [...(await this.deps.services.listAll())].sort((a, b) => a.id - b.id)
    const countsBefore = zeroCounts()
    const countsAfter = zeroCounts()
    const changes: ColourChange[] = []
    let otherwiseChanged = 0
    for (let i = 0; i < services.length; i += BATCH) {
      const batch = services.slice(i, i + BATCH)
      const first = batch[0]?.id ?? 0
      const last = batch[batch.length - 1]?.id ?? 0
      const grouped = await this.deps.observations.listLiveForIdRange(first, last + 1)
      for (const service of batch) {
        const observations = grouped.get(service.id) ?? []
        const judge = (rules: ActiveRuleSet) =>
          assessRisk({ observations, ruleSet: rules.ruleSet, ruleSetVersion: rules.version, asOf })
        const before = judge(current)
        const after = judge(candidate)
        countsBefore[before.computedRag]++
        countsAfter[after.computedRag]++
        if (before.computedRag !== after.computedRag) {
          changes.push({
            serviceId: service.id,
            ref: service.ref,
            name: service.name,
            providerName: service.providerName,
            from: before.computedRag,
            to: after.computedRag,
            reasons: after.reasons,
            override: null,
          })
        } else if (differs(before, after)) {
          otherwiseChanged++
        }
      }
    }
    for (const change of changes) change.override = await this.overrideInForce(change.serviceId, asOf)
    changes.sort(
      (a, b) => RAG_ORDER[b.to] - RAG_ORDER[a.to] || a.name.localeCompare(b.name) || a.ref.localeCompare(b.ref),
    )
    return {
      asOf,
      baseVersion: current.version,
      servicesAssessed: services.length,
      countsBefore,
      countsAfter,
      changes,
      otherwiseChanged,
    }
  }

  /**
   * Saves a new version and recomputes every service under it as one full run, published atomically, so the
   * dashboard shows the new rules at once. The run is started first: it is the lock that refuses a save while an
   * overnight refresh (which would publish judgements under the old rules) is running.
   */
  async save(input: SaveRuleSetInput): Promise<SaveRuleSetOutcome> {
    const validation = validateRuleSet(input.document)
    if (!validation.ok) return { ok: false, reason: 'invalid', issues: validation.issues }
    const previous = await this.inForce()
    if (previous.version !== input.baseVersion) return { ok: false, reason: 'stale', currentVersion: previous.version }

    const expectedVersion = previous.version + 1
    let runId: number
    try {
      runId = await this.deps.runs.startRun('full', {
        trigger: `rule set v${expectedVersion}`,
        ruleSetVersion: expectedVersion,
      })
    } catch (error) {
      if (error instanceof AnotherRunInProgressError) {
        return {
          ok: false,
          reason: 'busy',
          message: 'A refresh is running. Save the rule set again when it has finished.',
        }
      }
      throw error
    }

    let version: number
    try {
      version = await this.deps.ruleSets.save(validation.ruleSet, input.actor, input.note)
      if (version !== expectedVersion) throw new Error(`Expected to save version ${expectedVersion}, saved ${version}`)
    } catch (error) {
      await this.deps.runs.failRun(runId, (error as Error).message)
      throw error
    }
    await this.deps.audit.record({
      actor: input.actor,
      action: 'rule_set.save',
      entityType: 'rule_set',
      entityId: version,
      before: { version: previous.version, document: previous.document, note: previous.note },
      after: { version, document: validation.ruleSet, note: input.note, runId },
    })

    try {
      const rules: ActiveRuleSet = { version, ruleSet: validation.ruleSet }
      const computed = await this.deps.risk.stageAll(runId, rules, this.deps.today())
      const outcome = await this.deps.risk.publishFull(runId, computed)
      return { ok: true, version, runId, recomputeError: null, ragChanges: outcome.ragChanges }
    } catch (error) {
      const message = (error as Error).message
      await this.deps.runs.failRun(runId, message)
      return { ok: true, version, runId, recomputeError: message, ragChanges: 0 }
    }
  }

  private async overrideInForce(serviceId: number, asOf: string): Promise<ActiveOverride | null> {
    const override = (await this.deps.runs.current(serviceId))?.result.override ?? null
    return override && override.expiresOn >= asOf ? override : null
  }
}
