import type { Request, Response } from 'express'
import { z } from 'zod'

/** The usual item of an error's `details`: which input, and what is wrong with it. */
export const fieldErrorSchema = z.object({ field: z.string(), message: z.string() })

/** SPEC §9: API errors are `{ error, details }` with the right status. */
export const apiErrorSchema = z.object({
  error: z.string(),
  details: z
    .array(z.unknown())
    .describe('Usually field errors ({ field, message }); failing gates for a refused award'),
})
export type ApiError = z.infer<typeof apiErrorSchema>

export function sendApiError(res: Response, status: number, error: string, details: unknown[] = []): void {
  res.status(status).json({ error, details } satisfies ApiError)
}

/** Whether the request is for the JSON API: routing ignores case, so `/API/v1/...` is the API too. */
export function isApiRequest(req: Request): boolean {
  return /^\/api(?:[/?]|$)/i.test(req.originalUrl)
}

const BODY_ERROR_MESSAGES: Record<string, string> = {
  'entity.parse.failed': 'The body is not valid JSON',
  'entity.too.large': 'The body is too large',
  'charset.unsupported': 'The body has an unsupported character set',
  'encoding.unsupported': 'The body has an unsupported content encoding',
}

/** A body-parser refusal (`error.type`), as an entry of an API error's `details`; undefined for other errors. */
export function bodyErrorDetail(error: unknown): z.infer<typeof fieldErrorSchema> | undefined {
  const type = (error as { type?: unknown } | null)?.type
  if (typeof type !== 'string' || !(type in BODY_ERROR_MESSAGES)) return undefined
  const reason = type === 'entity.parse.failed' ? `: ${(error as Error).message}` : ''
  return { field: '(body)', message: `${BODY_ERROR_MESSAGES[type]}${reason}` }
}
