import type { Db } from './database.js'
import type { Executor } from './executor.js'
import type { Platform } from './platform.js'
import { ApiTokensRepository } from './apiTokens.js'
import { AuditLog } from './audit.js'
import { CompaniesHouseStreamRepository } from './companiesHouseStream.js'
import { ComplianceActionsRepository, ComplianceFactsRepository } from './complianceActions.js'
import { DpsRepository } from './dps.js'
import { DigestRepository, FollowRepository } from './follows.js'
import { InboxFileRepository } from './inboxFiles.js'
import { MarketRepository } from './market.js'
import { ObservationRepository } from './observations.js'
import { OverridesRepository } from './overrides.js'
import { RecheckRepository } from './rechecks.js'
import { RuleSetRepository } from './ruleSets.js'
import { RunRepository } from './runs.js'
import { ServiceListingRepository } from './serviceListing.js'
import { ServiceRepository } from './services.js'
import { SessionRepository } from './sessionStore.js'
import { SourceStateRepository } from './sourceState.js'
import { UsersRepository } from './users.js'

/**
 * Every repository over one executor: the store's root or one of its transactions. Built lazily, since a
 * transaction uses a few of them.
 */
export function createRepositories(db: Executor, platform: Platform, legacy: Db) {
  const made = new Map<string, unknown>()
  const once = <T>(name: string, make: () => T): T => {
    if (!made.has(name)) made.set(name, make())
    return made.get(name) as T
  }
  return {
    get apiTokens() {
      return once('apiTokens', () => new ApiTokensRepository(db, platform))
    },
    get audit() {
      return once('audit', () => new AuditLog(db))
    },
    get companiesHouseStream() {
      return once('companiesHouseStream', () => new CompaniesHouseStreamRepository(db))
    },
    get complianceActions() {
      return once('complianceActions', () => new ComplianceActionsRepository(db))
    },
    get complianceFacts() {
      return once('complianceFacts', () => new ComplianceFactsRepository(db))
    },
    get digests() {
      return once('digests', () => new DigestRepository(db))
    },
    get dps() {
      return once('dps', () => new DpsRepository(legacy))
    },
    get follows() {
      return once('follows', () => new FollowRepository(db))
    },
    get inboxFiles() {
      return once('inboxFiles', () => new InboxFileRepository(legacy))
    },
    get listing() {
      return once('listing', () => new ServiceListingRepository(db))
    },
    get market() {
      return once('market', () => new MarketRepository(db))
    },
    get observations() {
      return once('observations', () => new ObservationRepository(db))
    },
    get overrides() {
      return once('overrides', () => new OverridesRepository(db))
    },
    get rechecks() {
      return once('rechecks', () => new RecheckRepository(db))
    },
    get ruleSets() {
      return once('ruleSets', () => new RuleSetRepository(db))
    },
    get runs() {
      return once('runs', () => new RunRepository(db, platform))
    },
    get services() {
      return once('services', () => new ServiceRepository(legacy))
    },
    get sessions() {
      return once('sessions', () => new SessionRepository(db, platform))
    },
    get sourceState() {
      return once('sourceState', () => new SourceStateRepository(db))
    },
    get users() {
      return once('users', () => new UsersRepository(db))
    },
  }
}

export type Repositories = ReturnType<typeof createRepositories>
