import type { Router } from 'express'
import type { Services } from '../services/container.js'
import { apiReadRoutes } from './api.js'
import { apiChangesRoutes } from './changes.js'
import { apiActionsRoutes } from './apiActions.js'
import { actionsRoutes } from './actions.js'
import { dashboardRoutes } from './dashboard.js'
import { servicePageRoutes } from './servicePage.js'
// Feature imports: keep each feature's lines inside its own region.
// region: refresh-admin
import { adminRunsRoutes } from './adminRuns.js'
// endregion
// region: dps
import { adminDpsRoutes } from './adminDps.js'
import { apiDpsRoutes } from './apiDps.js'
import { dpsRoutes } from './dps.js'
// endregion
// region: intelligence
import { apiIntelligenceRoutes } from './apiIntelligence.js'
import { assessmentRoutes } from './assessments.js'
import { importPageRoutes } from './importPage.js'
import { intelligenceRoutes } from './intelligence.js'
// endregion
// region: compliance
import { adminAuditRoutes } from './adminAudit.js'
import { adminTokensRoutes } from './adminTokens.js'
import { adminUsersRoutes } from './adminUsers.js'
import { complianceRoutes } from './compliance.js'
import { morningRoutes } from './morning.js'
import { overrideRevokeRoutes } from './overrideRevoke.js'
// endregion
// region: rules
import { adminRulesRoutes } from './adminRules.js'
// endregion
// region: market
import { apiMarketRoutes } from './apiMarket.js'
import { exportRoutes, pageTablesCsvRoutes } from './exports.js'
import { followRoutes } from './follow.js'
import { marketRoutes } from './market.js'
import { openApiRoutes } from './openapi.js'
import { providerRoutes } from './providers.js'
// endregion
// region: inbox
// endregion

/**
 * Page routers, mounted after sign-in for every role; each router checks its own stricter roles with requireRole.
 * The order matters only where paths overlap.
 */
export function pageRouters(services: Services): Router[] {
  return [
    // Wraps res.render for every page: `?format=csv` gives a page's tables as CSV (market feature, issue 6).
    pageTablesCsvRoutes(services),
    dashboardRoutes(services),
    servicePageRoutes(services),
    // region: refresh-admin
    adminRunsRoutes(services),
    // endregion
    // region: dps
    dpsRoutes(services),
    adminDpsRoutes(services),
    // endregion
    // region: intelligence
    intelligenceRoutes(services),
    assessmentRoutes(services),
    importPageRoutes(services),
    // endregion
    // region: compliance
    complianceRoutes(services),
    actionsRoutes(services),
    overrideRevokeRoutes(services),
    morningRoutes(services),
    adminUsersRoutes(services),
    adminTokensRoutes(services),
    adminAuditRoutes(services),
    // endregion
    // region: rules
    adminRulesRoutes(services),
    // endregion
    // region: market
    marketRoutes(services),
    providerRoutes(services),
    exportRoutes(services),
    followRoutes(services),
    // endregion
    // region: inbox
    // endregion
  ]
}

/** JSON API routers under /api/v1, mounted after authentication for every role; each checks stricter roles itself. */
export function apiRouters(services: Services): Router[] {
  return [
    apiReadRoutes(services),
    apiChangesRoutes(services),
    apiActionsRoutes(services),
    // region: refresh-admin
    // endregion
    // region: dps
    apiDpsRoutes(services),
    // endregion
    // region: intelligence
    apiIntelligenceRoutes(services),
    // endregion
    // region: compliance
    // endregion
    // region: market
    apiMarketRoutes(services),
    openApiRoutes(),
    // endregion
  ]
}
