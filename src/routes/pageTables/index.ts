import type { ExportTable } from '../../services/csvExport.js'
import { MAIN_PAGE_TABLES } from './mainPages.js'
import { OTHER_PAGE_TABLES } from './otherPages.js'
import type { Model } from './tables.js'

/** Every table view's tables, by view name, built from the view-model it renders. */
const PAGE_TABLES: Record<string, (model: Model) => ExportTable[]> = {
  ...MAIN_PAGE_TABLES,
  ...OTHER_PAGE_TABLES,
}

/** The views with tables. */
export const TABLE_VIEWS: readonly string[] = Object.keys(PAGE_TABLES)

/** Views that link a CSV export of their own (their template names `csvHref`): no link to their tables as CSV. */
const OWN_EXPORT: ReadonlySet<string> = new Set([
  'pages/dashboard',
  'pages/market',
  'pages/provider',
  'pages/providers',
])

/** The tables `view` shows for `model` (its view-model with `res.locals`), or null for a view without tables. */
export function pageTables(view: string, model: Model): ExportTable[] | null {
  const tablesOf = PAGE_TABLES[view]
  return tablesOf ? tablesOf(model) : null
}

/** Whether a page view draws tables and has no CSV export of its own. */
export function linksItsTables(view: string): boolean {
  return view in PAGE_TABLES && !OWN_EXPORT.has(view)
}
