import { Router, type Request, type Response } from 'express'
import { z } from 'zod'
import { requireRole } from '../auth/authentication.js'
import { hashPassword, passwordSchema } from '../auth/passwords.js'
import { actorOf } from '../auth/requestUser.js'
import { ROLES, type Role } from '../auth/roles.js'
import { DuplicateEmailError, LastActiveAdminError, UsersRepository, type User } from '../data/users.js'
import type { Services } from '../services/container.js'
import type { FieldError } from '../services/complianceService.js'
import { errorView, formValue } from './compliance.js'
import { formatDateTime } from './display.js'
import { positiveId } from '../domain/strictInput.js'

export const ROLE_LABELS: Record<Role, string> = {
  admin: 'Admin',
  compliance: 'Compliance officer',
  assessor: 'Assessor',
}

const ROLE_HINTS: Record<Role, string> = {
  admin: 'Everything, including users, API tokens, the rule set and refresh runs.',
  compliance: 'Records intelligence, opens compliance actions, overrides RAGs; sees notes and references.',
  assessor: 'Reads ratings, reasons and eligibility; no notes, references or entry forms.',
}

const roleField = z.enum(ROLES, { error: 'Select a role' })

const newUserSchema = z.object({
  email: z
    .string({ error: 'Enter an email address' })
    .trim()
    .min(1, 'Enter an email address')
    .max(254, 'The email address must be 254 characters or fewer')
    .pipe(z.email({ error: 'Enter an email address in the correct format, like name@example.org' })),
  role: roleField,
  password: z.string({ error: 'Enter an initial password' }).min(1, 'Enter an initial password').pipe(passwordSchema),
})

const idSchema = positiveId

function bodyOf(req: Request): Record<string, unknown> {
  return typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {}
}

function issuesToErrors(error: z.ZodError): FieldError[] {
  const errors: FieldError[] = []
  for (const issue of error.issues) {
    const field = issue.path.join('.') || '(form)'
    if (!errors.some((e) => e.field === field)) errors.push({ field, message: issue.message })
  }
  return errors
}

function roleItems(selected: string) {
  return ROLES.map((role) => ({
    value: role,
    text: ROLE_LABELS[role],
    hint: { text: ROLE_HINTS[role] },
    checked: role === selected,
  }))
}

function userRow(user: User, timeZone: string) {
  return {
    id: user.id,
    email: user.email,
    role: ROLE_LABELS[user.role],
    status: user.disabled
      ? { text: 'Disabled', classes: 'govuk-tag--grey' }
      : { text: 'Active', classes: 'govuk-tag--green' },
    lastSignIn: user.lastSignInAt ? formatDateTime(user.lastSignInAt, timeZone) : 'Never',
    created: formatDateTime(user.createdAt, timeZone),
    href: `/admin/users/${user.id}`,
  }
}

interface NewUserValues {
  email: string
  role: string
}

function renderNewUser(res: Response, values: NewUserValues, errors: FieldError[] = []) {
  res.status(errors.length > 0 ? 400 : 200).render('pages/admin-users-new', {
    pageTitle: 'Add a user',
    backLink: { href: '/admin/users', text: 'Back to users' },
    values,
    roleItems: roleItems(values.role),
    ...errorView(errors, { role: '#role' }),
  })
}

function renderEditUser(res: Response, services: Services, user: User, self: boolean, errors: FieldError[] = []) {
  res.status(errors.length > 0 ? 400 : 200).render('pages/admin-users-edit', {
    pageTitle: user.email,
    backLink: { href: '/admin/users', text: 'Back to users' },
    user: userRow(user, services.config.TZ),
    disabled: user.disabled,
    self,
    roleAction: `/admin/users/${user.id}/role`,
    disabledAction: `/admin/users/${user.id}/disabled`,
    roleItems: roleItems(user.role),
    ...errorView(errors, { role: '#role' }),
  })
}

/** Runs the change; the last active admin's refusal comes back as the form's error. */
async function lastAdminRefusal(change: () => Promise<unknown>): Promise<FieldError | undefined> {
  try {
    await change()
    return undefined
  } catch (error) {
    if (!(error instanceof LastActiveAdminError)) throw error
    return { field: '(form)', message: error.message }
  }
}

/**
 * `/admin` and `/admin/users` (admin only): list users, add one with a role and an initial password, change a role,
 * disable or enable an account. The users repository audits every change, and refuses to disable or demote the last
 * active admin. Admins may not change their own role or disable themselves.
 */
