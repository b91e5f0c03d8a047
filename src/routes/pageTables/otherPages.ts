import type { ExportTable } from '../../services/csvExport.js'
import { INBOX_TABLES } from './mainPages.js'
import { column, listText, rowsAt, shows, table, tablesOf, text, words, type Model, type TableSpec } from './tables.js'

// The tables of the admin, DPS, assessment, intelligence, import and printable report pages, column for column as
// their templates (views/pages/*.hbs) draw them from the same view-models.

const dateRange = (r: Model) => words(text(r, 'date'), shows(r, 'endDate') && `to ${text(r, 'endDate')}`)
const statusOrOutcome = (r: Model) => words(text(r, 'status'), text(r, 'outcome'))

const ACTIONS: TableSpec[] = [
  table('actions-table', 'Open compliance actions', 'rows', [
    { header: 'Service', cell: (r) => words(text(r, 'serviceName'), text(r, 'providerName')) },
    { header: 'RAG', cell: (r) => (shows(r, 'tag') ? text(r, 'tag.text') : 'Not computed') },
    { header: 'Action', cell: (r) => words(text(r, 'kind'), text(r, 'reference')) },
    column('Owner', 'owner'),
    column('Opened', 'openedOn'),
    {
      header: 'Due',
      cell: (r) =>
        words(
          text(r, 'dueOn'),
          shows(r, 'overdueBy') &&
            `Overdue by ${text(r, 'overdueBy')} ${text(r, 'overdueBy') === '1' ? 'day' : 'days'}`,
        ),
    },
  ]),
]

const ADMIN_AUDIT: TableSpec[] = [
  table(
    'audit-table',
    'Audit log',
    'entries',
    [
      column('When', 'at'),
      column('Who', 'actor'),
      {
        header: 'What',
        cell: (r) =>
          words(
            text(r, 'action'),
            `(${text(r, 'rawAction')})`,
            text(r, 'summary'),
            (shows(r, 'before') || shows(r, 'after')) && 'Before and after',
            shows(r, 'before') && `Before ${text(r, 'before')}`,
            shows(r, 'after') && `After ${text(r, 'after')}`,
          ),
      },
      column('Entity', 'entity'),
    ],
    (m) => shows(m, 'entries'),
  ),
]

function adminDpsManageTables(model: Model): ExportTable[] {
  return rowsAt(model, 'lots').flatMap((lot) =>
    tablesOf(
      [
        table(null, text(lot, 'name'), 'members', [
          { header: 'Service', cell: (r) => words(text(r, 'name'), text(r, 'ref')) },
          column('RAG', 'rag.text'),
          { header: 'Membership', cell: (r) => words(text(r, 'status.text'), `since ${text(r, 'changed')}`) },
          column('Reason', 'reason'),
          { header: '', cell: () => 'Change' },
        ]),
      ],
      lot,
    ),
  )
}

const ADMIN_DPS: TableSpec[] = [
  table('admin-frameworks', 'Frameworks', 'frameworks', [
    column('DPS', 'name'),
    column('Lots', 'lots'),
    column('Memberships', 'members'),
  ]),
]

const ADMIN_RULES_PREVIEW: TableSpec[] = [
  table('counts', 'Services by colour', 'counts', [
    column('Colour', 'tag.text'),
    { header: 'Now', cell: (r) => text(r, 'before') },
    { header: 'Proposed', cell: (r) => text(r, 'after') },
    column('Difference', 'differenceText'),
  ]),
  table(
    'changes',
    (m) => `${text(m, 'changeCount')} ${text(m, 'changeCount') === '1' ? 'service' : 'services'} would change colour`,
    'changes',
    [
      { header: 'Service', cell: (r) => words(text(r, 'name'), text(r, 'providerName')) },
      column('From', 'from.text'),
      column('To', 'to.text'),
      { header: 'Reasons under the proposed rules', cell: (r) => listText(r, 'reasons') },
    ],
    (m) => shows(m, 'changes'),
  ),
]

function adminRulesPreviewTables(model: Model): ExportTable[] {
  const tables = tablesOf(ADMIN_RULES_PREVIEW, model)
  const counts = tables.find((t) => t.id === 'counts')
  // The versions compared are in the headings.
  if (counts) {
    counts.header[1] = `Now (version ${text(model, 'baseVersion')})`
    counts.header[2] = `Proposed (version ${text(model, 'newVersion')})`
  }
  return tables
}

