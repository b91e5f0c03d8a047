import { z } from 'zod'
import { positiveId } from '../domain/strictInput.js'
import { SERVICE_TYPES } from '../domain/vocabulary.js'
import { awardInputSchema, referralQuerySchema } from '../services/dpsService.js'
import { refreshRunListSchema, serviceAnswerSchema, serviceListSchema } from './api.js'
import { actionBodySchema, actionCreatedSchema } from './apiActions.js'
import { awardSchema, dpsListSchema, dpsSchema, eligibilityEventListSchema, referralSchema } from './apiDpsSchemas.js'
import { eventsQuerySchema } from './apiDps.js'
import { apiErrorSchema } from './apiErrors.js'
import { intelligenceBodySchema, intelligenceCreatedSchema } from './apiIntelligence.js'
import { marketSummarySchema, providerDetailSchema, providerListSchema } from './apiMarketSchemas.js'
import { changesQuerySchema, ragChangeListSchema } from './changes.js'
import { marketQuerySchema } from './market.js'
import { serviceFilterSchema } from './queryParams.js'

/**
 * The operations of `/api/v1` (SPEC §9) as the OpenAPI document lists them: each names the zod schemas its route
 * parses (query, body) and answers with, and the document is generated from those (see openapi.ts).
 */

type JsonSchema = Record<string, unknown>

export interface Answer {
  description: string
  schema: z.ZodType
}

export interface Parameter {
  name: string
  in: 'query' | 'path'
  required: boolean
  description?: string
  schema: JsonSchema
}

export interface Operation {
  method: 'get' | 'post'
  path: string
  operationId: string
  summary: string
  parameters?: Parameter[]
  /** The JSON body the route reads, and its name among the document's schemas. */
  body?: { id: string; schema: z.ZodType }
  answers: Record<number, Answer>
}

/** zod bounds every integer by the safe ones, which say nothing to a reader: they go. */
export function withoutSafeIntegerBounds(ctx: { jsonSchema: JsonSchema }): void {
  if (ctx.jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete ctx.jsonSchema.minimum
  if (ctx.jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete ctx.jsonSchema.maximum
}

/** The schema of a query or path value as a client sends it (before defaults and transforms). */
function inputSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    override: withoutSafeIntegerBounds,
  }) as JsonSchema
  return json
}

/** The query parameters a route's query schema reads, those named in `descriptions`, in that order. */
function queryParameters(schema: z.ZodObject, descriptions: Record<string, string>): Parameter[] {
  const json = inputSchema(schema) as { properties: Record<string, JsonSchema>; required?: string[] }
  return Object.entries(descriptions).map(([name, description]) => {
    const property = json.properties[name]
    if (!property) throw new Error(`The query schema has no parameter ${name}`)
    return { name, in: 'query', required: json.required?.includes(name) ?? false, description, schema: property }
  })
}

const pathParameter = (name: string, schema: z.ZodType): Parameter => ({
  name,
  in: 'path',
  required: true,
  schema: inputSchema(schema),
})
const refParameter = pathParameter('ref', z.string())
const idParameter = pathParameter('id', positiveId)

const answer = (description: string, schema: z.ZodType): Answer => ({ description, schema })
const error = (description: string): Answer => ({ description, schema: apiErrorSchema })
/** Every role may read, so a read is refused only without a session or token. */
const READ_ERRORS = { 401: error('Not signed in and no API token') }
/** Writes are for some roles only, and a session's write needs its CSRF token. */
const WRITE_ERRORS = {
  ...READ_ERRORS,
  403: error('The role may not use this, or a signed-in session sent no CSRF token'),
}

