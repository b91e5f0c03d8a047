import { Router } from 'express'
import { requireRole } from '../auth/authentication.js'
import { ACTION_KIND_LABELS } from '../data/complianceActions.js'
import { daysBetween } from '../domain/dates.js'
import type { Services } from '../services/container.js'
import type { MorningView } from '../services/morningService.js'
import { COMPLIANCE_ROLES } from './compliance.js'
import { sourceFreshnessLines } from './dashboard.js'
import { formatDate, formatDateTime, ragTag } from './display.js'
import { inboxFileRows, leftInInboxRows } from './inboxFiles.js'
import { changePeriodSchema, changeRow, changesPeriodViewModel } from './changes.js'
import { fieldErrors } from './queryParams.js'
import { followedServiceRows } from './followedServices.js'
import { z } from 'zod'

function servicePath(ref: string): string {
  return `/services/${encodeURIComponent(ref)}`
}

function daysText(days: number): string {
  return `${days} day${days === 1 ? '' : 's'}`
}

export function morningViewModel(view: MorningView, services: Services) {
  const today = services.clock.today()
  const tz = services.config.TZ
  return {
    pageTitle: 'My morning',
    today: formatDate(today),
    lastRun: view.lastFullRun
      ? { finishedAt: formatDateTime(view.lastFullRun.finishedAt ?? view.lastFullRun.publishedAt, tz) }
      : null,
    ragChanges: view.ragChanges.map((c) => changeRow(c, tz)),
    changesPeriod: changesPeriodViewModel(view.changesPeriod, view.changesSince, tz, '/morning', {
      period: view.changesPeriod,
    }),
    eligibilityEvents: view.eligibilityEvents.map((event) => ({
      href: servicePath(event.serviceRef),
      name: event.serviceName,
      dps: `${event.dpsName}, ${event.lotName}`,
      eligible: event.eligible,
      change: event.eligible ? 'Regained eligibility' : 'Lost eligibility',
      // Lost: the failing gates; regained: what it had been lost on.
      reasons: event.reasons,
      at: formatDateTime(event.at, tz),
    })),
    reviewTasks: view.reviewTasks.map((task) => ({
      href: servicePath(task.serviceRef),
      name: task.serviceName,
      what: task.dpsName
        ? `Review membership of ${task.dpsName}${task.lotName ? `, ${task.lotName}` : ''}`
        : 'Review membership',
      dpsHref: task.dpsId === null ? null : '/dps',
      openedAt: formatDateTime(task.openedAt, tz),
    })),
    overdueActions: view.overdueActions.map((action) => ({
      href: `${servicePath(action.serviceRef)}/actions/${action.id}`,
      serviceHref: servicePath(action.serviceRef),
      name: action.serviceName,
      kind: ACTION_KIND_LABELS[action.kind],
      owner: action.owner,
      dueOn: formatDate(action.dueOn),
      overdueBy: action.dueOn ? daysText(daysBetween(action.dueOn, today)) : '',
    })),
    actionPlansDue: view.actionPlansDue.map((due) => ({
      href: servicePath(due.serviceRef),
      openHref: `${servicePath(due.serviceRef)}/actions/new?kind=action_plan&due=${due.dueOn}`,
      name: due.serviceName,
      outcome: due.outcome === 'poor' ? 'Poor' : 'Requires Improvement',
      assessedOn: formatDate(due.assessedOn),
      dueOn: formatDate(due.dueOn),
      overdue: due.dueOn < today,
    })),
    expiringOverrides: view.expiringOverrides.map((override) => ({
      href: `${servicePath(override.serviceRef)}/override`,
      serviceHref: servicePath(override.serviceRef),
      name: override.serviceName,
      tag: ragTag(override.rag),
      expiresOn: formatDate(override.expiresOn),
      inDays: daysBetween(today, override.expiresOn),
      reason: override.reason,
    })),
    assessmentsOverdue: {
      rows: view.assessmentsOverdue.listed.map((entry) => ({
        href: servicePath(entry.ref),
        name: entry.name,
        tag: ragTag(entry.rag),
        lastAssessed: formatDate(entry.lastAssessmentDate),
        dueOn: formatDate(entry.dueOn),
        overdueBy: daysText(entry.daysOverdue ?? 0),
      })),
      total: view.assessmentsOverdue.total,
      more: view.assessmentsOverdue.total - view.assessmentsOverdue.listed.length,
      neverAssessed: view.assessmentsOverdue.neverAssessed,
    },
    failedSources: sourceFreshnessLines(view.failedSources, tz, today),
  }
}

/** `/morning`: the compliance officer's start of the day (SPEC §7). */
export function morningRoutes(services: Services): Router {
  const router = Router()
  router.get('/morning', requireRole(...COMPLIANCE_ROLES), async (req, res) => {
    const period = z.object({ period: changePeriodSchema }).safeParse(req.query)
    if (!period.success) {
      return res.status(400).render('pages/bad-request', {
        pageTitle: 'There is a problem with the period',
        errors: fieldErrors(period.error),
        backHref: '/morning',
      })
    }
    const view = await services.morning.morning(period.data.period)
    // The council files the last overnight run read from the inbox (SPEC §6).
    const councilFiles = view.lastFullRun ? await services.inbox.filesForRun(view.lastFullRun.id) : []
    // And what it left there, and why: a file dropped moments before the run waits for the next one.
    const leftInInbox = view.lastFullRun ? await services.inbox.skippedForRun(view.lastFullRun.id) : []
    const followedRows = await followedServiceRows(services, req.user, view.ragChanges)
    const followed = followedRows ? { rows: followedRows } : null
    res.render('pages/morning', {
      ...morningViewModel(view, services),
      followed,
      councilFiles: inboxFileRows(councilFiles),
      leftInInbox: leftInInboxRows(leftInInbox),
    })
  })
  return router
}