const ADMIN_RULES: TableSpec[] = [
  table('rule-set-history', 'Version history', 'history', [
    {
      header: 'Version',
      cell: (r) => words(`Version ${text(r, 'version')}`, shows(r, 'inForce') && 'In force'),
    },
    column('Saved', 'createdAt'),
    column('By', 'createdBy'),
    column('Note', 'note'),
    { header: '', cell: (r) => (shows(r, 'inForce') ? '' : 'Start a change from this version') },
  ]),
]

const ADMIN_RUN: TableSpec[] = [
  table(
    'sources-table',
    'Sources',
    'sources',
    [
      column('Source', 'label'),
      { header: 'Status', cell: (r) => words(text(r, 'status.text'), text(r, 'error')) },
      column('Started', 'started'),
      column('Finished', 'finished'),
      column('Read', 'read'),
      column('Matched', 'matched'),
      column('Changed', 'changed'),
      column('Unchanged', 'unchanged'),
      column('Rejected', 'rejected'),
    ],
    (m) => shows(m, 'sources'),
  ),
  INBOX_TABLES.inboxFilesTable('run-inbox-files', 'Council files read from the inbox', 'inboxFiles'),
  INBOX_TABLES.inboxLeftTable('run-left-in-inbox', 'Left in the inbox', 'leftInInbox'),
  table(
    'rejects-table',
    (m) => words('Rejected rows', shows(m, 'filter.label') && `from ${text(m, 'filter.label')}`),
    'rejects.rows',
    [column('Source', 'source'), column('Record', 'record'), column('Field', 'field'), column('Reason', 'reason')],
    (m) => shows(m, 'rejects.total'),
  ),
]

const runSources = (r: Model) =>
  shows(r, 'sources')
    ? rowsAt(r, 'sources')
        .map(
          (s) =>
            `${text(s, 'label')}: ${text(s, 'status.text')} read ${text(s, 'read')}, matched ${text(s, 'matched')}, ` +
            `changed ${text(s, 'changed')}, rejected ${text(s, 'rejected')}${shows(s, 'error') ? `; ${text(s, 'error')}` : ''}`,
        )
        .join(' ')
    : 'No sources'

const ADMIN_RUNS: TableSpec[] = [
  table(
    'runs-table',
    'Runs, newest first',
    'runs',
    [
      { header: 'Run', cell: (r) => `Run ${text(r, 'id')}` },
      { header: 'Started by', cell: (r) => words(text(r, 'cause'), text(r, 'kind')) },
      column('Trigger', 'trigger'),
      column('Started', 'started'),
      column('Finished', 'finished'),
      { header: 'Status', cell: (r) => words(text(r, 'status.text'), text(r, 'error')) },
      {
        header: 'Services computed',
        cell: (r) =>
          words(
            text(r, 'servicesComputed'),
            shows(r, 'servicesUnchanged') && `of ${text(r, 'servicesUnchanged.total')}`,
          ),
      },
      column('Changed', 'servicesChanged'),
      { header: 'Sources', cell: runSources },
    ],
    (m) => shows(m, 'runs'),
  ),
]

const ADMIN_TOKENS: TableSpec[] = [
  table('active-tokens', 'Active tokens', 'active', [
    column('Name', 'name'),
    column('Role', 'role'),
    column('Created', 'created'),
    column('Last used', 'lastUsed'),
    { header: '', cell: () => 'Revoke' },
  ]),
  table(
    'revoked-tokens',
    'Revoked tokens',
    'revoked',
    [column('Name', 'name'), column('Role', 'role'), column('Created', 'created'), column('Revoked', 'revoked')],
    (m) => shows(m, 'revoked'),
  ),
]

const ADMIN_USERS: TableSpec[] = [
  table('users-table', 'Users', 'users', [
    column('Email address', 'email'),
    column('Role', 'role'),
    column('Status', 'status.text'),
    column('Last signed in', 'lastSignIn'),
  ]),
]

const ASSESSMENT_LIST: TableSpec[] = [
  table(
    'assessments',
    'Assessments',
    'current',
    [
      column('Date', 'date'),
      column('Outcome', 'outcome'),
      {
        header: 'Stage',
        cell: (r) =>
          words(
            text(r, 'status.text'),
            shows(r, 'challengeEndsOn') && !shows(r, 'counted') && `challenge ends ${text(r, 'challengeEndsOn')}`,
          ),
      },
      {
        header: 'Follow-up',
        cell: (r) =>
          shows(r, 'needsFollowUp')
            ? words(
                `Action plan due ${text(r, 'actionPlanDueOn')}`,
                shows(r, 'actionPlanOverdue') && 'Overdue',
                `Re-assessment due ${text(r, 'reassessmentDueOn')}`,
              )
            : '',
      },
    ],
    (m) => shows(m, 'current'),
  ),
]

