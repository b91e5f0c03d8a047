import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { migrate, openDatabase, readMigrations } from '../../src/data/database.js'
import { migratePostgres, readPostgresMigrations } from '../../src/data/postgres/migrate.js'
import { usePostgresDatabases } from '../helpers/postgres.js'

/**
 * The data steps of the data migrations (010, 020) do on PostgreSQL what they do on SQLite: the same rows, written
 * before them in both dialects, read back alike after them.
 */
const postgres = usePostgresDatabases()
const pools: pg.Pool[] = []
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.end()))
})

const NOW = '2026-12-01T02:00:00.000Z'
const flagged = (deteriorating: boolean) => JSON.stringify({ rag: 'amber', flags: { deteriorating } })
const ROWS_BEFORE_010 = [
  `INSERT INTO providers (id, name, created_at, updated_at) VALUES (1, 'P', '${NOW}', '${NOW}')`,
  `INSERT INTO refresh_runs (id, kind, trigger, started_at, status) VALUES (1, 'seed', NULL, '${NOW}', 'completed')`,
  `INSERT INTO refresh_runs (id, kind, trigger, started_at, status) VALUES (2, 'entry', 'override S1', '${NOW}', 'completed')`,
  `INSERT INTO refresh_runs (id, kind, trigger, started_at, status) VALUES (3, 'full', 'schedule', '${NOW}', 'completed')`,
  ...[1, 2, 3].map(
    (id) => `INSERT INTO services (id, ref, name, provider_id, service_type, area, contract_status, created_at, updated_at)
      VALUES (${id}, 'S${id}', 'Service ${id}', 1, 'care_home', 'North', 'active', '${NOW}', '${NOW}')`,
  ),
  ...[1, 2, 3].map(
    (id) => `INSERT INTO snapshots (id, run_id, service_id, as_of, computed_at, rag, computed_rag, score, result,
      fingerprint, rule_set_version) VALUES (${id}, ${id === 3 ? 3 : 1}, ${id}, '2025-0${id}-15', '${NOW}', 'amber',
      'amber', 10, '${flagged(id === 1)}', 'f', 1)`,
  ),
  ...[1, 2, 3].map(
    (id) => `INSERT INTO current_snapshots (service_id, snapshot_id, run_id, changed_at, rag, score)
      VALUES (${id}, ${id}, ${id === 3 ? 3 : 1}, '${NOW}', 'amber', 10)`,
  ),
  `INSERT INTO rag_changes (id, run_id, service_id, from_rag, to_rag, at) VALUES (1, 1, 1, NULL, 'amber', '${NOW}')`,
  `INSERT INTO rag_changes (id, run_id, service_id, from_rag, to_rag, at) VALUES (2, 3, 3, 'green', 'amber', '2026-11-30T02:00:00.000Z')`,
]
const ROWS_BEFORE_020 = [
  // No id given: PostgreSQL's identity would not move past one, and 020 inserts observations of its own.
  `INSERT INTO observations (service_id, indicator, source, natural_key, observed_on, value, recorded_at)
    VALUES (1, 'default_notice', 'intelligence', 'k1', '2026-10-01', 'default_notice', '${NOW}')`,
  `INSERT INTO compliance_actions (id, service_id, kind, owner, opened_on, created_by, created_at, updated_at)
    VALUES (1, 1, 'default_notice', 'o', '2026-10-01', 'u', '${NOW}', '${NOW}')`,
  `INSERT INTO compliance_actions (id, service_id, kind, owner, opened_on, closed_on, created_by, created_at, updated_at)
    VALUES (2, 2, 'suspension_of_new_placements', 'o', '2026-09-01', '2026-11-01', 'u', '${NOW}', '${NOW}')`,
]
const READ_BACK = [
  'SELECT service_id, deteriorating, rag_since FROM current_snapshots ORDER BY service_id',
  'SELECT id, at FROM rag_changes ORDER BY id',
  'SELECT id, cause FROM refresh_runs ORDER BY id',
  'SELECT id, observation_id FROM compliance_actions ORDER BY id',
  `SELECT id, service_id, indicator, source, natural_key, observed_on, end_date, value, detail, entered_by
     FROM observations ORDER BY id`,
]

describe.skipIf(!postgres.available)('data migrations on PostgreSQL', () => {
  it('010 and 020 turn the same rows into the same rows as on SQLite', async () => {
    const sqlite = openDatabase(':memory:')
    const sqliteMigrations = readMigrations()
    migrate(sqlite, sqliteMigrations.filter((m) => m.version < 10))
    for (const sql of ROWS_BEFORE_010) sqlite.exec(sql)
    migrate(sqlite, sqliteMigrations.filter((m) => m.version < 20))
    for (const sql of ROWS_BEFORE_020) sqlite.exec(sql)
    migrate(sqlite, sqliteMigrations)
    const onSqlite = READ_BACK.map((sql) => sqlite.prepare(sql).all())
    sqlite.close()

    const pool = new pg.Pool({ connectionString: await postgres.create(), max: 1 })
    pools.push(pool)
    const postgresMigrations = readPostgresMigrations()
    await migratePostgres(pool, postgresMigrations.filter((m) => m.version < 10))
    for (const sql of ROWS_BEFORE_010) await pool.query(sql)
    await migratePostgres(pool, postgresMigrations.filter((m) => m.version < 20))
    for (const sql of ROWS_BEFORE_020) await pool.query(sql)
    await migratePostgres(pool, postgresMigrations)
    const onPostgres: unknown[][] = []
    for (const sql of READ_BACK) onPostgres.push((await pool.query(sql)).rows)

    expect(onSqlite[0]).toEqual([
      { service_id: 1, deteriorating: 1, rag_since: '2025-01-15T00:00:00.000Z' },
      { service_id: 2, deteriorating: 0, rag_since: NOW },
      { service_id: 3, deteriorating: 0, rag_since: '2026-11-30T02:00:00.000Z' },
    ])
    expect(onSqlite[4]).toHaveLength(2)
    expect(onPostgres).toEqual(onSqlite)
  })
})
