import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { migrate, openDatabase, readMigrations } from '../../src/data/database.js'
import { migratePostgres, readPostgresMigrations } from '../../src/data/postgres/migrate.js'
import { usePostgresDatabases } from '../helpers/postgres.js'
import { postgresSchemaFacts, schemaDifferences, sqliteSchemaFacts } from '../helpers/schemaFacts.js'

const postgres = usePostgresDatabases()
const pools: pg.Pool[] = []

function poolFor(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 2 })
  pools.push(pool)
  return pool
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.end()))
})

describe('migrations per dialect', () => {
  it('every SQLite migration has a PostgreSQL twin of the same number and name, and no other', () => {
    expect(readPostgresMigrations().map((m) => m.name)).toEqual(readMigrations().map((m) => m.name))
  })
})

describe.skipIf(!postgres.available)('schema drift between SQLite and PostgreSQL', () => {
  it('a freshly migrated PostgreSQL database has the tables, columns, keys and indexes of a fresh SQLite one', async () => {
    const sqlite = openDatabase(':memory:')
    migrate(sqlite)
    const sqliteFacts = sqliteSchemaFacts(sqlite)
    sqlite.close()
    const pool = poolFor(await postgres.create())
    expect(await migratePostgres(pool)).toEqual(readPostgresMigrations().map((m) => m.version))
    const postgresFacts = await postgresSchemaFacts(pool)

    expect(sqliteFacts.length).toBeGreaterThan(100)
    expect(schemaDifferences(sqliteFacts, postgresFacts)).toEqual([])
  })

  it('a second migrate applies nothing', async () => {
    const pool = poolFor(await postgres.create())
    await migratePostgres(pool)
    expect(await migratePostgres(pool)).toEqual([])
  })

  it('two instances migrating one database together apply each migration once', async () => {
    const url = await postgres.create()
    const [first, second] = await Promise.all([migratePostgres(poolFor(url)), migratePostgres(poolFor(url))])

    const all = readPostgresMigrations().map((m) => m.version)
    expect([...(first ?? []), ...(second ?? [])].sort((a, b) => a - b)).toEqual(all)
    const ledger = await poolFor(url).query<{ version: number; times: string }>(
      'SELECT version, count(*) AS times FROM schema_migrations GROUP BY version ORDER BY version',
    )
    expect(ledger.rows.map((row) => row.version)).toEqual(all)
    expect(ledger.rows.every((row) => row.times === '1')).toBe(true)
  })
})
