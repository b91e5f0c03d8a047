import { Router, type Request, type Response } from 'express'
import { z } from 'zod'
import { requireRole } from '../auth/authentication.js'
import { actorOf } from '../auth/requestUser.js'
import { ROLES } from '../auth/roles.js'
import { ApiTokensRepository, type ApiToken } from '../data/apiTokens.js'
import type { FieldError } from '../services/complianceService.js'
import type { Services } from '../services/container.js'
import { ROLE_LABELS } from './adminUsers.js'
import { errorView, formValue } from './compliance.js'
import { formatDateTime } from './display.js'
import { positiveId, safeText } from '../domain/strictInput.js'

export const TOKEN_NAME_MAX_LENGTH = 100

const newTokenSchema = z.object({
  name: safeText(
    z
      .string({ error: 'Enter a name for the token' })
      .trim()
      .min(1, 'Enter a name for the token')
      .max(TOKEN_NAME_MAX_LENGTH, `The name must be ${TOKEN_NAME_MAX_LENGTH} characters or fewer`),
  ),
  role: z.enum(ROLES, { error: 'Select the role the token acts with' }),
})

const idSchema = positiveId

function bodyOf(req: Request): Record<string, unknown> {
  return typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {}
}

function tokenRow(token: ApiToken, timeZone: string) {
  return {
    id: token.id,
    name: token.name,
    role: ROLE_LABELS[token.role],
    created: `${formatDateTime(token.createdAt, timeZone)} by ${token.createdBy}`,
    lastUsed: token.lastUsedAt ? formatDateTime(token.lastUsedAt, timeZone) : 'Never',
    revoked: token.revokedAt ? `${formatDateTime(token.revokedAt, timeZone)} by ${token.revokedBy ?? ''}` : null,
    revokeAction: `/admin/tokens/${token.id}/revoke`,
  }
}

/**
 * `/admin/tokens` (admin only): API tokens for scripts (SPEC §9). The secret is shown once, on the page answering the
 * creation, and only its hash is kept. The repository audits creation and revocation.
 */
export function adminTokensRoutes(services: Services): Router {
  const router = Router()
  const admins = requireRole('admin')
  const tokens = new ApiTokensRepository(services.db)

  async function renderList(res: Response, values = { name: '', role: '' }, errors: FieldError[] = []) {
    const list = await tokens.list()
    res.status(errors.length > 0 ? 400 : 200).render('pages/admin-tokens', {
      pageTitle: 'API tokens',
      backLink: { href: '/admin', text: 'Back to admin' },
      active: list.filter((t) => t.revokedAt === null).map((t) => tokenRow(t, services.config.TZ)),
      revoked: list.filter((t) => t.revokedAt !== null).map((t) => tokenRow(t, services.config.TZ)),
      values,
      roleItems: ROLES.map((role) => ({ value: role, text: ROLE_LABELS[role], checked: role === values.role })),
      ...errorView(errors, { role: '#role' }),
    })
  }

  router.get('/admin/tokens', admins, async (_req, res) => {
    await renderList(res)
  })

  router.post('/admin/tokens', admins, async (req, res) => {
    const body = bodyOf(req)
    const values = { name: formValue(body, 'name') ?? '', role: formValue(body, 'role') ?? '' }
    const parsed = newTokenSchema.safeParse({ name: formValue(body, 'name'), role: formValue(body, 'role') })
    if (!parsed.success) {
      const errors: FieldError[] = []
      for (const issue of parsed.error.issues) {
        const field = issue.path.join('.')
        if (!errors.some((e) => e.field === field)) errors.push({ field, message: issue.message })
      }
      return renderList(res, values, errors)
    }
    const issued = await tokens.create(parsed.data, actorOf(req.user!))
    res.status(201).render('pages/admin-tokens-created', {
      pageTitle: 'API token created',
      token: tokenRow(issued.token, services.config.TZ),
      secret: issued.secret,
    })
  })

  router.post('/admin/tokens/:id/revoke', admins, async (req, res, next) => {
    const id = idSchema.safeParse(req.params.id)
    if (!id.success) return next()
    const revoked = await tokens.revoke(id.data, actorOf(req.user!))
    if (!revoked) return next()
    res.redirect(303, '/admin/tokens')
  })

  return router
}
