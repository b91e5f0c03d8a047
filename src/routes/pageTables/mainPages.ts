import type { ExportTable } from '../../services/csvExport.js'
import { column, listText, rowsAt, shows, table, tablesOf, text, words, type Model, type TableSpec } from './tables.js'

// The tables of the dashboard, service, provider, market, morning and due-next pages, column for column as their
// templates (views/pages/*.hbs) draw them from the same view-models.

/** views/partials/changes/table.hbs */
function changesTable(id: string | null, title: TableSpec['title'], path: string, when?: TableSpec['when']): TableSpec {
  return table(
    id,
    title,
    path,
    [
      { header: 'Service', cell: (r) => words(text(r, 'name'), text(r, 'providerName')) },
      { header: 'Was', cell: (r) => (shows(r, 'from') ? text(r, 'from.text') : 'New') },
      column('Now', 'to.text'),
      column('Why', 'reason'),
      column('When', 'at'),
      column('Cause', 'cause'),
    ],
    when,
  )
}

/** views/partials/inbox/files.hbs */
function inboxFilesTable(id: string, title: string, path: string): TableSpec {
  return table(
    id,
    title,
    path,
    [
      { header: 'File', cell: (r) => words(text(r, 'name'), text(r, 'note')) },
      column('Kind', 'kind'),
      column('Status', 'status.text'),
      column('Rows read', 'rowsRead'),
      column('Imported', 'imported'),
      column('Rejected', 'rejected'),
      column('Already known', 'duplicate'),
      column('Now in', 'where'),
    ],
    (m) => shows(m, path),
  )
}

/** views/partials/inbox/left.hbs */
function inboxLeftTable(id: string, title: TableSpec['title'], path: string): TableSpec {
  return table(
    id,
    title,
    path,
    [column('Entry', 'name'), column('Status', 'status.text'), column('Why', 'reason')],
    (m) => shows(m, path),
  )
}

export const INBOX_TABLES = { inboxFilesTable, inboxLeftTable }

const DASHBOARD: TableSpec[] = [
  changesTable(
    null,
    (m) => text(m, 'changesPeriod.heading'),
    'changes',
    (m) => shows(m, 'changes'),
  ),
  {
    id: 'services-table',
    title: 'Services, sorted by column; select a column heading to sort',
    rows: (m) => rowsAt(m, 'rows'),
    columns: [
      {
        header: 'RAG',
        cell: (r) =>
          words(
            text(r, 'tag.text'),
            shows(r, 'overridden') && 'Override',
            shows(r, 'deteriorating') && 'Deteriorating',
            shows(r, 'staleInputs') && `Stale: ${text(r, 'staleInputs')}`,
          ),
      },
      { header: 'Service', cell: (r) => words(text(r, 'name'), text(r, 'reason')) },
      column('Provider', 'providerName'),
      column('Type', 'type'),
      column('Area', 'area'),
      column('DPS eligibility', 'eligibility'),
      { header: 'Last change', cell: (r) => words(text(r, 'changed'), text(r, 'changedAge')) },
    ],
  },
]

function dashboardTables(model: Model): ExportTable[] {
  const tables = tablesOf(DASHBOARD, model)
  // The services table's headings are the page's sort links.
  const headings = rowsAt(model, 'columns').map((c) => text(c, 'text'))
  const services = tables.find((t) => t.id === 'services-table')
  if (services && headings.length === services.header.length) services.header = headings
  return tables
}

