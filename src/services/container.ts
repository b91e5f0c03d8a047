import type { Config } from '../config.js'
import type { Db } from '../data/database.js'
import { ObservationRepository } from '../data/observations.js'
import { RuleSetRepository } from '../data/ruleSets.js'
import { RunRepository } from '../data/runs.js'
import { ServiceListingRepository } from '../data/serviceListing.js'
import { ServiceRepository } from '../data/services.js'
import { todayIn } from '../domain/dates.js'
import type { Logger } from '../logger.js'
import { DashboardService } from './dashboardService.js'
import { RiskService } from './riskService.js'

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
export function createServices(db: Db, config: Config, logger: Logger, clock: Clock = systemClock(config.TZ)) {
  const serviceRepository = new ServiceRepository(db)
  const observations = new ObservationRepository(db)
  const runs = new RunRepository(db)
  const ruleSets = new RuleSetRepository(db)
  const listing = new ServiceListingRepository(db)

  const risk = new RiskService({
    services: serviceRepository,
    observations,
    runs,
    ruleSets,
    today: clock.today,
  })
  const dashboard = new DashboardService({ services: serviceRepository, listing, runs, observations })

  return {
    db,
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
  }
}

export type Services = ReturnType<typeof createServices>
