import { Router } from 'express'
import { z } from 'zod'
import type { Rag } from '../domain/vocabulary.js'
import type { Services } from '../services/container.js'
import type { ServiceDetail } from '../services/dashboardService.js'
import { complianceSection } from './compliance.js'
import { servicePageAdditions } from './follow.js'
import {
  ageText,
  formatDate,
  formatDateTime,
  indicatorLabel,
  ragSinceText,
  ragTag,
  runSourceLabel,
  serviceTypeLabel,
  sourceLabel,
  staleGreenInputs,
} from './display.js'
import type { SourceFreshness } from '../data/runs.js'
import { membershipRows } from './serviceMemberships.js'

const refSchema = z.string().trim().min(1).max(100)

const CONTRACT_STATUS_LABELS: Record<string, string> = {
  contracted: 'Contracted',
  spot: 'Spot purchase',
  off_contract: 'Off contract',
}

/** Whether the signed-in user may see intelligence notes and references (SPEC §1: not assessors). */
export function canSeeIntelligence(role: string | undefined): boolean {
  return role === 'compliance' || role === 'admin'
}

/** The overnight run's source (source_runs.source) that refreshes observations of each source. */
const RUN_SOURCE_OF: Partial<Record<string, string>> = {
  cqc_api: 'cqc',
  cqc_file: 'cqc',
  fhrs_api: 'fhrs',
  fhrs_xml: 'fhrs',
  companies_house: 'companies_house',
  council_inbox: 'council_inbox',
}

/**
 * SPEC §6: a source that failed keeps its last good data, marked stale. Notes by observation source, e.g. fhrs_api:
 * "Not refreshed: the last Food hygiene (FSA) refresh failed on 3 June 2026 at 02:07".
 */
function failedSourceNotes(freshness: readonly SourceFreshness[], timeZone: string): Map<string, string> {
  const notes = new Map<string, string>()
  for (const [observationSource, runSource] of Object.entries(RUN_SOURCE_OF)) {
    const state = freshness.find((s) => s.source === runSource)
    if (state?.lastAttemptStatus !== 'failed') continue
    notes.set(
      observationSource,
      `Not refreshed: the last ${runSourceLabel(state.source)} refresh failed on ${formatDateTime(state.lastAttemptAt, timeZone)}`,
    )
  }
  return notes
}

export function servicePageViewModel(
  detail: ServiceDetail,
  services: Services,
  role: string | undefined,
  freshness: readonly SourceFreshness[] = [],
) {
  const today = services.clock.today()
  const tz = services.config.TZ
  const sourceNotes = failedSourceNotes(freshness, tz)
  const { service, risk } = detail
  const seeNotes = canSeeIntelligence(role)
  const chartPoints = detail.history.map((point) => ({ at: point.asOf, rag: point.rag, label: formatDate(point.asOf) }))
  if (risk && chartPoints.length > 0 && chartPoints[chartPoints.length - 1]?.at !== today) {
    chartPoints.push({ at: today, rag: risk.rag, label: formatDate(today) })
  }
  return {
    pageTitle: service.name,
    service: {
      ref: service.ref,
      name: service.name,
      providerName: service.providerName,
      type: serviceTypeLabel(service.serviceType),
      area: service.area,
      capacity:
        service.capacity === null
          ? 'Not recorded'
          : service.serviceType === 'home_care'
            ? `${service.capacity} hours a week`
            : `${service.capacity} beds`,
      contractStatus: CONTRACT_STATUS_LABELS[service.contractStatus] ?? service.contractStatus,
      cqcLocationId: service.cqcLocationId,
      cqcProviderId: service.cqcProviderId,
      companiesHouseNumber: service.companiesHouseNumber,
      fhrsId: service.fhrsId,
      deregisteredOn: service.deregisteredOn ? formatDate(service.deregisteredOn) : null,
    },
    risk: risk
      ? {
          tag: ragTag(risk.rag),
          computedTag: ragTag(risk.computedRag),
          overridden: Boolean(risk.override),
          override: risk.override
            ? {
                tag: ragTag(risk.override.rag),
                reason: risk.override.reason,
                expiresOn: formatDate(risk.override.expiresOn),
              }
            : null,
          score: Math.round(risk.score * 10) / 10,
          reasons: risk.reasons,
          asOf: formatDate(risk.asOf),
          ragSince: detail.changedAt ? ragSinceText(risk.rag, detail.changedAt, tz) : null,
          flags: risk.flags,
          staleInputs: staleGreenInputs(risk).join(', '),
          indicators: risk.indicators.map((indicator) => ({
            key: indicator.key,
            label: indicatorLabel(indicator.key),
            tag: ragTag(indicator.level),
            value: indicator.value ?? 'No data',
            date: formatDate(indicator.date),
            since: indicator.date ? ageText(indicator.date, today) : '',
            source: sourceLabel(indicator.source),
            sourceNote: indicator.source ? (sourceNotes.get(indicator.source) ?? null) : null,
            reason: indicator.reason,
            stale: indicator.stale || (indicator.source !== null && sourceNotes.has(indicator.source)),
          })),
        }
      : null,
    chart: {
      id: 'rag-history',
      data: { type: 'rag-history', label: 'Overall RAG', points: chartPoints },
      label: `RAG history for ${service.name}: ${
        chartPoints.length === 0
          ? 'no history yet'
          : `${chartPoints.length} points from ${chartPoints[0]?.label} to ${chartPoints[chartPoints.length - 1]?.label}; the same data is in the table of RAG changes`
      }`,
    },
    historyRows: [...detail.history].reverse().map((point) => ({
      date: formatDate(point.asOf),
      tag: ragTag(point.rag as Rag),
      overridden: point.rag !== point.computedRag,
    })),
    observations: detail.observations.map((o) => ({
      indicator: indicatorLabel(o.indicator),
      date: formatDate(o.observedOn),
      endDate: o.endDate ? formatDate(o.endDate) : null,
      value: o.value.replaceAll('_', ' '),
      source: sourceLabel(o.source),
      reference: seeNotes ? o.reference : null,
      notes: seeNotes ? o.notes : null,
      enteredBy: seeNotes ? o.enteredBy : null,
      superseded: o.supersededById !== null,
      recordedAt: formatDateTime(o.recordedAt, tz),
    })),
    seeNotes,
  }
}

/** The service page: overall RAG with reasons, every indicator, history chart and the observations behind them. */
export function servicePageRoutes(services: Services): Router {
  const router = Router()
  router.get('/services/:ref', async (req, res, next) => {
    const ref = refSchema.safeParse(req.params.ref)
    if (!ref.success) return next()
    const detail = await services.dashboard.serviceDetail(ref.data)
    if (!detail) return next()
    const role = res.locals.user?.role
    // Overrides, compliance actions and the audit trail: compliance and admin only (null for assessors).
    const compliance = await complianceSection(services, detail.service, role)
    // Follow button, provider and report links, and the timeline (the market feature).
    const market = await servicePageAdditions(services, detail, req.user, req.query)
    const freshness = await services.runs.sourceFreshness()
    const memberships = membershipRows(
      await services.dpsRepository.membershipsForService(detail.service.id),
      services.config.TZ,
    )
    res.render('pages/service', {
      ...servicePageViewModel(detail, services, role, freshness),
      compliance,
      market,
      memberships,
    })
  })
  return router
}
