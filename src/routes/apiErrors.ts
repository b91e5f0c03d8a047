import type { Response } from 'express'

/** SPEC §9: API errors are `{ error, details }` with the right status. */
export function sendApiError(res: Response, status: number, error: string, details: unknown[] = []): void {
  res.status(status).json({ error, details })
}