const versionsShown = (m: Model) => rowsAt(m, 'versions').length > 1

const ASSESSMENT: TableSpec[] = [
  table(
    'versions',
    'Versions',
    'versions',
    [
      {
        header: 'Recorded',
        cell: (r) =>
          words(
            shows(r, 'shown') ? `${text(r, 'recordedAt')} (shown)` : text(r, 'recordedAt'),
            shows(r, 'enteredBy') && `by ${text(r, 'enteredBy')}`,
          ),
      },
      column('Date', 'date'),
      column('Outcome', 'outcome'),
      column('Stage', 'status.text'),
    ],
    versionsShown,
  ),
]

function dpsFrameworkTables(model: Model): ExportTable[] {
  const quarters = tablesOf(
    [
      table(
        'off-contract-quarters',
        'Off-contract share by quarter',
        'offContractByQuarter',
        [
          column('Quarter', 'period'),
          column('New packages', 'awards'),
          column('Off contract', 'offContract'),
          column('Share', 'share'),
        ],
        (m) => shows(m, 'offContractByQuarter'),
      ),
    ],
    model,
  )
  const lots = rowsAt(model, 'lots').flatMap((lot) =>
    tablesOf(
      [
        table(null, text(lot, 'name'), 'members', [
          { header: 'Service', cell: (r) => words(text(r, 'name'), `${text(r, 'providerName')} · ${text(r, 'ref')}`) },
          { header: 'Membership', cell: (r) => words(text(r, 'status.text'), text(r, 'statusLine')) },
          { header: 'RAG', cell: (r) => words(text(r, 'rag.text'), shows(r, 'overridden') && 'Override') },
          { header: 'Eligibility now', cell: (r) => words(text(r, 'eligibility.text'), listText(r, 'failingGates')) },
          {
            header: 'Awards in the last 12 months',
            cell: (r) => words(text(r, 'awards'), shows(r, 'awards') && `${text(r, 'hours')} hours a week`),
          },
        ]),
      ],
      lot,
    ),
  )
  const awards = tablesOf(
    [
      table(
        'awards-table',
        'Packages awarded in the last 12 months',
        'awards',
        [
          column('Recorded', 'at'),
          column('Reference', 'reference'),
          { header: 'Service', cell: (r) => words(text(r, 'serviceName'), shows(r, 'offContract') && 'Off contract') },
          column('Lot', 'lotName'),
          column('Hours a week', 'weeklyHours'),
          column('Starts', 'startDate'),
        ],
        (m) => shows(m, 'canAward'),
      ),
    ],
    model,
  )
  return [...quarters, ...lots, ...awards]
}

const DPS: TableSpec[] = [
  table(
    'frameworks-table',
    'Frameworks',
    'frameworks',
    [
      { header: 'DPS', cell: (r) => words(text(r, 'name'), text(r, 'description')) },
      column('Lots', 'lots'),
      column('Services', 'members'),
      column('Eligible now', 'eligible'),
    ],
    (m) => shows(m, 'frameworks'),
  ),
  table(
    'tasks-table',
    'Review membership',
    'tasks',
    [
      column('Service', 'serviceName'),
      column('Lot', 'where'),
      column('Why', 'reason'),
      { header: 'Now', cell: (r) => (shows(r, 'now') ? text(r, 'now.tag.text') : '') },
      column('Opened', 'openedOn'),
      { header: '', cell: () => 'Review' },
    ],
    (m) => shows(m, 'showTasks'),
  ),
]

const IMPORT: TableSpec[] = [
  table(
    'reject-report',
    'Reject report',
    'result.rejects',
    [column('Row', 'row'), column('Column', 'column'), column('Reason', 'reason')],
    (m) => shows(m, 'result') && !shows(m, 'result.fileError') && shows(m, 'result.rejects'),
  ),
]

const INTELLIGENCE_ENTRY: TableSpec[] = [
  table(
    'versions',
    'Versions',
    'versions',
    [
      {
        header: 'Recorded',
        cell: (r) => words(text(r, 'recordedAt'), shows(r, 'enteredBy') && `by ${text(r, 'enteredBy')}`),
      },
      { header: 'Date', cell: dateRange },
      { header: 'Status or outcome', cell: statusOrOutcome },
      {
        header: 'Version',
        cell: (r) => words(shows(r, 'live') ? 'Latest' : 'Earlier version', shows(r, 'current') && '(shown)'),
      },
    ],
    versionsShown,
  ),
]