const SERVICE: TableSpec[] = [
  table(
    'dps-memberships-table',
    'DPS memberships',
    'memberships',
    [
      { header: 'DPS and lot', cell: (r) => words(text(r, 'dps'), text(r, 'lot')) },
      { header: 'Membership', cell: (r) => words(text(r, 'statusTag.text'), `since ${text(r, 'statusSince')}`) },
      {
        header: 'Eligible now',
        cell: (r) =>
          words(
            shows(r, 'eligibleTag') ? text(r, 'eligibleTag.text') : text(r, 'eligible'),
            listText(r, 'failingGates'),
            shows(r, 'evaluatedAt') && `checked ${text(r, 'evaluatedAt')}`,
          ),
      },
    ],
    (m) => shows(m, 'memberships'),
  ),
  table(
    'indicators-table',
    'Indicators',
    'risk.indicators',
    [
      column('Indicator', 'label'),
      column('Level', 'tag.text'),
      { header: 'Value', cell: (r) => words(text(r, 'value'), text(r, 'reason')) },
      {
        header: 'Date',
        cell: (r) => words(text(r, 'date'), text(r, 'since'), shows(r, 'stale') && 'Stale'),
      },
      { header: 'Source', cell: (r) => words(text(r, 'source'), text(r, 'sourceNote')) },
    ],
    (m) => shows(m, 'risk'),
  ),
  table('history-table', 'RAG changes', 'historyRows', [
    column('Date', 'date'),
    { header: 'RAG', cell: (r) => words(text(r, 'tag.text'), shows(r, 'overridden') && '(override)') },
  ]),
  table(
    'timeline-table',
    'Events, newest first',
    'market.timeline.events',
    [
      column('Date', 'date'),
      { header: 'Event', cell: (r) => words(text(r, 'kind'), shows(r, 'adverse') && 'Adverse') },
      {
        header: 'What happened',
        cell: (r) => words(shows(r, 'tag') && text(r, 'tag.text'), text(r, 'title'), text(r, 'detail')),
      },
    ],
    (m) => shows(m, 'market'),
  ),
  table('observations-table', 'Observations', 'observations', [
    { header: 'Date', cell: (r) => words(text(r, 'date'), shows(r, 'endDate') && `to ${text(r, 'endDate')}`) },
    column('Indicator', 'indicator'),
    { header: 'Value', cell: (r) => words(text(r, 'value'), shows(r, 'superseded') && '(earlier version)') },
    { header: 'Source', cell: (r) => words(text(r, 'source'), `recorded ${text(r, 'recordedAt')}`) },
    {
      header: 'Reference and notes',
      cell: (r) => words(text(r, 'reference'), text(r, 'notes'), shows(r, 'enteredBy') && `by ${text(r, 'enteredBy')}`),
      when: (m) => shows(m, 'seeNotes'),
    },
  ]),
  table(
    'compliance-actions-table',
    'Compliance actions',
    'compliance.actions',
    [
      { header: 'Action', cell: (r) => words(text(r, 'kind'), text(r, 'outcome')) },
      column('State', 'state.tag.text'),
      column('Owner', 'owner'),
      column('Opened', 'openedOn'),
      column('Due', 'dueOn'),
      column('Closed', 'closedOn'),
    ],
    (m) => shows(m, 'compliance') && shows(m, 'compliance.actions'),
  ),
  table(
    'service-audit-table',
    'Audit log',
    'compliance.audit',
    [
      column('When', 'at'),
      column('Who', 'actor'),
      { header: 'What', cell: (r) => words(text(r, 'action'), text(r, 'summary')) },
    ],
    (m) => shows(m, 'compliance') && shows(m, 'compliance.audit'),
  ),
]

const PROVIDER: TableSpec[] = [
  table('provider-areas', 'By area', 'rollup.byArea', [
    column('Area', 'area'),
    column('Red', 'red'),
    column('Amber', 'amber'),
    column('Green', 'green'),
  ]),
  table('provider-services', 'Services', 'services', [
    { header: 'RAG', cell: (r) => words(text(r, 'tag.text'), shows(r, 'deteriorating') && 'Deteriorating') },
    { header: 'Service', cell: (r) => words(text(r, 'name'), text(r, 'reason')) },
    column('Type', 'type'),
    column('Area', 'area'),
    column('Last change', 'changed'),
  ]),
]

const PROVIDERS: TableSpec[] = [
  table('providers-table', 'Providers', 'rows', [
    { header: 'Provider', cell: (r) => words(text(r, 'name'), shows(r, 'marketRisk') && 'Market risk') },
    column('Services', 'services'),
    column('Red', 'red'),
    column('Amber', 'amber'),
    column('Green', 'green'),
    { header: 'Flags', cell: (r) => listText(r, 'flags', '; ') },
  ]),
]

const percentOf = (r: Model, side: string) => `${text(r, `${side}.count`)} (${text(r, `${side}.percent`)}%)`
const atRiskOf = (r: Model, side: string) =>
  `${text(r, `${side}.atRisk`)} of ${text(r, `${side}.total`)} (${text(r, `${side}.percent`)}%)`
