import { Router } from 'express'
import { z } from 'zod'
import { addMonths, parseCouncilDate } from '../domain/dates.js'
import {
  MIX_DIMENSIONS,
  MIX_LABELS,
  MIX_TITLES,
  type GroupMix,
  type MarketMovement,
  type MixDimension,
  type MixTable,
  type ProviderRollup,
} from '../domain/market.js'
import type { Services } from '../services/container.js'
import { csvFileName, toCsv, type CsvColumn } from '../services/csvExport.js'
import type { MarketSummaryView } from '../services/marketService.js'
import { formatDate, serviceTypeLabel, withQuery } from './display.js'

const dateField = z
  .string()
  .trim()
  .max(20, 'Enter a date such as 2025-11-23')
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value === '') return undefined
    const parsed = parseCouncilDate(value)
    if (parsed === null) {
      ctx.addIssue({ code: 'custom', message: 'Enter a real date, for example 2025-11-23 or 23/11/2025' })
      return z.NEVER
    }
    return parsed
  })

export const marketQuerySchema = z.object({
  from: dateField,
  to: dateField,
  mix: z.enum(MIX_DIMENSIONS, { error: `must be one of ${MIX_DIMENSIONS.join(', ')}` }).default('cqc'),
})

export interface MarketQuery {
  from: string
  to: string
  mix: MixDimension
}

export type MarketQueryResult =
  | { ok: true; query: MarketQuery }
  | { ok: false; errors: Array<{ field: string; message: string }>; raw: { from: string; to: string; mix: string } }

