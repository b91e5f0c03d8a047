import { describe } from 'vitest'
import { openTestDatabase } from '../../src/data/database.js'
import { sqliteStore, type Store } from '../../src/data/store.js'

/** A way to make a fresh, migrated, empty store of one kind. */
export interface StoreKind {
  name: string
  open(): Promise<Store>
}

export const sqliteMemory: StoreKind = {
  name: 'SQLite',
  open: async () => sqliteStore(openTestDatabase()),
}

/** Every store kind this machine can run: SQLite always; PostgreSQL when TEST_DATABASE_URL is set. */
export function storeKinds(): StoreKind[] {
  return [sqliteMemory]
}

/**
 * The store contract suite: `define` runs once per store kind, so each adapter passes the same tests unchanged.
 * `open` gives a fresh empty store for one test.
 */
export function describeEachStore(title: string, define: (open: () => Promise<Store>) => void): void {
  for (const kind of storeKinds()) describe(`${title} (${kind.name})`, () => define(() => kind.open()))
}
