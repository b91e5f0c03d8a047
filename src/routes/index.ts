import type { Router } from 'express'
import type { Services } from '../services/container.js'
import { apiReadRoutes } from './api.js'
import { dashboardRoutes } from './dashboard.js'
import { servicePageRoutes } from './servicePage.js'
// Feature imports: keep each feature's lines inside its own region.
// region: refresh-admin
import { adminRunsRoutes } from './adminRuns.js'
// endregion
// region: dps
// endregion
// region: intelligence
// endregion
// region: compliance
// endregion
// region: market
// endregion
// region: inbox
// endregion

/**
 * Page routers, mounted after sign-in for every role; each router checks its own stricter roles with requireRole.
 * The order matters only where paths overlap.
 */
export function pageRouters(services: Services): Router[] {
  return [
    dashboardRoutes(services),
    servicePageRoutes(services),
    // region: refresh-admin
    adminRunsRoutes(services),
    // endregion
    // region: dps
    // endregion
    // region: intelligence
    // endregion
    // region: compliance
    // endregion
    // region: market
    // endregion
    // region: inbox
    // endregion
  ]
}

/** JSON API routers under /api/v1, mounted after authentication for every role; each checks stricter roles itself. */
export function apiRouters(services: Services): Router[] {
  return [
    apiReadRoutes(services),
    // region: refresh-admin
    // endregion
    // region: dps
    // endregion
    // region: intelligence
    // endregion
    // region: compliance
    // endregion
    // region: market
    // endregion
  ]
}
