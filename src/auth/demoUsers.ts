import type { Config } from '../config.js'
import { DuplicateEmailError, type UsersRepository } from '../data/users.js'
import { hashPassword } from './passwords.js'
import type { Role } from './roles.js'

export interface DemoCredential {
  email: string
  role: Role
  password: string
}

/** Well known on purpose: they are printed at start and in the README. Never created in production. */
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