const entryColumns = [
  {
    header: 'Service',
    cell: (r: Model) => words(text(r, 'name'), [text(r, 'providerName'), text(r, 'type'), text(r, 'area')].join(' · ')),
  },
  column('What', 'detail'),
  column('When', 'on'),
]

function marketTables(model: Model): ExportTable[] {
  const fromLabel = text(model, 'fromLabel')
  const toLabel = text(model, 'toLabel')
  const mixes: ExportTable[] = rowsAt(model, 'overall').map((mix) => ({
    id: `mix-${text(mix, 'id')}`,
    title: `${text(mix, 'title')} of contracted services`,
    header: ['Rating', fromLabel, toLabel, 'Change (points)'],
    rows: [
      ...rowsAt(mix, 'rows').map((r) => [
        text(r, 'label'),
        percentOf(r, 'from'),
        percentOf(r, 'to'),
        text(r, 'change'),
      ]),
      ['Total', text(mix, 'services.from'), text(mix, 'services.to'), ''],
    ],
  }))
  const groups: ExportTable[] = rowsAt(model, 'groups')
    .filter((group) => !shows(group, 'empty'))
    .map((group) => ({
      id: `group-${text(group, 'id')}`,
      title: `${text(model, 'mixTitle')} ${text(group, 'title')}: services (percent of the group that day)`,
      header: ['Group', 'Date', ...rowsAt(group, 'categories').map((c) => text(c, 'label')), 'Services'],
      rows: rowsAt(group, 'rows').map((r) => [
        text(r, 'group'),
        text(r, 'date'),
        ...rowsAt(r, 'cells').map((c) => `${text(c, 'count')} (${text(c, 'percent')}%)`),
        text(r, 'total'),
      ]),
    }))
  const rest = tablesOf(
    [
      table('entries', (m) => `Entries (${rowsAt(m, 'entries').length})`, 'entries', entryColumns),
      table('exits', (m) => `Exits (${rowsAt(m, 'exits').length})`, 'exits', entryColumns),
      {
        id: 'capacity',
        title: 'Capacity of contracted services by RAG',
        // Each capacity is two rows, one for each date.
        rows: (m) =>
          rowsAt(m, 'capacity.rows').flatMap((r) => [
            { label: text(r, 'label'), date: fromLabel, side: r.from },
            { label: text(r, 'label'), date: toLabel, side: r.to },
          ]),
        columns: [
          column('Capacity', 'label'),
          column('Date', 'date'),
          column('Red', 'side.red'),
          column('Amber', 'side.amber'),
          column('Green', 'side.green'),
          { header: 'At risk', cell: (r) => atRiskOf(r, 'side') },
        ],
      },
      table('market-providers', `Providers that are a market risk on ${toLabel}`, 'providers', [
        column('Provider', 'name'),
        column('Services', 'services'),
        column('Red', 'red'),
        column('Amber', 'amber'),
        { header: 'Why', cell: (r) => listText(r, 'flags', '; ') },
      ]),
    ],
    model,
  )
  return [...mixes, ...groups, ...rest]
}

const MORNING: TableSpec[] = [
  changesTable(
    'morning-rag-changes',
    (m) => text(m, 'changesPeriod.heading'),
    'ragChanges',
    (m) => shows(m, 'ragChanges'),
  ),
  table(
    'morning-eligibility',
    'Lost or regained DPS eligibility',
    'eligibilityEvents',
    [
      column('Service', 'name'),
      column('DPS and lot', 'dps'),
      { header: 'Change', cell: (r) => words(text(r, 'change'), listText(r, 'reasons')) },
      column('When', 'at'),
    ],
    (m) => shows(m, 'eligibilityEvents'),
  ),
  table(
    'morning-overdue-actions',
    'Overdue compliance actions',
    'overdueActions',
    [
      column('Service', 'name'),
      column('Action', 'kind'),
      column('Owner', 'owner'),
      { header: 'Due', cell: (r) => words(text(r, 'dueOn'), `Overdue by ${text(r, 'overdueBy')}`) },
    ],
    (m) => shows(m, 'overdueActions'),
  ),
  table(
    'morning-assessments-overdue',
    'Quality assessments overdue',
    'assessmentsOverdue.rows',
    [
      column('Service', 'name'),
      column('RAG', 'tag.text'),
      column('Last assessed', 'lastAssessed'),
      { header: 'Due', cell: (r) => words(text(r, 'dueOn'), `overdue by ${text(r, 'overdueBy')}`) },
    ],
    (m) => shows(m, 'assessmentsOverdue.rows'),
  ),
  inboxFilesTable('morning-council-files', 'Council files read overnight', 'councilFiles'),
  inboxLeftTable(
    'morning-left-in-inbox',
    (m) => `Left in the inbox (${rowsAt(m, 'leftInInbox').length})`,
    'leftInInbox',
  ),
]

