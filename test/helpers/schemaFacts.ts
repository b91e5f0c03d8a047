import type pg from 'pg'
import type { Db } from '../../src/data/database.js'

/**
 * A schema as a sorted list of one-line facts (tables, columns with a type class, nullability and default, primary
 * keys, unique constraints and indexes, foreign keys, other indexes), read from SQLite or PostgreSQL, so two databases
 * compare line by line. Types are compared by class (SQLite's affinity): INTEGER and BIGINT are both "integer".
 */
export type SchemaFacts = string[]

/** Tables that belong to a dialect's machinery rather than the schema: PostgreSQL's migration ledger. */
const MACHINERY_TABLES = new Set(['schema_migrations'])

function sqliteTypeClass(declared: string): string {
  const type = declared.toUpperCase()
  if (type.includes('INT')) return 'integer'
  if (/CHAR|CLOB|TEXT/.test(type)) return 'text'
  if (/REAL|FLOA|DOUB/.test(type)) return 'real'
  if (type === '' || type.includes('BLOB')) return 'blob'
  return 'numeric'
}

function postgresTypeClass(dataType: string): string {
  if (['integer', 'bigint', 'smallint'].includes(dataType)) return 'integer'
  if (['text', 'character varying', 'character'].includes(dataType)) return 'text'
  if (['double precision', 'real'].includes(dataType)) return 'real'
  if (dataType === 'bytea') return 'blob'
  if (dataType === 'numeric') return 'numeric'
  return dataType
}