const INTELLIGENCE_LIST: TableSpec[] = [
  table(
    'current-entries',
    'Current entries',
    'current',
    [
      column('Kind', 'kindLabel'),
      { header: 'Date', cell: dateRange },
      { header: 'Status or outcome', cell: statusOrOutcome },
      column('Reference', 'reference'),
      { header: 'Source', cell: (r) => words(text(r, 'source'), text(r, 'recordedAt')) },
      { header: '', cell: () => 'Change' },
    ],
    (m) => shows(m, 'current'),
  ),
  table(
    'earlier-versions',
    'Earlier versions',
    'earlier',
    [
      column('Kind', 'kindLabel'),
      { header: 'Date', cell: dateRange },
      { header: 'Status or outcome', cell: statusOrOutcome },
      {
        header: 'Recorded',
        cell: (r) => words(text(r, 'recordedAt'), shows(r, 'enteredBy') && `by ${text(r, 'enteredBy')}`),
      },
    ],
    (m) => shows(m, 'earlier'),
  ),
]

const SERVICE_REPORT: TableSpec[] = [
  table(
    null,
    'Indicators',
    'indicators',
    [
      column('Indicator', 'label'),
      column('Level', 'tag.text'),
      { header: 'Value and reason', cell: (r) => words(text(r, 'value'), text(r, 'reason')) },
      { header: 'Date', cell: (r) => words(text(r, 'date'), shows(r, 'stale') && '(stale)') },
    ],
    (m) => shows(m, 'risk'),
  ),
  table(null, 'DPS memberships', 'memberships', [
    { header: 'DPS and lot', cell: (r) => `${text(r, 'dps')}, ${text(r, 'lot')}` },
    column('Status', 'statusTag.text'),
    { header: 'Eligibility', cell: (r) => words(text(r, 'eligible'), text(r, 'why')) },
  ]),
  table(
    'report-actions',
    'Compliance actions',
    'actions',
    [
      column('Action', 'kind'),
      column('Owner', 'owner'),
      column('Opened', 'opened'),
      column('Due', 'due'),
      { header: 'Closed and outcome', cell: (r) => words(text(r, 'closed'), text(r, 'outcome')) },
    ],
    (m) => shows(m, 'seeCompliance'),
  ),
  table('report-history', 'RAG history', 'historyRows', [
    column('Date', 'date'),
    { header: 'RAG', cell: (r) => words(text(r, 'tag.text'), shows(r, 'overridden') && '(override)') },
  ]),
  table('report-observations', 'Observations', 'observations', [
    { header: 'Date', cell: dateRange },
    column('Indicator', 'indicator'),
    { header: 'Value', cell: (r) => words(text(r, 'value'), shows(r, 'superseded') && '(earlier version)') },
    { header: 'Source', cell: (r) => `${text(r, 'source')}, recorded ${text(r, 'recordedAt')}` },
    {
      header: 'Reference and notes',
      cell: (r) => words(text(r, 'reference'), text(r, 'notes'), shows(r, 'enteredBy') && `by ${text(r, 'enteredBy')}`),
      when: (m) => shows(m, 'seeNotes'),
    },
  ]),
]

/** Page tables by view, for the views of this module. */
export const OTHER_PAGE_TABLES: Record<string, (model: Model) => ExportTable[]> = {
  'pages/actions': (m) => tablesOf(ACTIONS, m),
  'pages/admin-audit': (m) => tablesOf(ADMIN_AUDIT, m),
  'pages/admin-dps-manage': adminDpsManageTables,
  'pages/admin-dps': (m) => tablesOf(ADMIN_DPS, m),
  'pages/admin-rules-preview': adminRulesPreviewTables,
  'pages/admin-rules': (m) => tablesOf(ADMIN_RULES, m),
  'pages/admin-run': (m) => tablesOf(ADMIN_RUN, m),
  'pages/admin-runs': (m) => tablesOf(ADMIN_RUNS, m),
  'pages/admin-tokens': (m) => tablesOf(ADMIN_TOKENS, m),
  'pages/admin-users': (m) => tablesOf(ADMIN_USERS, m),
  'pages/assessment-list': (m) => tablesOf(ASSESSMENT_LIST, m),
  'pages/assessment': (m) => tablesOf(ASSESSMENT, m),
  'pages/dps-framework': dpsFrameworkTables,
  'pages/dps': (m) => tablesOf(DPS, m),
  'pages/import': (m) => tablesOf(IMPORT, m),
  'pages/intelligence-entry': (m) => tablesOf(INTELLIGENCE_ENTRY, m),
  'pages/intelligence-list': (m) => tablesOf(INTELLIGENCE_LIST, m),
  'pages/service-report': (m) => tablesOf(SERVICE_REPORT, m),
}
