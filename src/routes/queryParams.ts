import { z } from 'zod'
import { LISTING_SORTS, type ListingFilter } from '../data/serviceListing.js'
import { RAGS, SERVICE_TYPES } from '../domain/vocabulary.js'
import { decimal } from '../domain/strictInput.js'

/** A query parameter that may repeat (`?rag=red&rag=amber`) or hold a comma list (`?rag=red,amber`). */
function repeated<T extends z.ZodType<string, string>>(item: T) {
  return z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((value) =>
      (value === undefined ? [] : Array.isArray(value) ? value : [value])
        .flatMap((v) => v.split(','))
        .map((v) => v.trim())
        .filter((v) => v !== ''),
    )
    .pipe(z.array(item).max(50))
}

/** Filters shared by the dashboard page, its CSV export and `GET /api/v1/services`. */
export const serviceFilterSchema = z.object({
  rag: repeated(z.enum(RAGS, { error: `must be one of ${RAGS.join(', ')}` })),
  area: repeated(z.string().max(100)),
  type: repeated(z.enum(SERVICE_TYPES, { error: `must be one of ${SERVICE_TYPES.join(', ')}` })),
  q: z.string().trim().max(100, 'must be 100 characters or fewer').optional(),
  eligible: z.enum(['true', 'false', 'yes', 'no', '']).optional(),
  deteriorating: z.enum(['true', '1', 'false', '0', '']).optional(),
  sort: z.enum(LISTING_SORTS).default('rag'),
  dir: z.enum(['asc', 'desc']).default('asc'),
  page: decimal(z.number().int().min(1).max(1_000_000).default(1)),
  pageSize: decimal(z.number().int().min(1).max(500).default(50)),
})
export type ServiceFilterQuery = z.infer<typeof serviceFilterSchema>

export function toListingFilter(query: ServiceFilterQuery): ListingFilter {
  return {
    rag: query.rag,
    area: query.area,
    type: query.type,
    q: query.q || undefined,
    deteriorating: query.deteriorating === 'true' || query.deteriorating === '1' ? true : undefined,
    eligible:
      query.eligible === 'true' || query.eligible === 'yes'
        ? true
        : query.eligible === 'false' || query.eligible === 'no'
          ? false
          : undefined,
    sort: query.sort,
    direction: query.dir,
    limit: query.pageSize,
    offset: (query.page - 1) * query.pageSize,
  }
}

/** zod issues as `{ field, message }`, the `details` of a 400 and the items of a GOV.UK error summary. */
export function fieldErrors(error: z.ZodError): Array<{ field: string; message: string }> {
  return error.issues.map((issue) => ({ field: issue.path.join('.') || '(request)', message: issue.message }))
}
