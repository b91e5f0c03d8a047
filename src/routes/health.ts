import { Router } from 'express'
import { databaseStatus } from '../data/database.js'
import type { SourceFreshness } from '../data/runs.js'
import { databaseDamage } from '../data/databaseDamage.js'
import type { Services } from '../services/container.js'

type PartStatus = 'UP' | 'DOWN'

/** A source is DOWN when its last attempt failed; not configured or still running is not a failure. */
function sourceStatus(source: SourceFreshness): PartStatus {
  return source.lastAttemptStatus === 'failed' ? 'DOWN' : 'UP'
}

/**
 * `/health`, mounted before sessions so probes never create one. Anyone may call it, so it says only UP or DOWN for
 * the database, the last refresh and each source: error texts can name server paths and hosts, so they are shown on
 * the admin run page only.
 */
export function healthRoutes(services: Services): Router {
  const router = Router()
  router.get('/health', async (req, res) => {
    res.set('Cache-Control', 'no-store')
    try {
      const damage = databaseDamage(services.db.name)
      if (damage.length > 0) throw new Error(`The database file is damaged: ${damage.slice(0, 3).join('; ')}`)
      await databaseStatus(services.db)
      const [lastRun, sources] = await Promise.all([
        services.runs.lastPublishedRun('full'),
        services.runs.sourceFreshness(),
      ])
      res.json({
        status: 'UP',
        database: 'UP',
        ...(lastRun ? { lastRefresh: lastRun.status === 'completed' ? 'UP' : 'DOWN' } : {}),
        sources: Object.fromEntries(sources.map((source) => [source.source, sourceStatus(source)])),
      })
    } catch (error) {
      req.log.error({ err: error }, 'health check failed')
      // The details go to the log, not to an anonymous caller.
      res.status(503).json({ status: 'DOWN', database: 'DOWN' })
    }
  })
  return router
}
