import { Router, type NextFunction, type Request, type Response } from 'express'
import { z } from 'zod'
import { requireRole } from '../auth/authentication.js'
import { HttpError } from '../auth/httpErrors.js'
import { actorOf, type RequestUser } from '../auth/requestUser.js'
import { FOLLOWER_ROLES } from '../data/follows.js'
import type { Services } from '../services/container.js'
import type { ServiceDetail } from '../services/dashboardService.js'
import { formatDate, ragTag } from './display.js'

const refSchema = z.string().trim().min(1).max(100)

function mayFollow(user: RequestUser | undefined): user is RequestUser {
  // An API token is not a person and has no inbox: only signed-in officers follow.
  return user !== undefined && user.via === 'session' && (FOLLOWER_ROLES as readonly string[]).includes(user.role)
}

/**
 * What the market feature adds to the service page: the follow button, links to the provider and the printable
 * report, and the timeline (every observation and RAG change on one time axis).
 */
export async function servicePageAdditions(
  services: Services,
  detail: ServiceDetail,
  user: RequestUser | undefined,
  query: Record<string, unknown> = {},
) {
  const { service } = detail
  const following = mayFollow(user) ? await services.follows.isFollowing(user.id, service.id) : false
  const timeline = await services.market.timeline(service.id, detail.history)
  const eventsOn = new Map<string, string[]>()
  for (const event of timeline.events) eventsOn.set(event.date, [...(eventsOn.get(event.date) ?? []), event.title])
  // Each point names what happened that day (the chart's tooltip), so the chart reads like the list below it.
  const points = timeline.points.map((point) => ({
    at: point.at,
    rag: point.rag,
    label: formatDate(point.at),
    events: eventsOn.get(point.at) ?? [],
  }))
  return {
    follow: mayFollow(user)
      ? {
          following,
          action: `/services/${encodeURIComponent(service.ref)}/${following ? 'unfollow' : 'follow'}`,
          buttonText: following ? 'Unfollow this service' : 'Follow this service',
          digestEnabled: services.digest.enabled,
        }
      : null,
    providerHref: `/providers/${service.providerId}`,
    reportHref: `/services/${encodeURIComponent(service.ref)}/report`,
    // The timeline chart is drawn on request (`?timeline=chart`), so the page opens with one chart, its RAG history.
    timelineChartShown: query.timeline === 'chart',
    timelineCsvHref: `/services/${encodeURIComponent(service.ref)}/timeline.csv`,
    timelineChartHref: `/services/${encodeURIComponent(service.ref)}?timeline=chart#timeline`,
    timeline: {
      chart: {
        id: 'service-timeline',
        label: `Timeline of ${service.name}: the RAG the current rules give on each date with an observation or a RAG change, ${points.length} points from ${points[0]?.label ?? ''} to ${points[points.length - 1]?.label ?? ''}; every event is listed in the table below`,
        data: { type: 'rag-history', label: 'RAG under the current rules', timeScale: true, points },
      },
      events: timeline.events.map((event) => ({
        date: formatDate(event.date),
        kind: event.kind === 'rag_change' ? 'RAG change' : 'Observation',
        title: event.title,
        detail: event.detail,
        adverse: event.adverse,
        tag: event.rag ? ragTag(event.rag) : null,
      })),
    },
  }
}

/** Follow and unfollow a service (compliance and admin), for the morning digest. POST with the CSRF token. */
export function followRoutes(services: Services): Router {
  const router = Router()
  const change = (follow: boolean) =>
    async function handler(req: Request, res: Response, next: NextFunction) {
      const ref = refSchema.safeParse(req.params.ref)
      if (!ref.success) return next()
      const service = await services.serviceRepository.findByRef(ref.data)
      if (!service) return next()
      const user = req.user as RequestUser
      if (!mayFollow(user)) return next(new HttpError(403, 'Only a signed-in officer can follow a service'))
      if (follow) await services.follows.follow(user.id, service.id, actorOf(user))
      else await services.follows.unfollow(user.id, service.id, actorOf(user))
      res.redirect(303, `/services/${encodeURIComponent(service.ref)}#follow`)
    }
  router.post('/services/:ref/follow', requireRole(...FOLLOWER_ROLES), change(true))
  router.post('/services/:ref/unfollow', requireRole(...FOLLOWER_ROLES), change(false))
  return router
}
