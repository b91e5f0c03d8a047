import type { Config } from '../config.js'
import type { Db } from '../data/database.js'
import { isStore, legacyHandleOf, sqliteStore, type Store } from '../data/store.js'
import { ServiceRepository } from '../data/services.js'
import { DpsRepository } from '../data/dps.js'
import { todayIn } from '../domain/dates.js'
import type { Logger } from '../logger.js'
import { DashboardService } from './dashboardService.js'
import { HealthService } from './healthService.js'
import { ImportService } from './importService.js'
import { DpsService } from './dpsService.js'
import { RiskService } from './riskService.js'
// region: feature-imports
// region: refresh-admin
import { RunLogService } from './sources/runLog.js'
// endregion
// region: intelligence
import { AssessmentService } from './assessmentService.js'
import { IntelligenceService } from './intelligenceService.js'
// endregion
// region: rules
import { RuleSetService } from './ruleSetService.js'
// endregion
// region: compliance
import { ComplianceService } from './complianceService.js'
import { MorningService } from './morningService.js'
// endregion
// region: market
import { DigestService, mailFrom, overdueActionsFrom, smtpMailer } from './digestService.js'
import { MarketService } from './marketService.js'
// endregion
// region: inbox
import { resolvePath } from '../config.js'
import { InboxFileRepository } from '../data/inboxFiles.js'
import { InboxService } from './inboxService.js'
// endregion
// endregion

export interface Clock {
  /** The council's calendar date (ISO), in the configured time zone. */
  today(): string
  now(): Date
}

export function systemClock(timeZone: string): Clock {
  return { today: () => todayIn(timeZone), now: () => new Date() }
}

/**
 * The composition root: repositories over one database, and the use cases built from them. A plain function rather
 * than a DI container; `Services` is its return type.
 */
export function createServices(
  source: Db | Store,
  config: Config,
  logger: Logger,
  clock: Clock = systemClock(config.TZ),
) {
  // The store seam (src/data/store.ts): services needing a transaction take `store`; the rest its root repositories.
  const store = isStore(source) ? source : sqliteStore(source)
  const db = legacyHandleOf(store)
  const serviceRepository = new ServiceRepository(db)
  const observations = store.repositories.observations
  const runs = store.repositories.runs
  const ruleSets = store.repositories.ruleSets
  const listing = store.repositories.listing
  const audit = store.repositories.audit

  const risk = new RiskService({
    services: serviceRepository,
    observations,
    runs,
    ruleSets,
    today: clock.today,
    rechecks: store.repositories.rechecks,
  })
  const dashboard = new DashboardService({ store, services: serviceRepository, listing, runs, observations })

  const dpsRepository = new DpsRepository(db)
  // The gate reads each service's published judgement, through the DPS repository (inside the award's transaction).
  const dps = new DpsService({ repository: dpsRepository, today: clock.today })
  // Every published run, overnight or an entry's, re-evaluates the DPS gate for the services it judged (eligibility
  // depends only on the judgement and the gates, and a gate edit recomputes its members).
  // A membership never evaluated (admitted with no recompute after) is evaluated by the next run whatever it judged.
  risk.onPublish(async (runId, _changed, touched) => {
    const unevaluated = touched === 'all' ? [] : await dpsRepository.servicesWithUnevaluatedMemberships()
    await dps.evaluateMemberships(runId, touched === 'all' ? undefined : [...new Set([...touched, ...unevaluated])])
  })

  const importer = new ImportService({
    services: serviceRepository,
    observations,
    risk,
    today: clock.today,
    audit: async (entry) => {
      await audit.record(entry)
    },
  })

  // Feature services: keep each feature's lines inside its own region (and its imports in the matching region above).
  // region: refresh-admin
  const sourceState = store.repositories.sourceState
  const runLog = new RunLogService({ runs, sourceState })
  // endregion
  // region: intelligence
  const intelligence = new IntelligenceService({
    services: serviceRepository,
    observations,
    runs,
    risk,
    store,
    today: clock.today,
  })
  const assessments = new AssessmentService({
    services: serviceRepository,
    observations,
    listing,
    runs,
    risk,
    store,
    today: clock.today,
  })
  // endregion
  // region: compliance
  const overrides = store.repositories.overrides
  risk.useOverrides(overrides)
  const complianceActions = store.repositories.complianceActions
  const complianceFacts = store.repositories.complianceFacts
  const compliance = new ComplianceService({
    overrides,
    actions: complianceActions,
    facts: complianceFacts,
    risk,
    today: clock.today,
  })
  const morning = new MorningService({
    dashboard,
    runs,
    dps: dpsRepository,
    actions: complianceActions,
    overrides,
    facts: complianceFacts,
    risk,
    today: clock.today,
  })
  // endregion
  // region: rules
  const ruleSetAdmin = new RuleSetService({
    ruleSets,
    risk,
    runs,
    services: serviceRepository,
    observations,
    audit,
    today: clock.today,
  })
  // endregion
  // region: market
  const follows = store.repositories.follows
  const market = new MarketService({
    market: store.repositories.market,
    observations,
    activeRuleSet: () => risk.activeRuleSet(),
    today: clock.today,
    overrides,
  })
  const digest = new DigestService({
    follows,
    log: store.repositories.digests,
    runs,
    dps: dpsRepository,
    mailer: config.SMTP_URL ? smtpMailer(config.SMTP_URL) : null,
    from: mailFrom(config.MAIL_FROM),
    publicUrl: config.PUBLIC_URL,
    today: clock.today,
    logger,
    overdueActions: overdueActionsFrom(complianceActions),
  })
  // The morning digest after each overnight run (the hook skips entry runs and never fails the run).
  risk.onPublish((runId) => digest.afterPublish(runId))
  // endregion
  // region: inbox
  const inbox = new InboxService({
    importer,
    files: new InboxFileRepository(db),
    inboxDir: resolvePath(config.INBOX_DIR),
    today: clock.today,
    logger,
  })
  // endregion

  return {
    // region: returned-features (one line per feature service, alphabetical)
    assessments,
    compliance,
    digest,
    follows,
    health: new HealthService(store),
    inbox,
    intelligence,
    market,
    morning,
    ruleSetAdmin,
    runLog,
    sourceState,
    // endregion
    db,
    store,
    config,
    logger,
    clock,
    serviceRepository,
    observations,
    runs,
    ruleSets,
    listing,
    risk,
    dashboard,
    dpsRepository,
    dps,
    audit,
    importer,
  }
}

export type Services = ReturnType<typeof createServices>
