import type { RequestUser } from '../auth/requestUser.js'
import { FOLLOWER_ROLES } from '../data/follows.js'
import type { Services } from '../services/container.js'
import type { ChangedService } from '../services/dashboardService.js'
import { ragSinceText, ragTag } from './display.js'

export interface FollowedServiceRow {
  href: string
  name: string
  providerName: string
  tag: ReturnType<typeof ragTag> | null
  since: string | null
  /** Its change in the page's period, "Amber to Red", or null when it kept its colour. */
  change: string | null
}

/**
 * "Services I follow" on the morning page: each followed service's RAG now, since when, and whether it changed in
 * the period the changed list shows. Null for API tokens and roles that cannot follow.
 */
export async function followedServiceRows(
  services: Services,
  user: RequestUser | undefined,
  changes: readonly ChangedService[],
): Promise<FollowedServiceRow[] | null> {
  if (!user || user.via !== 'session' || !(FOLLOWER_ROLES as readonly string[]).includes(user.role)) return null
  const followed = await services.follows.followedBy(user.id)
  if (followed.length === 0) return []
  const { rows } = await services.dashboard.list({
    ref: followed.map((f) => f.ref),
    limit: followed.length,
    sort: 'rag',
  })
  const changeOf = new Map(changes.map((c) => [c.ref, c.change]))
  return rows.map((row) => {
    const change = changeOf.get(row.ref)
    return {
      href: `/services/${encodeURIComponent(row.ref)}`,
      name: row.name,
      providerName: row.providerName,
      tag: row.rag ? ragTag(row.rag) : null,
      since: row.rag && row.changedAt ? ragSinceText(row.rag, row.changedAt, services.config.TZ) : null,
      change: change
        ? `${change.fromRag ? `${ragTag(change.fromRag).text} to ` : 'New: '}${ragTag(change.toRag).text}`
        : null,
    }
  })
}
