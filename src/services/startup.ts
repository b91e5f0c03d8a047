import { createDemoUsers, DEMO_USERS, disableDemoPasswords, type DemoCredential } from '../auth/demoUsers.js'
import { UsersRepository } from '../data/users.js'
import type { Services } from './container.js'
import { seedDemoBorough } from './demoSeedService.js'
import { RefreshService } from './refreshService.js'
import { buildSourceSteps } from './sources/index.js'

export interface StartupOutcome {
  seeded: boolean
  demoUsers: DemoCredential[]
}

/**
 * `npm start` on an empty database seeds the demo borough and its users and computes a first snapshot; on a
 * non-empty one it changes nothing (beyond storing the default rule set if none is stored yet): a council's own
 * register never gets the well-known demo sign-ins. Production never gets demo data or demo users, and a start in
 * production disables any demo account still holding its published password (a database first started in development).
 * `demoUsers` are the demo sign-ins that exist, for `npm start` to print.
 */
export async function prepareDatabase(services: Services, log: (line: string) => void): Promise<StartupOutcome> {
  await services.risk.activeRuleSet()
  const users = new UsersRepository(services.db)
  if (services.config.NODE_ENV === 'production') {
    for (const email of await disableDemoPasswords(users)) {
      const line = `Production: disabled the demo account ${email}, which still had its published password. Create your own admin with: npm run user -- add <email> --role admin`
      services.logger.warn({ email }, 'demo account with its published password disabled')
      log(line)
    }
    return { seeded: false, demoUsers: [] }
  }
  if ((await services.serviceRepository.count()) > 0) {
    const existing: DemoCredential[] = []
    for (const demo of DEMO_USERS) if ((await users.findByEmail(demo.email)) !== undefined) existing.push({ ...demo })
    return { seeded: false, demoUsers: existing }
  }
  await createDemoUsers(users, services.config.NODE_ENV)
  const demoUsers = [...DEMO_USERS]
  log('Empty database: seeding the demo borough')
  await seedDemoBorough(services, { onProgress: log })
  const summary = await new RefreshService(services, buildSourceSteps(services)).run({ trigger: 'first start' })
  log(`First refresh: ${summary.servicesComputed} services computed, run ${summary.runId}`)
  return { seeded: true, demoUsers }
}