const DUE_NEXT: TableSpec[] = [
  table(
    'in-cycle',
    'In the assessment cycle',
    'inCycle',
    [
      column('Service', 'name'),
      { header: 'Assessed', cell: (r) => `${text(r, 'date')}: ${text(r, 'outcome')}` },
      column('Stage', 'status.text'),
      {
        header: 'Next step',
        cell: (r) =>
          shows(r, 'canStartChallenge')
            ? 'Send to the provider for challenge'
            : shows(r, 'challengeOver')
              ? 'Ready to publish'
              : `Challenge ends ${text(r, 'challengeEndsOn')}`,
      },
    ],
    (m) => shows(m, 'inCycle'),
  ),
  table('due-next', 'Queue', 'rows', [
    column('Rank', 'rank'),
    { header: 'Service', cell: (r) => words(text(r, 'name'), text(r, 'providerName')) },
    column('RAG', 'tag.text'),
    { header: 'Last assessed', cell: (r) => words(text(r, 'lastAssessed'), text(r, 'lastOutcome')) },
    {
      header: 'Next assessment due',
      cell: (r) => words(text(r, 'dueOn'), shows(r, 'overdue') && 'Overdue', text(r, 'reason')),
    },
    {
      header: 'Follow-up',
      cell: (r) =>
        shows(r, 'actionPlanDueOn')
          ? `Action plan due ${text(r, 'actionPlanDueOn')} Re-assessment due ${text(r, 'reassessmentDueOn')}`
          : '',
    },
  ]),
]

const REFERRAL: TableSpec[] = [
  table(
    'referral-eligible',
    'May take a new package',
    'results.eligible',
    [
      column('Order', 'position'),
      { header: 'Service', cell: (r) => words(text(r, 'name'), text(r, 'providerName')) },
      { header: 'Lot', cell: (r) => words(text(r, 'lotName'), text(r, 'tier')) },
      { header: 'RAG and why', cell: (r) => words(text(r, 'rag.text'), listText(r, 'reasons')) },
      {
        header: 'CQC rating',
        cell: (r) => words(text(r, 'cqc'), text(r, 'cqcAge'), shows(r, 'cqcOld') && 'Old rating'),
      },
    ],
    (m) => shows(m, 'results'),
  ),
  table(
    'referral-ineligible',
    'May not take a new package',
    'results.ineligible',
    [
      { header: 'Service', cell: (r) => words(text(r, 'name'), text(r, 'providerName')) },
      { header: 'Lot', cell: (r) => words(text(r, 'lotName'), text(r, 'tier')) },
      column('RAG', 'rag.text'),
      column('Why not', 'why'),
      { header: 'CQC rating', cell: (r) => words(text(r, 'cqc'), text(r, 'cqcAge')) },
    ],
    (m) => shows(m, 'results'),
  ),
]

/** Page tables by view, for the views of this module. */
export const MAIN_PAGE_TABLES: Record<string, (model: Model) => ExportTable[]> = {
  'pages/dashboard': dashboardTables,
  'pages/service': (m) => tablesOf(SERVICE, m),
  'pages/provider': (m) => tablesOf(PROVIDER, m),
  'pages/providers': (m) => tablesOf(PROVIDERS, m),
  'pages/market': marketTables,
  'pages/morning': (m) => tablesOf(MORNING, m),
  'pages/due-next': (m) => tablesOf(DUE_NEXT, m),
  'pages/dps-referral': (m) => tablesOf(REFERRAL, m),
}
