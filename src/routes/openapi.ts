import { Router } from 'express'
import { z } from 'zod'
import { ragSchema } from '../domain/vocabulary.js'
import { indicatorSchema, levelSchema, riskFlagsSchema } from '../services/presenters.js'
import {
  refreshRunListSchema,
  refreshRunSchema,
  serviceAnswerSchema,
  serviceListSchema,
  sourceRunSchema,
} from './api.js'
import { actionCreatedSchema, apiActionSchema } from './apiActions.js'
import {
  awardSchema,
  dpsListSchema,
  dpsLotSchema,
  dpsMemberSchema,
  dpsSchema,
  eligibilityEventListSchema,
  failingGateSchema,
  referralEntrySchema,
  referralSchema,
} from './apiDpsSchemas.js'
import { apiErrorSchema, fieldErrorSchema } from './apiErrors.js'
import { intelligenceCreatedSchema } from './apiIntelligence.js'
import {
  capacityByRagSchema,
  groupMixSchema,
  marketMovementSchema,
  marketSummarySchema,
  mixTableSchema,
  providerDetailSchema,
  providerFlagSchema,
  providerListSchema,
  providerRollupSchema,
  shareSchema,
} from './apiMarketSchemas.js'
import { ragChangeListSchema, ragChangeSchema } from './changes.js'
import { apiOperations, openApiDocumentSchema, withoutSafeIntegerBounds, type Operation } from './openapiOperations.js'

/**
 * The OpenAPI 3.1 description of `/api/v1` (SPEC §9), served at `/api/v1/openapi.json`, generated from the zod
 * schemas the routes parse and answer with (zod's own JSON Schema 2020-12 output, as OpenAPI 3.1 uses it). Answers
 * list their required fields and leave objects open, because the API may add fields ("extend freely; never rename");
 * a request body the route checks field by field is closed. test/routes/openapi.test.ts checks real answers against it.
 */

type JsonSchema = Record<string, unknown>
type Registry = z.core.$ZodRegistry<{ id: string }>

/** The answers' schemas that get a name in `components.schemas` (the others are written in place). */
const ANSWER_COMPONENTS: Record<string, z.ZodType> = {
  Error: apiErrorSchema,
  FieldError: fieldErrorSchema,
  Rag: ragSchema,
  Level: levelSchema,
  Indicator: indicatorSchema,
  Flags: riskFlagsSchema,
  Service: serviceAnswerSchema,
  ServiceList: serviceListSchema,
  SourceRun: sourceRunSchema,
  RefreshRun: refreshRunSchema,
  RefreshRunList: refreshRunListSchema,
  Action: apiActionSchema,
  ActionCreated: actionCreatedSchema,
  RagChange: ragChangeSchema,
  RagChangeList: ragChangeListSchema,
  IntelligenceCreated: intelligenceCreatedSchema,
  FailingGate: failingGateSchema,
  DpsMember: dpsMemberSchema,
  DpsLot: dpsLotSchema,
  Dps: dpsSchema,
  DpsList: dpsListSchema,
  ReferralEntry: referralEntrySchema,
  Referral: referralSchema,
  Award: awardSchema,
  EligibilityEventList: eligibilityEventListSchema,
  Share: shareSchema,
  MixTable: mixTableSchema,
  GroupMix: groupMixSchema,
  MarketMovement: marketMovementSchema,
  CapacityByRag: capacityByRagSchema,
  ProviderFlag: providerFlagSchema,
  ProviderRollup: providerRollupSchema,
  MarketSummary: marketSummarySchema,
  ProviderList: providerListSchema,
  ProviderDetail: providerDetailSchema,
  OpenApiDocument: openApiDocumentSchema,
}

const componentRef = (id: string): JsonSchema => ({ $ref: `#/components/schemas/${id}` })

/** An answer's object is open unless its schema is strict: zod's output mode would close every object. */
function leaveObjectsOpen(ctx: { zodSchema: z.core.$ZodType; jsonSchema: JsonSchema }): void {
  const def = ctx.zodSchema._zod.def as { type: string; catchall?: unknown }
  if (def.type === 'object' && def.catchall === undefined) delete ctx.jsonSchema.additionalProperties
  withoutSafeIntegerBounds(ctx)
}

/** Each registered schema as JSON Schema; `io: 'output'` for answers (what the API sends), 'input' for bodies. */
function componentSchemas(registry: Registry, io: 'input' | 'output'): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(registry, {
    io,
    target: 'draft-2020-12',
    uri: (id) => `#/components/schemas/${id}`,
    override: io === 'output' ? leaveObjectsOpen : withoutSafeIntegerBounds,
  })
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _dialect, $id: _id, ...schema }]) => [id, schema as JsonSchema]),
  )
}

function pathItems(operations: Operation[], answers: Registry): Record<string, Record<string, unknown>> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const operation of operations) {
    const responses = Object.fromEntries(
      Object.entries(operation.answers).map(([status, { description, schema }]) => {
        const id = answers.get(schema)?.id
        if (!id) throw new Error(`${operation.operationId} ${status}: its answer's schema has no component name`)
        return [status, { description, content: { 'application/json': { schema: componentRef(id) } } }]
      }),
    )
    paths[operation.path] = {
      ...paths[operation.path],
      [operation.method]: {
        summary: operation.summary,
        operationId: operation.operationId,
        ...(operation.parameters ? { parameters: operation.parameters } : {}),
        ...(operation.body
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: componentRef(operation.body.id) } },
              },
            }
          : {}),
        responses,
      },
    }
  }
  return paths
}

/** Builds the document; `today` only bounds dates in the bodies' schemas, which the document does not show. */
export function buildOpenApiDocument(today: string) {
  const operations = apiOperations(today)
  const answers: Registry = z.registry<{ id: string }>()
  for (const [id, schema] of Object.entries(ANSWER_COMPONENTS)) answers.add(schema, { id })
  const bodies: Registry = z.registry<{ id: string }>()
  for (const { body } of operations) if (body) bodies.add(body.schema, { id: body.id })
  return {
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
    paths: pathItems(operations, answers),
    components: {
      schemas: { ...componentSchemas(answers, 'output'), ...componentSchemas(bodies, 'input') },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API token from `npm run token -- create`' },
        session: { type: 'apiKey', in: 'cookie', name: 'prd.sid' },
      },
    },
  }
}

export function openApiRoutes(): Router {
  const router = Router()
  // Built once, when the routes are; the answer is the same for every request.
  const document = buildOpenApiDocument(new Date().toISOString().slice(0, 10))
  router.get('/openapi.json', (_req, res) => {
    res.json(document)
  })
  return router
}
