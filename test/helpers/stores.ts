import pg from 'pg'
import { afterAll, describe } from 'vitest'
import { openTestDatabase } from '../../src/data/database.js'
import { sqliteStore, type Store } from '../../src/data/store.js'
import { openPostgresStore } from '../../src/data/postgres/store.js'
import { usePostgresDatabases } from './postgres.js'

/** A way to make a fresh, migrated, empty store of one kind. */
export interface StoreKind {
  name: string
  open(): Promise<Store>
}

export const sqliteMemory: StoreKind = {
  name: 'SQLite',
  open: async () => sqliteStore(openTestDatabase()),
}

/**
 * PostgreSQL: one database per test file, and in it a new schema per store, migrated, so every test starts empty
 * without the cost of a database each. Every store is closed after the file.
 */
function postgresKind(): StoreKind | null {
  const databases = usePostgresDatabases()
  if (!databases.available) return null
  let database: Promise<string> | null = null
  const opened: Store[] = []
  let schemas = 0
  afterAll(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()))
  })
  return {
    name: 'PostgreSQL',
    async open() {
      database ??= databases.create()
      const url = new URL(await database)
      const schema = `store_${++schemas}`
      const client = new pg.Client({ connectionString: url.toString() })
      await client.connect()
      await client.query(`CREATE SCHEMA ${schema}`).finally(() => client.end())
      url.searchParams.set('options', `-c search_path=${schema}`)
      const store = await openPostgresStore(url.toString(), { poolSize: 4 })
      opened.push(store)
      return store
    },
  }
}

/** Every store kind this machine can run: SQLite always; PostgreSQL when TEST_DATABASE_URL is set. */
export function storeKinds(): StoreKind[] {
  const postgres = postgresKind()
  return postgres ? [sqliteMemory, postgres] : [sqliteMemory]
}

/**
 * The store contract suite: `define` runs once per store kind, so each adapter passes the same tests unchanged.
 * `open` gives a fresh empty store for one test.
 */
export function describeEachStore(
  title: string,
  define: (open: () => Promise<Store>) => void,
  options: { notYetOnPostgres?: string } = {},
): void {
  for (const kind of storeKinds()) {
    // While the conversion to the seam is under way, a suite leaning on a repository not yet converted says so.
    if (kind.name === 'PostgreSQL' && options.notYetOnPostgres) {
      describe.skip(`${title} (${kind.name}): ${options.notYetOnPostgres}`, () => define(() => kind.open()))
      continue
    }
    describe(`${title} (${kind.name})`, () => define(() => kind.open()))
  }
}
