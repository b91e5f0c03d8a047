import { AsyncLocalStorage } from 'node:async_hooks'
import { openDatabase, migrate, schemaVersion, type Db } from './database.js'
import { databaseDamage } from './databaseDamage.js'
import { executorFor, type Executor } from './executor.js'
import type { Dialect, Platform } from './platform.js'
import { createRepositories, type Repositories } from './repositories.js'
import { sqlitePlatform } from './sqlite/platform.js'

export type { Repositories } from './repositories.js'

/**
 * The store port (docs/adr/0004, 0010): the only way the layers above reach the data. `read` and `write` each run
 * their work in one transaction, on repositories built for it; a read sees one snapshot whatever other processes
 * commit meanwhile, a write commits whole or not at all. Called inside another's work, they join it.
 */
export interface Store {
  readonly dialect: Dialect
  read<T>(work: (repositories: Repositories) => Promise<T>): Promise<T>
  write<T>(work: (repositories: Repositories) => Promise<T>): Promise<T>
  /** Repositories whose every statement is its own transaction, for a single read or write. */
  readonly repositories: Repositories
  /** Moves when what a page shows may have changed (see Platform.dataVersion). */
  dataVersion(): Promise<string>
  /** Reads from the database (throwing when it cannot, or when the SQLite file is damaged). */
  health(): Promise<{ dialect: Dialect; schemaVersion: number }>
  close(): Promise<void>
}

interface OpenTransaction {
  store: Store
  mode: 'read' | 'write'
  repositories: Repositories
}

const openTransaction = new AsyncLocalStorage<OpenTransaction>()

/** A store over an open SQLite handle; one per handle. */
const sqliteStores = new WeakMap<Db, Store>()

export function sqliteStore(db: Db): Store {
  let store = sqliteStores.get(db)
  if (!store) {
    store = createSqlStore(executorFor(db), sqlitePlatform(db), db, {
      schemaVersion: async () => {
        const damage = db.memory ? [] : databaseDamage(db.name)
        if (damage.length > 0) throw new Error(`The database file is damaged: ${damage.slice(0, 3).join('; ')}`)
        return schemaVersion(db)
      },
      close: async () => {
        db.close()
      },
    })
    sqliteStores.set(db, store)
  }
  return store
}

/** Opens (creating and migrating) the SQLite database at `path`. */
export function openSqliteStore(path: string): Store {
  const db = openDatabase(path)
  migrate(db)
  return sqliteStore(db)
}

const legacyHandles = new WeakMap<Store, Db>()

/**
 * The raw SQLite handle under a store, for the composition root's repositories not yet on the seam (PostgreSQL's
 * throws at first use). Goes when the conversion is done.
 */
export function legacyHandleOf(store: Store): Db {
  return legacyHandles.get(store) as Db
}

export function isStore(source: unknown): source is Store {
  return typeof source === 'object' && source !== null && 'write' in source && 'read' in source && 'dialect' in source
}

export function createSqlStore(
  root: Executor,
  platform: Platform,
  legacy: Db,
  own: { schemaVersion(): Promise<number>; close(): Promise<void> },
): Store {
  const store: Store = {
    dialect: platform.dialect,
    repositories: createRepositories(root, platform, legacy),

    async read(work) {
      const open = openTransaction.getStore()
      if (open?.store === store) return work(open.repositories)
      return root
        .transaction()
        .setAccessMode('read only')
        .setIsolationLevel('repeatable read')
        .execute((trx) => {
          const repositories = createRepositories(trx, platform, legacy)
          return openTransaction.run({ store, mode: 'read', repositories }, () => work(repositories))
        })
    },

    async write(work) {
      const open = openTransaction.getStore()
      if (open?.store === store) {
        if (open.mode === 'read') throw new Error('A write cannot join a read transaction')
        return work(open.repositories)
      }
      return root.transaction().execute((trx) => {
        const repositories = createRepositories(trx, platform, legacy)
        return openTransaction.run({ store, mode: 'write', repositories }, () => work(repositories))
      })
    },

    dataVersion: () => platform.dataVersion(root),
    health: async () => ({ dialect: platform.dialect, schemaVersion: await own.schemaVersion() }),
    close: () => own.close(),
  }
  legacyHandles.set(store, legacy)
  return store
}
