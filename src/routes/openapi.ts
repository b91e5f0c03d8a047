import { Router } from 'express'
import { CQC_MIX_KEYS, MIX_DIMENSIONS, QUALITY_MIX_KEYS, RAG_MIX_KEYS } from '../domain/market.js'
import { INDICATOR_KEYS, INTELLIGENCE_KINDS, RAGS, SERVICE_TYPES } from '../domain/vocabulary.js'
import { RUN_CAUSES } from '../data/runs.js'
import { ACTION_KINDS } from '../data/complianceActions.js'

/**
 * The OpenAPI 3.1 description of `/api/v1` (SPEC §9), served at `/api/v1/openapi.json`. Schemas are JSON Schema
 * 2020-12 (as OpenAPI 3.1 uses it); they list the required fields of each answer and leave objects open, because the
 * API may add fields ("extend freely; never rename"). test/routes/openapi.test.ts checks real answers against them.
 */

type Schema = Record<string, unknown>

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` })
const nullable = (schema: Schema): Schema => ({ anyOf: [schema, { type: 'null' }] })
const str: Schema = { type: 'string' }
const nullableString: Schema = { type: ['string', 'null'] }
const int: Schema = { type: 'integer' }
const num: Schema = { type: 'number' }
const bool: Schema = { type: 'boolean' }
const isoDate: Schema = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' }
const arrayOf = (items: Schema): Schema => ({ type: 'array', items })

function object(properties: Record<string, Schema>, optional: string[] = []): Schema {
  return {
    type: 'object',
    properties,
    required: Object.keys(properties).filter((name) => !optional.includes(name)),
  }
}

const schemas: Record<string, Schema> = {
  Error: object({
    error: str,
    details: arrayOf({}),
  }),
  FieldError: object({ field: str, message: str }),
  Rag: { type: 'string', enum: [...RAGS] },
  Level: { type: 'string', enum: [...RAGS, 'none'] },
  Indicator: object({
    key: { type: 'string', enum: [...INDICATOR_KEYS] },
    level: ref('Level'),
    value: nullableString,
    date: nullableString,
    source: nullableString,
    reason: str,
    stale: bool,
  }),
  Flags: object({ multipleConcerns: bool, recentlyDowngraded: bool, notYetAssessed: bool, deteriorating: bool }),
  Service: object(
    {
      ref: str,
      name: str,
      provider: str,
      type: { type: 'string', enum: [...SERVICE_TYPES] },
      area: str,
      contractStatus: str,
      cqcLocationId: nullableString,
      rag: nullable(ref('Rag')),
      computedRag: nullable(ref('Rag')),
      override: nullable(object({ level: ref('Rag'), reason: str, expiresOn: isoDate })),
      score: { type: ['number', 'null'] },
      reasons: arrayOf(str),
      flags: nullable(ref('Flags')),
      asOf: nullableString,
      lastChange: nullableString,
      eligible: { type: ['boolean', 'null'] },
      indicators: { type: 'array', items: ref('Indicator'), minItems: INDICATOR_KEYS.length },
      history: arrayOf(object({ at: str, rag: ref('Rag') })),
      actions: arrayOf(ref('Action')),
    },
    ['history', 'eligible', 'actions'],
  ),
  ServiceList: object({ total: int, page: int, pageSize: int, services: arrayOf(ref('Service')) }),
  SourceRun: object({
    runId: int,
    source: str,
    status: { type: 'string', enum: ['running', 'succeeded', 'failed', 'not_configured', 'skipped'] },
    startedAt: str,
    finishedAt: nullableString,
    read: int,
    matched: int,
    changed: int,
    unchanged: int,
    rejected: int,
    error: nullableString,
    rejects: arrayOf(object({ record: str, reason: str })),
  }),
  RefreshRun: object({
    id: int,
    kind: { type: 'string', enum: ['full', 'entry', 'seed'] },
    cause: { type: 'string', enum: [...RUN_CAUSES], description: 'What started the run' },
    trigger: nullableString,
    startedAt: str,
    finishedAt: nullableString,
    publishedAt: nullableString,
    status: { type: 'string', enum: ['running', 'completed', 'failed', 'abandoned'] },
    ruleSetVersion: { type: ['integer', 'null'] },
    servicesComputed: int,
    servicesTotal: {
      type: ['integer', 'null'],
      description: 'Services registered when a full run judged the due ones (servicesComputed); null for entry runs',
    },
    servicesChanged: int,
    error: nullableString,
    sources: arrayOf(ref('SourceRun')),
  }),
  RefreshRunList: object({ runs: arrayOf(ref('RefreshRun')) }),
  Action: object(
    {
      id: int,
      kind: { type: 'string', enum: [...ACTION_KINDS] },
      owner: str,
      openedOn: isoDate,
      dueOn: nullable(isoDate),
      closedOn: nullable(isoDate),
      reference: nullableString,
      notes: { ...nullableString, description: 'Compliance and admin only' },
      indicator: { type: ['string', 'null'], description: 'The indicator this action is the fact of, if any' },
    },
    ['notes'],
  ),
  ActionInput: {
    type: 'object',
    properties: {
      kind: { type: 'string', enum: [...ACTION_KINDS] },
      openedOn: isoDate,
      dueOn: isoDate,
      reference: str,
      notes: str,
      owner: { type: 'string', description: 'Default: the caller' },
    },
    required: ['kind', 'openedOn'],
    additionalProperties: false,
  },
  ActionCreated: object({ service: str, action: ref('Action'), rag: nullable(ref('Rag')) }),
  RagChange: object({
    service: object({ ref: str, name: str, provider: str }),
    from: nullable(ref('Rag')),
    to: ref('Rag'),
    when: str,
    cause: { type: 'string', enum: [...RUN_CAUSES] },
    reasons: arrayOf(str),
  }),
  RagChangeList: object({ since: nullableString, until: str, changes: arrayOf(ref('RagChange')) }),
  IntelligenceInput: {
    type: 'object',
    description: 'One intelligence row with the CSV field names (SPEC §9); service_ref is optional, the path decides.',
    properties: {
      service_ref: str,
      kind: { type: 'string', enum: [...INTELLIGENCE_KINDS] },
      date: { type: 'string', description: 'ISO 8601 (2026-03-14) or UK (14/03/2026)' },
      end_date: str,
      outcome: str,
      reference: str,
      notes: str,
    },
    required: ['kind', 'date'],
    additionalProperties: false,
  },
  IntelligenceCreated: object({
    observation: object({ id: int, kind: str, date: str, source: str }),
    rag: nullable(ref('Rag')),
    service: nullable(ref('Service')),
  }),
  FailingGate: object({ gate: str, reason: str }),
  DpsMember: object({
    ref: str,
    name: str,
    status: { type: 'string', enum: ['admitted', 'suspended', 'removed'] },
    eligible: bool,
    failingGates: arrayOf(ref('FailingGate')),
    rag: nullable(ref('Rag')),
  }),
  DpsLot: object({
    id: int,
    name: str,
    tier: str,
    zone: nullableString,
    serviceType: { type: 'string', enum: [...SERVICE_TYPES] },
    members: arrayOf(ref('DpsMember')),
  }),
  Dps: object({ id: int, name: str, gates: { type: 'object' }, lots: arrayOf(ref('DpsLot')) }),
  DpsList: object({ dps: arrayOf(ref('Dps')) }),
  ReferralEntry: object({
    ref: str,
    name: str,
    lotId: int,
    lotName: str,
    tier: str,
    zone: nullableString,
    rag: nullable(ref('Rag')),
    reasons: arrayOf(str),
    eligible: bool,
    failingGates: arrayOf(ref('FailingGate')),
    why: nullableString,
  }),
  Referral: object({
    dps: object({ id: int, name: str }),
    penPicture: object({ area: str, serviceType: str }),
    eligible: arrayOf(ref('ReferralEntry')),
    ineligible: arrayOf(ref('ReferralEntry')),
  }),
  AwardInput: {
    type: 'object',
    properties: {
      serviceRef: str,
      lotId: int,
      weeklyHours: { type: 'number', exclusiveMinimum: 0, maximum: 168 },
      startDate: str,
      reference: str,
    },
    required: ['serviceRef', 'lotId', 'weeklyHours', 'startDate', 'reference'],
  },
  Award: object({
    id: int,
    dpsId: int,
    lotId: int,
    serviceRef: str,
    weeklyHours: num,
    startDate: isoDate,
    reference: str,
    contractStatus: str,
    createdBy: nullableString,
    createdAt: str,
  }),
  EligibilityEventList: object({
    events: arrayOf(
      object({
        id: int,
        runId: { type: ['integer', 'null'] },
        at: str,
        change: { type: 'string', enum: ['lost', 'regained'] },
        eligible: bool,
        failingGates: arrayOf(ref('FailingGate')),
        lost: { type: ['object', 'null'], description: 'For a regained event: when and on which gates it was lost' },
        reasons: arrayOf(str),
        serviceRef: str,
        dpsId: int,
        lotId: int,
      }),
    ),
  }),
  Share: object({ count: int, percent: num }),
  MixTable: object({
    dimension: { type: 'string', enum: [...MIX_DIMENSIONS] },
    rows: arrayOf(object({ key: str, label: str, from: ref('Share'), to: ref('Share') })),
  }),
  GroupMix: object({
    key: str,
    label: str,
    services: object({ from: int, to: int }),
    mixes: object({ cqc: ref('MixTable'), quality: ref('MixTable'), rag: ref('MixTable') }),
  }),
  MarketMovement: object({
    ref: str,
    name: str,
    providerName: str,
    serviceType: str,
    area: str,
    kind: { type: 'string', enum: ['registered', 'deregistered', 'joined', 'left', 'admitted', 'removed'] },
    on: { anyOf: [isoDate, { type: 'null' }] },
    detail: str,
  }),
  CapacityByRag: object({ red: num, amber: num, green: num, atRisk: num, total: num }),
  ProviderFlag: object({
    kind: { type: 'string', enum: ['concentration', 'red_services', 'deteriorating'] },
    text: str,
    marketRisk: bool,
  }),
  ProviderRollup: object({
    providerId: int,
    providerName: str,
    services: int,
    counts: object({ red: int, amber: int, green: int, notComputed: int, deteriorating: int }),
    byArea: arrayOf(object({ area: str, red: int, amber: int, green: int })),
    flags: arrayOf(ref('ProviderFlag')),
    marketRisk: bool,
  }),
  MarketSummary: {
    ...object({
      from: isoDate,
      to: isoDate,
      ruleSetVersion: int,
      overall: ref('GroupMix'),
      byType: arrayOf(ref('GroupMix')),
      byArea: arrayOf(ref('GroupMix')),
      byDps: arrayOf(ref('GroupMix')),
      entries: arrayOf(ref('MarketMovement')),
      exits: arrayOf(ref('MarketMovement')),
      capacity: arrayOf(
        object({
          unit: { type: 'string', enum: ['beds', 'weekly_hours', 'places'] },
          label: str,
          from: ref('CapacityByRag'),
          to: ref('CapacityByRag'),
        }),
      ),
      providers: arrayOf(ref('ProviderRollup')),
    }),
    description: `The contracted market at two dates. Mix keys: cqc ${CQC_MIX_KEYS.join(', ')}; quality ${QUALITY_MIX_KEYS.join(', ')}; rag ${RAG_MIX_KEYS.join(', ')}.`,
  },
  ProviderList: object({ providers: arrayOf(ref('ProviderRollup')) }),
  ProviderDetail: object({
    provider: object({ id: int, name: str, cqcProviderId: nullableString, companiesHouseNumber: nullableString }),
    rollup: ref('ProviderRollup'),
    services: arrayOf(
      object({
        ref: str,
        name: str,
        type: str,
        area: str,
        capacity: { type: ['integer', 'null'] },
        contractStatus: str,
        rag: nullable(ref('Rag')),
        deteriorating: bool,
        reason: nullableString,
        lastChange: nullableString,
      }),
    ),
  }),
}

const json = (schema: Schema) => ({ 'application/json': { schema } })
const answer = (description: string, schema: Schema) => ({ description, content: json(schema) })
const errorAnswer = (description: string) => answer(description, ref('Error'))
/** Every role may read, so a read is refused only without a session or token. */
const COMMON_ERRORS = {
  '401': errorAnswer('Not signed in and no API token'),
}
/** Writes are for some roles only, and a session's write needs its CSRF token. */
const WRITE_ERRORS = {
  ...COMMON_ERRORS,
  '403': errorAnswer('The role may not use this, or a signed-in session sent no CSRF token'),
}
const query = (name: string, description: string, schema: Schema = str, required = false) => ({
  name,
  in: 'query',
  required,
  description,
  schema,
})
const pathParam = (name: string, schema: Schema = str) => ({ name, in: 'path', required: true, schema })
const repeatable = (items: Schema) => ({ anyOf: [items, arrayOf(items)] })

const paths: Record<string, unknown> = {
  '/services': {
    get: {
      summary: 'Services with their current RAG, filtered, sorted and paged (the dashboard table)',
      operationId: 'listServices',
      parameters: [
        query('rag', 'One or more of red, amber, green (repeat or comma-separate)', repeatable(str)),
        query('area', 'One or more areas', repeatable(str)),
        query('type', `One or more of ${SERVICE_TYPES.join(', ')}`, repeatable(str)),
        query('eligible', 'true: eligible under some DPS lot; false: not', {
          type: 'string',
          enum: ['true', 'false', 'yes', 'no'],
        }),
        query('deteriorating', 'true: deteriorating services only', {
          type: 'string',
          enum: ['true', '1', 'false', '0'],
        }),
        query('q', 'Provider or service name contains'),
        query('sort', 'Column to sort by', {
          type: 'string',
          enum: ['rag', 'name', 'provider', 'type', 'area', 'eligible', 'changed'],
        }),
        query('dir', 'Sort direction', { type: 'string', enum: ['asc', 'desc'] }),
        query('page', 'Page number, from 1', { type: 'integer', minimum: 1 }),
        query('pageSize', 'Services per page (at most 500)', { type: 'integer', minimum: 1, maximum: 500 }),
      ],
      responses: {
        '200': answer('A page of services', ref('ServiceList')),
        '400': errorAnswer('Bad filter'),
        ...COMMON_ERRORS,
      },
    },
  },
  '/services/{ref}': {
    get: {
      summary: 'One service: overall RAG, score, reasons, every indicator and the RAG history',
      operationId: 'getService',
      parameters: [pathParam('ref')],
      responses: {
        '200': answer('The service', ref('Service')),
        '404': errorAnswer('No such service'),
        ...COMMON_ERRORS,
      },
    },
  },
  '/services/{ref}/intelligence': {
    post: {
      summary: 'Records one intelligence row (compliance, admin); recomputes the service before answering',
      operationId: 'recordIntelligence',
      parameters: [pathParam('ref')],
      requestBody: { required: true, content: json(ref('IntelligenceInput')) },
      responses: {
        '201': answer('Recorded', ref('IntelligenceCreated')),
        '400': errorAnswer('Invalid row; details name the fields'),
        '404': errorAnswer('No such service'),
        ...WRITE_ERRORS,
      },
    },
  },
  '/services/{ref}/actions': {
    post: {
      summary: 'Opens a compliance action (compliance, admin); a default notice or suspension moves the RAG at once',
      operationId: 'openAction',
      parameters: [pathParam('ref')],
      requestBody: { required: true, content: json(ref('ActionInput')) },
      responses: {
        '201': answer('Opened', ref('ActionCreated')),
        '400': errorAnswer('Invalid action; details name the fields'),
        '404': errorAnswer('No such service'),
        ...WRITE_ERRORS,
      },
    },
  },
  '/refresh-runs': {
    get: {
      summary: 'The latest refresh runs with per-source outcomes',
      operationId: 'listRefreshRuns',
      responses: { '200': answer('Runs, newest first', ref('RefreshRunList')), ...COMMON_ERRORS },
    },
  },
  '/changes': {
    get: {
      summary: 'RAG changes in a period, whatever runs made them, each with its cause',
      operationId: 'listChanges',
      parameters: [
        query('since', 'From (a date or timestamp); default: when the last overnight run began', str),
        query('until', 'Up to, not including (a date or timestamp); default: now', str),
      ],
      responses: {
        '200': answer('Changes, newest first', ref('RagChangeList')),
        '400': errorAnswer('Bad since or until'),
        ...COMMON_ERRORS,
      },
    },
  },
  '/dps': {
    get: {
      summary: 'Each DPS with its lots and members, and their eligibility',
      operationId: 'listDps',
      responses: { '200': answer('Frameworks', ref('DpsList')), ...COMMON_ERRORS },
    },
  },
  '/dps/eligibility-events': {
    get: {
      summary: 'Eligibility lost or regained, after a run',
      operationId: 'listEligibilityEvents',
      parameters: [query('sinceRun', 'Events of runs after this run id', { type: 'integer', minimum: 0 })],
      responses: {
        '200': answer('Events, oldest first', ref('EligibilityEventList')),
        '400': errorAnswer('Bad query'),
        ...COMMON_ERRORS,
      },
    },
  },
  '/dps/{id}': {
    get: {
      summary: 'One DPS with its lots and members',
      operationId: 'getDps',
      parameters: [pathParam('id', int)],
      responses: { '200': answer('The DPS', ref('Dps')), '404': errorAnswer('No such DPS'), ...COMMON_ERRORS },
    },
  },
  '/dps/{id}/referral': {
    get: {
      summary: 'Eligible services for a pen picture in allocation order, then the ineligible with why',
      operationId: 'referral',
      parameters: [
        pathParam('id', int),
        query('area', 'Area of the person', str, true),
        query('type', 'Service type', str, true),
        query('weeklyHours', 'Weekly hours', num),
        query('startDate', 'Start date', str),
      ],
      responses: {
        '200': answer('The referral list', ref('Referral')),
        '400': errorAnswer('Bad pen picture'),
        '404': errorAnswer('No such DPS'),
        ...COMMON_ERRORS,
      },
    },
  },
  '/dps/{id}/awards': {
    post: {
      summary: 'Records a package award under a lot (compliance, admin), behind the eligibility gate',
      operationId: 'award',
      parameters: [pathParam('id', int)],
      requestBody: { required: true, content: json(ref('AwardInput')) },
      responses: {
        '201': answer('Awarded', ref('Award')),
        '400': errorAnswer('Invalid award'),
        '404': errorAnswer('No such DPS, lot or service'),
        '409': errorAnswer('Refused by the gate (failing gates in details) or a duplicate reference'),
        ...WRITE_ERRORS,
      },
    },
  },
  '/market': {
    get: {
      summary: 'The contracted market at two dates: rating mixes, entries and exits, capacity at risk, provider risks',
      operationId: 'marketSummary',
      parameters: [
        query('from', 'Earlier date (default: 12 months before `to`)', isoDate),
        query('to', 'Later date, today or earlier (default: today)', isoDate),
      ],
      responses: {
        '200': answer('The summary', ref('MarketSummary')),
        '400': errorAnswer('Bad dates'),
        ...COMMON_ERRORS,
      },
    },
  },
  '/providers': {
    get: {
      summary: 'Every provider rolled up from its services, market risks first',
      operationId: 'listProviders',
      responses: { '200': answer('Providers', ref('ProviderList')), ...COMMON_ERRORS },
    },
  },
  '/providers/{id}': {
    get: {
      summary: 'One provider with its services and roll-up',
      operationId: 'getProvider',
      parameters: [pathParam('id', int)],
      responses: {
        '200': answer('The provider', ref('ProviderDetail')),
        '400': errorAnswer('Bad id'),
        '404': errorAnswer('No such provider'),
        ...COMMON_ERRORS,
      },
    },
  },
  '/openapi.json': {
    get: {
      summary: 'This document',
      operationId: 'openApi',
      responses: {
        '200': answer('OpenAPI 3.1 document', {
          type: 'object',
          properties: { openapi: { const: '3.1.0' }, paths: { type: 'object' }, components: { type: 'object' } },
          required: ['openapi', 'info', 'paths', 'components'],
        }),
        ...COMMON_ERRORS,
      },
    },
  },
}

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
  info: {
    title: 'Provider Risk Dashboard API',
    version: '1',
    description:
      'The read views of the dashboard and the entries that change them (SPEC §9). Authenticate with a session or ' +
      '`Authorization: Bearer <token>`; the roles are those of the pages. Errors are `{ "error": ..., "details": [...] }`.',
  },
  servers: [{ url: '/api/v1' }],
  security: [{ bearer: [] }, { session: [] }],
  paths,
  components: {
    schemas,
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', description: 'An API token from `npm run token -- create`' },
      session: { type: 'apiKey', in: 'cookie', name: 'prd.sid' },
    },
  },
} as const

export function openApiRoutes(): Router {
  const router = Router()
  router.get('/openapi.json', (_req, res) => {
    res.json(OPENAPI_DOCUMENT)
  })
  return router
}