export function adminUsersRoutes(services: Services): Router {
  const router = Router()
  const admins = requireRole('admin')
  const users = new UsersRepository(services.db)

  router.get('/admin', admins, (_req, res) => {
    res.render('pages/admin-index', {
      pageTitle: 'Admin',
      links: [
        { href: '/admin/users', text: 'Users', description: 'Add users, change roles, disable accounts.' },
        { href: '/admin/tokens', text: 'API tokens', description: 'Tokens for the council’s scripts and BI tools.' },
        { href: '/admin/audit', text: 'Audit log', description: 'Every write: who, when, what, before and after.' },
        { href: '/admin/runs', text: 'Refresh runs', description: 'Overnight refreshes and their source logs.' },
        { href: '/admin/dps', text: 'DPS', description: 'Dynamic purchasing systems, lots, members and gates.' },
        { href: '/admin/rules', text: 'Rule set', description: 'The thresholds behind every RAG, with a preview.' },
      ],
    })
  })

  router.get('/admin/users', admins, async (_req, res) => {
    const list = await users.list()
    res.render('pages/admin-users', {
      pageTitle: 'Users',
      backLink: { href: '/admin', text: 'Back to admin' },
      users: list.map((user) => userRow(user, services.config.TZ)),
    })
  })

  router.get('/admin/users/new', admins, (_req, res) => {
    renderNewUser(res, { email: '', role: '' })
  })

  router.post('/admin/users', admins, async (req, res) => {
    const body = bodyOf(req)
    const values = { email: formValue(body, 'email') ?? '', role: formValue(body, 'role') ?? '' }
    const parsed = newUserSchema.safeParse({
      email: formValue(body, 'email'),
      role: formValue(body, 'role'),
      password: formValue(body, 'password'),
    })
    if (!parsed.success) return renderNewUser(res, values, issuesToErrors(parsed.error))
    try {
      const passwordHash = await hashPassword(parsed.data.password)
      await users.create({ email: parsed.data.email, role: parsed.data.role, passwordHash }, actorOf(req.user!))
    } catch (error) {
      if (!(error instanceof DuplicateEmailError)) throw error
      return renderNewUser(res, values, [{ field: 'email', message: 'A user with this email address already exists' }])
    }
    res.redirect(303, '/admin/users')
  })

  /** Whether the account is the signed-in admin's own (an API token is nobody's account). */
  const isSelf = (req: Request, user: User) => req.user?.via === 'session' && req.user.id === user.id

  async function findUser(req: Request): Promise<User | undefined> {
    const id = idSchema.safeParse(req.params.id)
    return id.success ? users.findById(id.data) : undefined
  }

  router.get('/admin/users/:id', admins, async (req, res, next) => {
    const user = await findUser(req)
    if (!user) return next()
    renderEditUser(res, services, user, isSelf(req, user))
  })

  router.post('/admin/users/:id/role', admins, async (req, res, next) => {
    const user = await findUser(req)
    if (!user) return next()
    const self = isSelf(req, user)
    if (self) {
      return renderEditUser(res, services, user, self, [
        { field: '(form)', message: 'You cannot change your own role' },
      ])
    }
    const parsed = z.object({ role: roleField }).safeParse({ role: formValue(bodyOf(req), 'role') })
    if (!parsed.success) return renderEditUser(res, services, user, self, issuesToErrors(parsed.error))
    if (parsed.data.role !== user.role) {
      const refusal = await lastAdminRefusal(() => users.setRole(user.id, parsed.data.role, actorOf(req.user!)))
      if (refusal) return renderEditUser(res, services, user, self, [refusal])
    }
    res.redirect(303, `/admin/users/${user.id}`)
  })

  router.post('/admin/users/:id/disabled', admins, async (req, res, next) => {
    const user = await findUser(req)
    if (!user) return next()
    const self = isSelf(req, user)
    if (self) {
      return renderEditUser(res, services, user, self, [
        { field: '(form)', message: 'You cannot disable your own account' },
      ])
    }
    const wanted = z.object({
      disabled: z.enum(['true', 'false'], { error: 'Choose to disable or enable the account' }),
    })
    const parsed = wanted.safeParse({ disabled: formValue(bodyOf(req), 'disabled') })
    if (!parsed.success) return renderEditUser(res, services, user, self, issuesToErrors(parsed.error))
    const disable = parsed.data.disabled === 'true'
    if (disable !== user.disabled) {
      const refusal = await lastAdminRefusal(() => users.setDisabled(user.id, disable, actorOf(req.user!)))
      if (refusal) return renderEditUser(res, services, user, self, [refusal])
    }
    res.redirect(303, `/admin/users/${user.id}`)
  })

  return router
}
