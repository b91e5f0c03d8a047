import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  migrate,
  openDatabase,
  openTestDatabase,
  readMigrations,
  schemaVersion,
  type Db,
} from '../../src/data/database.js'

function tableNames(db: Db): string[] {
  return (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map(
    (row) => row.name,
  )
}

describe('migrations', () => {
  let dir: string
  let db: Db

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'))
    db = openDatabase(':memory:')
  })

  afterEach(() => {
    db.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  function write(file: string, sql: string): void {
    fs.writeFileSync(path.join(dir, file), sql)
  }

  it('reads NNN_name.sql files in numeric order and ignores anything else', () => {
    write('010_later.sql', 'CREATE TABLE later (id INTEGER);')
    write('002_second.sql', 'CREATE TABLE second (id INTEGER);')
    write('001_first.sql', 'CREATE TABLE first (id INTEGER);')
    write('README.md', '# not a migration')
    write('004 bad name.sql', 'CREATE TABLE nope (id INTEGER);')

    expect(readMigrations(dir).map((m) => [m.version, m.name])).toEqual([
      [1, '001_first.sql'],
      [2, '002_second.sql'],
      [10, '010_later.sql'],
    ])
  })

  it('applies pending migrations in order and sets user_version to the last', () => {
    write('001_first.sql', 'CREATE TABLE first (id INTEGER PRIMARY KEY);')
    // Depends on 001: only works when applied after it.
    write('002_second.sql', 'CREATE TABLE second (first_id INTEGER REFERENCES first (id)); INSERT INTO first VALUES (7);')

    expect(migrate(db, readMigrations(dir))).toEqual([1, 2])
    expect(schemaVersion(db)).toBe(2)
    expect(tableNames(db)).toEqual(['first', 'second'])
  })

  it('does nothing when re-run, and applies only the new ones when more are added', () => {
    write('001_first.sql', 'CREATE TABLE first (id INTEGER PRIMARY KEY); INSERT INTO first VALUES (1);')
    migrate(db, readMigrations(dir))

    expect(migrate(db, readMigrations(dir))).toEqual([])
    expect(db.prepare('SELECT COUNT(*) AS n FROM first').get()).toEqual({ n: 1 })

    write('002_second.sql', 'INSERT INTO first VALUES (2);')
    expect(migrate(db, readMigrations(dir))).toEqual([2])
    expect(schemaVersion(db)).toBe(2)
    expect(db.prepare('SELECT COUNT(*) AS n FROM first').get()).toEqual({ n: 2 })
  })

  it('rolls a failing migration back whole and keeps the earlier ones', () => {
    write('001_first.sql', 'CREATE TABLE first (id INTEGER PRIMARY KEY);')
    write('002_broken.sql', 'CREATE TABLE half_done (id INTEGER); INSERT INTO first VALUES (1); INSERT INTO missing VALUES (1);')
    write('003_never.sql', 'CREATE TABLE never (id INTEGER);')

    expect(() => migrate(db, readMigrations(dir))).toThrow(/002_broken\.sql failed: no such table: missing/)
    expect(schemaVersion(db)).toBe(1)
    expect(tableNames(db)).toEqual(['first'])
    expect(db.prepare('SELECT COUNT(*) AS n FROM first').get()).toEqual({ n: 0 })
    expect(db.inTransaction).toBe(false)

    write('002_broken.sql', 'CREATE TABLE fixed (id INTEGER);')
    expect(migrate(db, readMigrations(dir))).toEqual([2, 3])
    expect(tableNames(db)).toEqual(['first', 'fixed', 'never'])
  })

  it('refuses two migrations with the same version before applying any', () => {
    write('001_first.sql', 'CREATE TABLE first (id INTEGER);')
    write('001_other.sql', 'CREATE TABLE other (id INTEGER);')

    expect(() => migrate(db, readMigrations(dir))).toThrow(/share version 1/)
    expect(schemaVersion(db)).toBe(0)
    expect(tableNames(db)).toEqual([])
  })

  it('openTestDatabase applies every project migration', () => {
    const migrated = openTestDatabase()
    const versions = readMigrations().map((m) => m.version)
    expect(versions[0]).toBe(1)
    expect(schemaVersion(migrated)).toBe(versions[versions.length - 1])
    expect(tableNames(migrated)).toEqual(
      expect.arrayContaining(['providers', 'services', 'observations', 'refresh_runs', 'snapshots', 'current_snapshots']),
    )
    expect(migrate(migrated)).toEqual([])
    migrated.close()
  })

  it('010 carries the deteriorating flag of existing judgements into the new columns', () => {
    const all = readMigrations()
    migrate(db, all.filter((m) => m.version < 10))
    const now = '2026-12-01T02:00:00.000Z'
    db.exec(`INSERT INTO providers (id, name, created_at, updated_at) VALUES (1, 'P', '${now}', '${now}')`)
    db.exec(`INSERT INTO refresh_runs (id, kind, started_at, status) VALUES (1, 'full', '${now}', 'completed')`)
    const flagged = (deteriorating: boolean) =>
      JSON.stringify({ rag: 'amber', flags: { deteriorating, multipleConcerns: false } })
    for (const [id, deteriorating] of [[1, true], [2, false]] as const) {
      db.exec(`INSERT INTO services (id, ref, name, provider_id, service_type, area, contract_status, created_at, updated_at)
        VALUES (${id}, 'S${id}', 'Service ${id}', 1, 'care_home', 'North', 'active', '${now}', '${now}')`)
      db.prepare(
        `INSERT INTO snapshots (id, run_id, service_id, as_of, computed_at, rag, computed_rag, score, result, fingerprint,
           rule_set_version) VALUES (?, 1, ?, '2026-12-01', ?, 'amber', 'amber', 10, ?, 'f', 1)`,
      ).run(id, id, now, flagged(deteriorating))
      db.exec(`INSERT INTO current_snapshots (service_id, snapshot_id, run_id, changed_at, rag, score)
        VALUES (${id}, ${id}, 1, '${now}', 'amber', 10)`)
    }
    migrate(db, all)
    const flags = db.prepare('SELECT service_id, deteriorating FROM current_snapshots ORDER BY service_id').all()
    expect(flags).toEqual([
      { service_id: 1, deteriorating: 1 },
      { service_id: 2, deteriorating: 0 },
    ])
  })

  it('opens a file database in WAL mode with foreign keys on, creating its folder', () => {
    const file = path.join(dir, 'nested', 'folder', 'test.sqlite')
    const fileDb = openDatabase(file)
    try {
      expect(fs.existsSync(file)).toBe(true)
      expect(fileDb.pragma('journal_mode', { simple: true })).toBe('wal')
      expect(fileDb.pragma('foreign_keys', { simple: true })).toBe(1)
      migrate(fileDb)
      expect(() =>
        fileDb
          .prepare(
            `INSERT INTO services (ref, name, provider_id, service_type, area, contract_status, created_at, updated_at)
             VALUES ('X', 'X', 999, 'other', 'A', 'spot', 'now', 'now')`,
          )
          .run(),
      ).toThrow(/FOREIGN KEY/)
    } finally {
      fileDb.close()
    }
  })
})