function rawText(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

/**
 * Reads `from`, `to` (ISO or UK dates; default today and 12 months before `to`) and `mix`. Both dates must be today
 * or earlier and `from` before `to`.
 */
export function parseMarketQuery(query: Record<string, unknown>, today: string): MarketQueryResult {
  const raw = { from: rawText(query.from), to: rawText(query.to), mix: rawText(query.mix) }
  const parsed = marketQuerySchema.safeParse(query)
  if (!parsed.success) {
    return {
      ok: false,
      raw,
      errors: parsed.error.issues.map((issue) => ({
        field: issue.path.join('.') || '(request)',
        message: issue.message,
      })),
    }
  }
  const to = parsed.data.to ?? today
  const from = parsed.data.from ?? addMonths(to, -12)
  const errors: Array<{ field: string; message: string }> = []
  if (to > today) errors.push({ field: 'to', message: 'The later date must be today or in the past' })
  if (from >= to) errors.push({ field: 'from', message: 'The earlier date must be before the later date' })
  if (errors.length > 0) return { ok: false, raw, errors }
  return { ok: true, query: { from, to, mix: parsed.data.mix } }
}

/** Chart colours (names from public/js/rag-chart.js) for each category of a mix. */
const CATEGORY_COLOURS: Record<MixDimension, Record<string, string>> = {
  cqc: {
    outstanding: 'green',
    good: 'turquoise',
    requires_improvement: 'orange',
    inadequate: 'red',
    not_inspected: 'grey',
  },
  quality: { excellent: 'green', good: 'turquoise', requires_improvement: 'orange', poor: 'red', not_assessed: 'grey' },
  rag: { green: 'green', amber: 'amber', red: 'red' },
}

function signed(points: number): string {
  const rounded = Math.round(points * 10) / 10
  return rounded > 0 ? `+${rounded}` : String(rounded)
}

function overallMixView(
  id: string,
  table: MixTable,
  fromLabel: string,
  toLabel: string,
  services: { from: number; to: number },
) {
  const title = MIX_TITLES[table.dimension]
  return {
    id,
    title,
    chart: {
      id: `market-${id}`,
      label: `${title} mix of the contracted market, percent of services, on ${fromLabel} and on ${toLabel}; the same figures are in the table beside the chart`,
      data: {
        type: 'bar',
        labels: table.rows.map((row) => row.label),
        datasets: [
          { label: fromLabel, data: table.rows.map((row) => row.from.percent), colour: 'grey' },
          { label: toLabel, data: table.rows.map((row) => row.to.percent), colour: 'blue' },
        ],
      },
    },
    rows: table.rows.map((row) => ({
      label: row.label,
      from: row.from,
      to: row.to,
      change: signed(row.to.percent - row.from.percent),
    })),
    services,
  }
}

function groupedView(
  id: string,
  title: string,
  groups: GroupMix[],
  mix: MixDimension,
  fromLabel: string,
  toLabel: string,
) {
  const categories = groups[0]?.mixes[mix].rows.map((row) => ({ key: row.key, label: row.label })) ?? []
  const labels = groups.flatMap((group) => [`${group.label} (${fromLabel})`, `${group.label} (${toLabel})`])
  return {
    id,
    title,
    categories,
    empty: groups.length === 0,
    chart: {
      id: `market-${id}`,
      classes: groups.length > 3 ? 'app-chart--tall' : undefined,
      label: `${MIX_TITLES[mix]} mix ${title.toLowerCase()}, percent of each group's services on ${fromLabel} and on ${toLabel}; the same figures are in the table below the chart`,
      data: {
        type: 'bar',
        horizontal: true,
        stacked: true,
        percentAxis: true,
        labels,
        datasets: categories.map((category) => ({
          label: category.label,
          colour: CATEGORY_COLOURS[mix][category.key] ?? 'blue',
          data: groups.flatMap((group) => {
            const row = group.mixes[mix].rows.find((r) => r.key === category.key)
            return [row?.from.percent ?? 0, row?.to.percent ?? 0]
          }),
        })),
      },
    },
    rows: groups.flatMap((group) =>
      (['from', 'to'] as const).map((when, index) => ({
        group: group.label,
        first: index === 0,
        date: when === 'from' ? fromLabel : toLabel,
        total: group.services[when],
        cells: group.mixes[mix].rows.map((row) => row[when]),
      })),
    ),
  }
}

function movementRows(movements: MarketMovement[]) {
  return movements.map((m) => ({
    ref: m.ref,
    name: m.name,
    providerName: m.providerName,
    type: serviceTypeLabel(m.serviceType),
    area: m.area,
    on: m.on ? formatDate(m.on) : 'Date not recorded',
    detail: m.detail,
  }))
}

function providerRows(providers: ProviderRollup[]) {
  return providers.map((p) => ({
    href: `/providers/${p.providerId}`,
    name: p.providerName,
    services: p.services,
    red: p.counts.red,
    amber: p.counts.amber,
    green: p.counts.green,
    flags: p.flags.filter((flag) => flag.marketRisk).map((flag) => flag.text),
  }))
}

export function marketViewModel(summary: MarketSummaryView, query: MarketQuery) {
  const fromLabel = formatDate(summary.from)
  const toLabel = formatDate(summary.to)
  const dates = { from: summary.from, to: summary.to }
  const mixTitle = MIX_TITLES[query.mix]
  return {
    pageTitle: 'Market summary',
    form: { from: summary.from, to: summary.to, mix: query.mix },
    fromLabel,
    toLabel,
    ruleSetVersion: summary.ruleSetVersion,
    services: summary.overall.services,
    overall: [
      overallMixView('cqc', summary.overall.mixes.cqc, fromLabel, toLabel, summary.overall.services),
      overallMixView('quality', summary.overall.mixes.quality, fromLabel, toLabel, summary.overall.services),
      overallMixView('rag', summary.overall.mixes.rag, fromLabel, toLabel, summary.overall.services),
    ],
    mixTitle,
    mixLinks: MIX_DIMENSIONS.map((mix) => ({
      text: MIX_TITLES[mix],
      href: `${withQuery('/market', { ...dates, mix: mix === 'cqc' ? undefined : mix }, {})}#groups`,
      current: mix === query.mix,
    })),
    groups: [
      groupedView('by-type', 'By service type', summary.byType, query.mix, fromLabel, toLabel),
      groupedView('by-area', 'By area', summary.byArea, query.mix, fromLabel, toLabel),
      groupedView('by-dps', 'By DPS', summary.byDps, query.mix, fromLabel, toLabel),
    ],
    entries: movementRows(summary.entries),
    exits: movementRows(summary.exits),
    capacity: {
      chart: {
        id: 'market-capacity',
        label: `Share of capacity at risk (Amber or Red), percent, on ${fromLabel} and on ${toLabel}; the same figures are in the table beside the chart`,
        data: {
          type: 'bar',
          labels: summary.capacity.map((row) => row.label),
          datasets: [
            {
              label: fromLabel,
              colour: 'grey',
              data: summary.capacity.map((row) => percent(row.from.atRisk, row.from.total)),
            },
            {
              label: toLabel,
              colour: 'orange',
              data: summary.capacity.map((row) => percent(row.to.atRisk, row.to.total)),
            },
          ],
        },
      },
      rows: summary.capacity.map((row) => ({
        label: row.label,
        from: { ...row.from, percent: percent(row.from.atRisk, row.from.total) },
        to: { ...row.to, percent: percent(row.to.atRisk, row.to.total) },
      })),
    },
    providers: providerRows(summary.providers),
    csvHref: withQuery('/market.csv', dates, {}),
    apiHref: withQuery('/api/v1/market', dates, {}),
  }
}

function percent(part: number, total: number): number {
  return total === 0 ? 0 : Math.round((part * 1000) / total) / 10
}

interface MarketCsvRow {
  table: string
  group: string
  category: string
  fromCount: number | null
  fromPercent: number | null
  toCount: number | null
  toPercent: number | null
  detail: string
}

/** Every table of the summary as rows of one CSV. */
export function marketCsvRows(summary: MarketSummaryView): MarketCsvRow[] {
  const rows: MarketCsvRow[] = []
  const mixRows = (table: string, group: GroupMix) => {
    rows.push({
      table,
      group: group.label,
      category: 'Services',
      fromCount: group.services.from,
      fromPercent: null,
      toCount: group.services.to,
      toPercent: null,
      detail: '',
    })
    for (const mix of MIX_DIMENSIONS) {
      for (const row of group.mixes[mix].rows) {
        rows.push({
          table,
          group: group.label,
          category: `${MIX_TITLES[mix]}: ${MIX_LABELS[mix][row.key] ?? row.key}`,
          fromCount: row.from.count,
          fromPercent: row.from.percent,
          toCount: row.to.count,
          toPercent: row.to.percent,
          detail: '',
        })
      }
    }
  }
  mixRows('Overall', summary.overall)
  for (const group of summary.byType) mixRows('By service type', group)
  for (const group of summary.byArea) mixRows('By area', group)
  for (const group of summary.byDps) mixRows('By DPS', group)
  for (const row of summary.capacity) {
    for (const rag of ['red', 'amber', 'green'] as const) {
      rows.push({
        table: 'Capacity by RAG',
        group: row.label,
        category: MIX_LABELS.rag[rag] ?? rag,
        fromCount: row.from[rag],
        fromPercent: percent(row.from[rag], row.from.total),
        toCount: row.to[rag],
        toPercent: percent(row.to[rag], row.to.total),
        detail: '',
      })
    }
  }
  const movement = (table: string, m: MarketMovement) =>
    rows.push({
      table,
      group: m.kind,
      category: `${m.name} (${m.ref})`,
      fromCount: null,
      fromPercent: null,
      toCount: null,
      toPercent: null,
      detail: `${m.detail}; ${m.providerName}; ${serviceTypeLabel(m.serviceType)}; ${m.area}`,
    })
  for (const m of summary.entries) movement('Entries', m)
  for (const m of summary.exits) movement('Exits', m)
  return rows
}

function marketCsvColumns(from: string, to: string): Array<CsvColumn<MarketCsvRow>> {
  return [
    { header: 'Table', value: (r) => r.table },
    { header: 'Group', value: (r) => r.group },
    { header: 'Category', value: (r) => r.category },
    { header: `Count on ${from}`, value: (r) => r.fromCount },
    { header: `Percent on ${from}`, value: (r) => r.fromPercent },
    { header: `Count on ${to}`, value: (r) => r.toCount },
    { header: `Percent on ${to}`, value: (r) => r.toPercent },
    { header: 'Detail', value: (r) => r.detail },
  ]
}

/** The market summary page and its CSV (every role: SPEC §1 gives commissioners the market view). */
export function marketRoutes(services: Services): Router {
  const router = Router()

  router.get('/market', async (req, res) => {
    const parsed = parseMarketQuery(req.query, services.clock.today())
    if (!parsed.ok) {
      return res.status(400).render('pages/market', {
        pageTitle: 'Market summary',
        errors: parsed.errors.map((e) => ({
          text: `${e.message}`,
          href: `#${e.field === 'mix' ? 'groups' : e.field}`,
        })),
        fieldErrors: Object.fromEntries(parsed.errors.map((e) => [e.field, e.message])),
        form: parsed.raw,
      })
    }
    const summary = await services.market.summary(parsed.query.from, parsed.query.to)
    res.render('pages/market', marketViewModel(summary, parsed.query))
  })

  router.get('/market.csv', async (req, res) => {
    const parsed = parseMarketQuery(req.query, services.clock.today())
    if (!parsed.ok) {
      return res
        .status(400)
        .type('text/plain')
        .send(parsed.errors.map((e) => `${e.field}: ${e.message}`).join('\n'))
    }
    const summary = await services.market.summary(parsed.query.from, parsed.query.to)
    res
      .type('text/csv; charset=utf-8')
      .attachment(csvFileName(`market-summary-${summary.from}-to-${summary.to}`))
      .send(toCsv(marketCsvColumns(summary.from, summary.to), marketCsvRows(summary)))
  })

  return router
}
