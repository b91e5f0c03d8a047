import { Router } from 'express'
import type { Services } from '../services/container.js'

/**
 * `/health`, mounted before sessions so probes never create one. Anyone may call it, so it says only UP or DOWN for
 * the database, the last refresh and each source, and which kind of database: error texts can name server paths and
 * hosts, so they are shown on the admin run page only.
 */
export function healthRoutes(services: Services): Router {
  const router = Router()
  router.get('/health', async (req, res) => {
    res.set('Cache-Control', 'no-store')
    try {
      res.json(await services.health.check())
    } catch (error) {
      req.log.error({ err: error }, 'health check failed')
      // The details go to the log, not to an anonymous caller.
      res.status(503).json({ status: 'DOWN', database: 'DOWN' })
    }
  })
  return router
}