/** What `GET /openapi.json` answers, in outline. */
export const openApiDocumentSchema = z.object({
  openapi: z.literal('3.1.0'),
  info: z.object({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
  components: z.record(z.string(), z.unknown()),
})

/** The bodies' schemas bound dates by `today`; their fields (what the document shows) do not depend on it. */
export function apiOperations(today: string): Operation[] {
  return [
    {
      method: 'get',
      path: '/services',
      operationId: 'listServices',
      summary: 'Services with their current RAG, filtered, sorted and paged (the dashboard table)',
      parameters: queryParameters(serviceFilterSchema, {
        rag: 'One or more of red, amber, green (repeat or comma-separate)',
        area: 'One or more areas',
        type: `One or more of ${SERVICE_TYPES.join(', ')}`,
        eligible: 'true: eligible under some DPS lot; false: not',
        deteriorating: 'true: deteriorating services only',
        q: 'Provider or service name contains',
        sort: 'Column to sort by',
        dir: 'Sort direction',
        page: 'Page number, from 1',
        pageSize: 'Services per page (at most 500)',
      }),
      answers: { 200: answer('A page of services', serviceListSchema), 400: error('Bad filter'), ...READ_ERRORS },
    },
    {
      method: 'get',
      path: '/services/{ref}',
      operationId: 'getService',
      summary: 'One service: overall RAG, score, reasons, every indicator and the RAG history',
      parameters: [refParameter],
      answers: { 200: answer('The service', serviceAnswerSchema), 404: error('No such service'), ...READ_ERRORS },
    },
    {
      method: 'post',
      path: '/services/{ref}/intelligence',
      operationId: 'recordIntelligence',
      summary: 'Records one intelligence row (compliance, admin); recomputes the service before answering',
      parameters: [refParameter],
      body: { id: 'IntelligenceInput', schema: intelligenceBodySchema(today) },
      answers: {
        201: answer('Recorded', intelligenceCreatedSchema),
        400: error('Invalid row; details name the fields'),
        404: error('No such service'),
        ...WRITE_ERRORS,
      },
    },
    {
      method: 'post',
      path: '/services/{ref}/actions',
      operationId: 'openAction',
      summary: 'Opens a compliance action (compliance, admin); a default notice or suspension moves the RAG at once',
      parameters: [refParameter],
      body: { id: 'ActionInput', schema: actionBodySchema(today) },
      answers: {
        201: answer('Opened', actionCreatedSchema),
        400: error('Invalid action; details name the fields'),
        404: error('No such service'),
        ...WRITE_ERRORS,
      },
    },
    {
      method: 'get',
      path: '/refresh-runs',
      operationId: 'listRefreshRuns',
      summary: 'The latest refresh runs with per-source outcomes',
      answers: { 200: answer('Runs, newest first', refreshRunListSchema), ...READ_ERRORS },
    },
    {
      method: 'get',
      path: '/changes',
      operationId: 'listChanges',
      summary: 'RAG changes in a period, whatever runs made them, each with its cause',
      parameters: queryParameters(changesQuerySchema, {
        since: 'From (a date or timestamp); default: when the last overnight run began',
        until: 'Up to, not including (a date or timestamp); default: now',
      }),
      answers: {
        200: answer('Changes, newest first', ragChangeListSchema),
        400: error('Bad since or until'),
        ...READ_ERRORS,
      },
    },
    {
      method: 'get',
      path: '/dps',
      operationId: 'listDps',
      summary: 'Each DPS with its lots and members, and their eligibility',
      answers: { 200: answer('Frameworks', dpsListSchema), ...READ_ERRORS },
    },
    {
      method: 'get',
      path: '/dps/eligibility-events',
      operationId: 'listEligibilityEvents',
      summary: 'Eligibility lost or regained, after a run',
      parameters: queryParameters(eventsQuerySchema, { sinceRun: 'Events of runs after this run id' }),
      answers: {
        200: answer('Events, oldest first', eligibilityEventListSchema),
        400: error('Bad query'),
        ...READ_ERRORS,
      },
    },
    {
      method: 'get',
      path: '/dps/{id}',
      operationId: 'getDps',
      summary: 'One DPS with its lots and members',
      parameters: [idParameter],
      answers: { 200: answer('The DPS', dpsSchema), 404: error('No such DPS'), ...READ_ERRORS },
    },
    {
      method: 'get',
      path: '/dps/{id}/referral',
      operationId: 'referral',
      summary: 'Eligible services for a pen picture in allocation order, then the ineligible with why',
      parameters: [
        idParameter,
        ...queryParameters(referralQuerySchema, {
          area: 'Area of the person',
          type: 'Service type',
          weeklyHours: 'Weekly hours',
          startDate: 'Start date',
          needs: 'Specialist needs (repeat or comma-separate), matched against a specialist lot',
        }),
      ],
      answers: {
        200: answer('The referral list', referralSchema),
        400: error('Bad pen picture'),
        404: error('No such DPS'),
        ...READ_ERRORS,
      },
    },
    {
      method: 'post',
      path: '/dps/{id}/awards',
      operationId: 'award',
      summary: 'Records a package award under a lot (compliance, admin), behind the eligibility gate',
      parameters: [idParameter],
      body: { id: 'AwardInput', schema: awardInputSchema },
      answers: {
        201: answer('Awarded', awardSchema),
        400: error('Invalid award'),
        404: error('No such DPS, lot or service'),
        409: error('Refused by the gate (failing gates in details) or a duplicate reference'),
        ...WRITE_ERRORS,
      },
    },
    {
      method: 'get',
      path: '/market',
      operationId: 'marketSummary',
      summary: 'The contracted market at two dates: rating mixes, entries and exits, capacity at risk, provider risks',
      parameters: queryParameters(marketQuerySchema, {
        from: 'Earlier date (default: 12 months before `to`)',
        to: 'Later date, today or earlier (default: today)',
      }),
      answers: { 200: answer('The summary', marketSummarySchema), 400: error('Bad dates'), ...READ_ERRORS },
    },
    {
      method: 'get',
      path: '/providers',
      operationId: 'listProviders',
      summary: 'Every provider rolled up from its services, market risks first',
      answers: { 200: answer('Providers', providerListSchema), ...READ_ERRORS },
    },
    {
      method: 'get',
      path: '/providers/{id}',
      operationId: 'getProvider',
      summary: 'One provider with its services and roll-up',
      parameters: [idParameter],
      answers: {
        200: answer('The provider', providerDetailSchema),
        400: error('Bad id'),
        404: error('No such provider'),
        ...READ_ERRORS,
      },
    },
    {
      method: 'get',
      path: '/openapi.json',
      operationId: 'openApi',
      summary: 'This document',
      answers: { 200: answer('OpenAPI 3.1 document', openApiDocumentSchema), ...READ_ERRORS },
    },
  ]
}