/** `(deteriorating = 1)` and `deteriorating = 1`, `'{}'::text` and `'{}'` read alike. */
function normaliseExpression(expression: string | null | undefined): string {
  if (expression === null || expression === undefined) return ''
  return expression
    .replace(/::[a-z ]+/gi, '')
    .replace(/[()]/g, '')
    .replace(/;\s*$/, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase()
}

const list = (columns: readonly string[]) => `(${columns.join(', ')})`
const where = (predicate: string | null | undefined) => {
  const normalised = normaliseExpression(predicate)
  return normalised ? ` where ${normalised}` : ''
}

export function sqliteSchemaFacts(db: Db): SchemaFacts {
  const facts: string[] = []
  const tables = (
    db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as {
      name: string
    }[]
  ).map((row) => row.name)
  const primaryKeyOf = (table: string) =>
    (db.pragma(`table_info("${table}")`) as { name: string; pk: number }[])
      .filter((column) => column.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((column) => column.name)
  for (const table of tables.filter((name) => !MACHINERY_TABLES.has(name))) {
    facts.push(`table ${table}`)
    const columns = db.pragma(`table_info("${table}")`) as {
      name: string
      type: string
      notnull: number
      dflt_value: string | null
      pk: number
    }[]
    for (const column of columns) {
      const nullable = column.notnull === 0 && column.pk === 0 ? 'null' : 'not null'
      const defaultValue = normaliseExpression(column.dflt_value)
      facts.push(
        `column ${table}.${column.name} ${sqliteTypeClass(column.type)} ${nullable}` +
          (defaultValue ? ` default ${defaultValue}` : ''),
      )
    }
    const primaryKey = primaryKeyOf(table)
    if (primaryKey.length > 0) facts.push(`primary key ${table} ${list(primaryKey)}`)
    const indexes = db.pragma(`index_list("${table}")`) as { name: string; unique: number; origin: string }[]
    for (const index of indexes) {
      if (index.origin === 'pk') continue
      const indexColumns = (db.pragma(`index_info("${index.name}")`) as { seqno: number; name: string }[])
        .sort((a, b) => a.seqno - b.seqno)
        .map((column) => column.name)
      const sql = (
        db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?`).get(index.name) as
          { sql: string | null } | undefined
      )?.sql
      const predicate = sql ? /\bWHERE\b([\s\S]*)$/i.exec(sql)?.[1] : undefined
      facts.push(
        index.unique
          ? `unique ${table} ${list(indexColumns)}${where(predicate)}`
          : `index ${table} ${index.name} ${list(indexColumns)}${where(predicate)}`,
      )
    }
    const foreignKeys = db.pragma(`foreign_key_list("${table}")`) as {
      id: number
      seq: number
      table: string
      from: string
      to: string | null
    }[]
    for (const id of [...new Set(foreignKeys.map((key) => key.id))]) {
      const parts = foreignKeys.filter((key) => key.id === id).sort((a, b) => a.seq - b.seq)
      const referenced = parts[0]?.table as string
      const to = parts.every((part) => part.to !== null)
        ? parts.map((part) => part.to as string)
        : primaryKeyOf(referenced)
      facts.push(`foreign key ${table} ${list(parts.map((part) => part.from))} -> ${referenced} ${list(to)}`)
    }
  }
  return facts.sort()
}

export async function postgresSchemaFacts(pool: pg.Pool): Promise<SchemaFacts> {
  const facts: string[] = []
  const columns = await pool.query<{
    table_name: string
    column_name: string
    data_type: string
    is_nullable: 'YES' | 'NO'
    column_default: string | null
  }>(
    `SELECT c.table_name, c.column_name, c.data_type, c.is_nullable, c.column_default
       FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'`,
  )
  const tables = new Set<string>()
  for (const column of columns.rows) {
    if (MACHINERY_TABLES.has(column.table_name)) continue
    tables.add(column.table_name)
    const defaultValue = normaliseExpression(column.column_default)
    facts.push(
      `column ${column.table_name}.${column.column_name} ${postgresTypeClass(column.data_type)} ` +
        `${column.is_nullable === 'YES' ? 'null' : 'not null'}${defaultValue ? ` default ${defaultValue}` : ''}`,
    )
  }
  for (const table of tables) facts.push(`table ${table}`)
  const indexes = await pool.query<{
    table_name: string
    index_name: string
    is_primary: boolean
    is_unique: boolean
    predicate: string | null
    columns: string[]
  }>(
    `SELECT t.relname AS table_name, i.relname AS index_name, ix.indisprimary AS is_primary,
            ix.indisunique AS is_unique, pg_get_expr(ix.indpred, ix.indrelid) AS predicate,
            array(SELECT a.attname::text FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n)
                    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n) AS columns
       FROM pg_index ix
       JOIN pg_class t ON t.oid = ix.indrelid
       JOIN pg_class i ON i.oid = ix.indexrelid
       JOIN pg_namespace ns ON ns.oid = t.relnamespace
      WHERE ns.nspname = 'public'`,
  )
  for (const index of indexes.rows) {
    if (MACHINERY_TABLES.has(index.table_name)) continue
    if (index.is_primary) facts.push(`primary key ${index.table_name} ${list(index.columns)}`)
    else if (index.is_unique) facts.push(`unique ${index.table_name} ${list(index.columns)}${where(index.predicate)}`)
    else facts.push(`index ${index.table_name} ${index.index_name} ${list(index.columns)}${where(index.predicate)}`)
  }
  const foreignKeys = await pool.query<{ table_name: string; referenced: string; columns: string[]; to: string[] }>(
    `SELECT c.conrelid::regclass::text AS table_name, c.confrelid::regclass::text AS referenced,
            array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.n) AS columns,
            array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, n)
                    JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.n) AS "to"
       FROM pg_constraint c
       JOIN pg_namespace ns ON ns.oid = c.connamespace
      WHERE c.contype = 'f' AND ns.nspname = 'public'`,
  )
  for (const key of foreignKeys.rows) {
    facts.push(`foreign key ${key.table_name} ${list(key.columns)} -> ${key.referenced} ${list(key.to)}`)
  }
  return facts.sort()
}

/** Each fact one side has and the other lacks, named by the side that has it. */
export function schemaDifferences(sqlite: SchemaFacts, postgres: SchemaFacts): string[] {
  const inPostgres = new Set(postgres)
  const inSqlite = new Set(sqlite)
  return [
    ...sqlite.filter((fact) => !inPostgres.has(fact)).map((fact) => `only in SQLite: ${fact}`),
    ...postgres.filter((fact) => !inSqlite.has(fact)).map((fact) => `only in PostgreSQL: ${fact}`),
  ]
}
