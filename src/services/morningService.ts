import type {
  AssessmentOnRecord,
  ComplianceActionWithService,
  ComplianceActionsRepository,
  ComplianceFactsRepository,
  ServiceState,
} from '../data/complianceActions.js'
import type { DpsRepository, EligibilityEvent, TaskView } from '../data/dps.js'
import type { OverridesRepository, RagOverrideWithService } from '../data/overrides.js'
import type { RefreshRun, RunRepository, SourceFreshness } from '../data/runs.js'
import { addDays } from '../domain/dates.js'
import { rankDueNext, type DueNextEntry } from '../domain/dueNext.js'
import { isCountedAssessment } from '../domain/indicators/qualityAssessment.js'
import type { Observation } from '../domain/observation.js'
import { actionPlansDue, type ActionPlanDue } from './complianceService.js'
import type { ChangePeriod, ChangedService, DashboardService } from './dashboardService.js'
import type { RiskService } from './riskService.js'

/** Overrides expiring within this many days are listed, so they can be renewed or left to lapse on purpose. */
export const OVERRIDE_EXPIRY_WARNING_DAYS = 7
/** The morning page lists at most this many overdue assessments; the rest are counted. */
export const ASSESSMENTS_LISTED = 25

export interface ActionPlanDueView extends ActionPlanDue {
  serviceRef: string
  serviceName: string
}

export interface AssessmentDueView extends DueNextEntry {
  ref: string
  name: string
}

export interface MorningView {
  lastFullRun: RefreshRun | null
  ragChanges: ChangedService[]
  changesPeriod: ChangePeriod
  changesSince: string | null
  eligibilityEvents: EligibilityEvent[]
  reviewTasks: TaskView[]
  overdueActions: ComplianceActionWithService[]
  actionPlansDue: ActionPlanDueView[]
  expiringOverrides: RagOverrideWithService[]
  assessmentsOverdue: { listed: AssessmentDueView[]; total: number; neverAssessed: number }
  failedSources: SourceFreshness[]
}

export interface MorningServiceDeps {
  dashboard: DashboardService
  runs: RunRepository
  dps: DpsRepository
  actions: ComplianceActionsRepository
  overrides: OverridesRepository
  facts: ComplianceFactsRepository
  risk: RiskService
  today: () => string
}

/** The compliance officer's morning (SPEC §7): what changed overnight and what needs doing today. */
export class MorningService {
  constructor(private readonly deps: MorningServiceDeps) {}

  async morning(period: ChangePeriod = 'overnight'): Promise<MorningView> {
    const today = this.deps.today()
    const [lastFullRun, assessments, states] = await Promise.all([
      this.deps.runs.lastOvernightRun(),
      this.deps.facts.assessmentsOnRecord(),
      this.deps.facts.serviceStates(),
    ])
    const [
      changesInPeriod,
      eligibilityEvents,
      reviewTasks,
      overdueActions,
      plansDue,
      expiringOverrides,
      assessmentsOverdue,
      sources,
    ] = await Promise.all([
      this.deps.dashboard.changesIn(period, lastFullRun),
      // eventsSince is exclusive of its run: start just before the last full run so its own events count.
      lastFullRun ? this.deps.dps.eventsSince(lastFullRun.id - 1) : Promise.resolve([]),
      this.deps.dps.openTaskViews(),
      this.deps.actions.overdue(today),
      this.actionPlansDue(assessments, states),
      this.deps.overrides.expiringBetween(today, addDays(today, OVERRIDE_EXPIRY_WARNING_DAYS)),
      this.assessmentsOverdue(today, assessments, states),
      this.deps.runs.sourceFreshness(),
    ])
    return {
      lastFullRun,
      ragChanges: changesInPeriod.changes,
      changesPeriod: changesInPeriod.period,
      changesSince: changesInPeriod.since,
      eligibilityEvents,
      reviewTasks,
      overdueActions,
      actionPlansDue: plansDue,
      expiringOverrides,
      assessmentsOverdue,
      failedSources: sources.filter((source) => source.lastAttemptStatus === 'failed'),
    }
  }

  private async actionPlansDue(
    assessments: AssessmentOnRecord[],
    states: ServiceState[],
  ): Promise<ActionPlanDueView[]> {
    const opened = await this.deps.actions.openedDatesByService('action_plan')
    const byId = new Map(states.map((state) => [state.serviceId, state]))
    return actionPlansDue(assessments, opened).flatMap((due) => {
      const service = byId.get(due.serviceId)
      return service ? [{ ...due, serviceRef: service.ref, serviceName: service.name }] : []
    })
  }

  /** Services past their assessment due date (SPEC §8 schedule), ranked as the due-next queue ranks them. */
  private async assessmentsOverdue(
    today: string,
    assessments: AssessmentOnRecord[],
    states: ServiceState[],
  ): Promise<MorningView['assessmentsOverdue']> {
    const rules = await this.deps.risk.activeRuleSet()
    const lastAssessed = new Map<number, string>()
    for (const assessment of assessments) {
      if (!isCountedAssessment({ detail: assessment.detail } as Observation)) continue
      const last = lastAssessed.get(assessment.serviceId)
      if (!last || assessment.observedOn > last) lastAssessed.set(assessment.serviceId, assessment.observedOn)
    }
    const computed = states.flatMap((state) =>
      state.rag === null
        ? []
        : [
            {
              serviceId: state.serviceId,
              rag: state.rag,
              score: state.score ?? 0,
              lastAssessmentDate: lastAssessed.get(state.serviceId) ?? null,
              contractStatus: state.contractStatus,
            },
          ],
    )
    const byId = new Map(states.map((state) => [state.serviceId, state]))
    const ranked = rankDueNext(computed, today, rules.ruleSet.assessmentSchedule)
    const overdue = ranked.filter((entry) => !entry.neverAssessed && (entry.daysOverdue ?? 0) > 0)
    return {
      listed: overdue.slice(0, ASSESSMENTS_LISTED).map((entry) => {
        const state = byId.get(entry.serviceId)
        return { ...entry, ref: state?.ref ?? '', name: state?.name ?? '' }
      }),
      total: overdue.length,
      neverAssessed: ranked.filter((entry) => entry.neverAssessed && entry.dueOn !== null).length,
    }
  }
}
