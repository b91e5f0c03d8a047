import type { ActionKind, ComplianceAction } from '../data/complianceActions.js'
import type { Rag } from '../domain/vocabulary.js'
import { isOverdue } from './complianceService.js'
import type { Services } from './container.js'

export interface OpenActionFilter {
  kind?: ActionKind
  /** The owner exactly as recorded, case-insensitive. */
  owner?: string
  overdueOnly?: boolean
}

export interface OpenActionRow {
  action: ComplianceAction
  serviceRef: string
  serviceName: string
  providerName: string
  rag: Rag | null
  overdue: boolean
}

export interface OpenActions {
  rows: OpenActionRow[]
  /** Every owner of an open action, whatever the filter, for the owner filter's choices. */
  owners: string[]
}

/** Enough for every service of a borough's register: the list is all open actions, never one page of them. */
const EVERY_SERVICE = 100_000

/**
 * Open compliance actions across services, overdue first (most overdue first), then by due date and date opened.
 * Built from each service's own action list, so it reads exactly what the service page shows.
 */
export async function openActions(services: Services, filter: OpenActionFilter): Promise<OpenActions> {
  const today = services.clock.today()
  const { rows: listed } = await services.dashboard.list({ limit: EVERY_SERVICE, sort: 'name' })
  const all: OpenActionRow[] = []
  for (const service of listed) {
    for (const action of await services.compliance.actions.listForService(service.id)) {
      if (action.closedOn !== null) continue
      all.push({
        action,
        serviceRef: service.ref,
        serviceName: service.name,
        providerName: service.providerName,
        rag: service.rag,
        overdue: isOverdue(action, today),
      })
    }
  }
  const owners = [...new Set(all.map((row) => row.action.owner))].sort((a, b) => a.localeCompare(b, 'en-GB'))
  const owner = filter.owner?.toLocaleLowerCase('en-GB')
  const rows = all
    .filter((row) => !filter.kind || row.action.kind === filter.kind)
    .filter((row) => !owner || row.action.owner.toLocaleLowerCase('en-GB') === owner)
    .filter((row) => !filter.overdueOnly || row.overdue)
    .sort(
      (a, b) =>
        Number(b.overdue) - Number(a.overdue) ||
        (a.action.dueOn ?? '9999-12-31').localeCompare(b.action.dueOn ?? '9999-12-31') ||
        a.action.openedOn.localeCompare(b.action.openedOn) ||
        a.action.id - b.action.id,
    )
  return { rows, owners }
}
