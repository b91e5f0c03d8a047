import { Kysely } from 'kysely'
import type { Db } from './database.js'
import type { ExecutorSource } from './executor.js'
import type { Platform } from './platform.js'
import { sqlitePlatform } from './sqlite/platform.js'

/**
 * The platform of a repository: the store's, or, for one built on a raw SQLite handle (tests, command-line jobs),
 * that handle's.
 */
export function platformFor(source: ExecutorSource, platform: Platform | undefined): Platform {
  if (platform) return platform
  if (!(source instanceof Kysely)) return sqlitePlatform(source as Db)
  throw new Error('A repository built on an executor needs its platform')
}
