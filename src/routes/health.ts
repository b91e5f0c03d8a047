import { Router } from 'express'
import { databaseStatus } from '../data/database.js'
import type { Services } from '../services/container.js'

/** `/health`, mounted before sessions so probes never create one: database, schema version, last refresh, sources. */
export function healthRoutes(services: Services): Router {
  const router = Router()
  router.get('/health', async (_req, res) => {
    try {
      const database = await databaseStatus(services.db)
      const [lastRun, sources] = await Promise.all([
        services.runs.lastPublishedRun('full'),
        services.runs.sourceFreshness(),
      ])
      res.set('Cache-Control', 'no-store').json({
        status: 'UP',
        database,
        lastRefresh: lastRun
          ? { runId: lastRun.id, startedAt: lastRun.startedAt, finishedAt: lastRun.finishedAt, status: lastRun.status }
          : null,
        sources,
      })
    } catch (error) {
      services.logger.error({ err: error }, 'health check failed')
      res
        .status(503)
        .set('Cache-Control', 'no-store')
        .json({
          status: 'DOWN',
          // The details go to the log, not to an anonymous caller.
          database: { reachable: false },
        })
    }
  })
  return router
}
