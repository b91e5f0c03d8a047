import type { Config } from '../config.js'
import { DuplicateEmailError, normaliseEmail, type UsersRepository } from '../data/users.js'
import { hashPassword, verifyPassword } from './passwords.js'
import type { Role } from './roles.js'

export interface DemoCredential {
  email: string
  role: Role
  password: string
}

/**
 * Well known on purpose: they are printed at start and in the README. Never created in production, and never accepted
 * there (see disableDemoPasswords and the sign-in route).
 */
export const DEMO_USERS: readonly DemoCredential[] = [
  { email: 'admin@example.org', role: 'admin', password: 'demo-admin-password' },
  { email: 'compliance@example.org', role: 'compliance', password: 'demo-compliance-password' },
  { email: 'assessor@example.org', role: 'assessor', password: 'demo-assessor-password' },
]

/**
 * Creates the demo users that do not exist yet and returns the credentials of those it created
 * (so `npm start` can print them). Does nothing when NODE_ENV is production.
 */
export async function createDemoUsers(users: UsersRepository, nodeEnv: Config['NODE_ENV']): Promise<DemoCredential[]> {
  if (nodeEnv === 'production') return []
  const created: DemoCredential[] = []
  for (const demo of DEMO_USERS) {
    if ((await users.findByEmail(demo.email)) !== undefined) continue
    try {
      await users.create(
        { email: demo.email, role: demo.role, passwordHash: await hashPassword(demo.password) },
        'system',
      )
      created.push({ ...demo })
    } catch (error) {
      // Another process created it in the meantime: it exists, which is all we wanted.
      if (!(error instanceof DuplicateEmailError)) throw error
    }
  }
  return created
}

/** Whether the email and password are one of the published demo sign-ins. */
export function isDemoCredential(email: string, password: string): boolean {
  const typed = normaliseEmail(email)
  return DEMO_USERS.some((demo) => demo.email === typed && demo.password === password)
}

/**
 * For a start under NODE_ENV=production on a database first used in development: disables each demo account still
 * holding its published password (audited, actor `system`), and returns their emails for the log. An account whose
 * password was changed is left alone.
 */
export async function disableDemoPasswords(users: UsersRepository): Promise<string[]> {
  const disabled: string[] = []
  for (const demo of DEMO_USERS) {
    const credentials = await users.findCredentialsByEmail(demo.email)
    if (credentials === undefined || credentials.disabled) continue
    if (!(await verifyPassword(credentials.passwordHash, demo.password))) continue
    await users.setDisabled(credentials.id, true, 'system', { evenTheLastAdmin: true })
    disabled.push(demo.email)
  }
  return disabled
}
