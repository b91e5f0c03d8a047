import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll } from 'vitest'
import { z } from 'zod'

/**
 * PostgreSQL for tests: TEST_DATABASE_URL names a server and a database to connect to (`.ci/run` and
 * `scripts/test-postgres.sh start` give one). Each test file gets fresh, uniquely named databases of its own, dropped
 * after the file. Without TEST_DATABASE_URL the PostgreSQL tests skip, and the run says so once
 * (test/helpers/postgresNotice.ts).
 */
export const POSTGRES_SKIPPED_NOTICE = 'PostgreSQL tests skipped: TEST_DATABASE_URL not set'

const testDatabaseUrl = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .pipe(
    z
      .url()
      .refine((url) => /^postgres(ql)?:\/\//.test(url), 'must be a postgres:// or postgresql:// URL')
      .optional(),
  )
  .optional()

export function testPostgresUrl(env: Record<string, string | undefined> = process.env): string | undefined {
  const parsed = testDatabaseUrl.safeParse(env.TEST_DATABASE_URL)
  if (!parsed.success) throw new Error(`TEST_DATABASE_URL ${parsed.error.issues[0]?.message ?? 'is invalid'}`)
  return parsed.data
}

/** The URL of another database on the same server. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}

export interface PostgresTestDatabases {
  /** False without TEST_DATABASE_URL: skip (`describe.skipIf(!postgres.available)`). */
  available: boolean
  /** A new empty database on the test server; its URL. */
  create(): Promise<string>
}

/** Call at the top of a test file: databases made with `create()` are dropped after the file's tests. */
export function usePostgresDatabases(): PostgresTestDatabases {
  const adminUrl = testPostgresUrl()
  const created: string[] = []
  const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    if (!adminUrl) throw new Error(POSTGRES_SKIPPED_NOTICE)
    const client = new pg.Client({ connectionString: adminUrl })
    await client.connect()
    try {
      return await work(client)
    } finally {
      await client.end()
    }
  }
  afterAll(async () => {
    if (created.length === 0) return
    await admin(async (client) => {
      for (const name of created.splice(0)) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    })
  })
  return {
    available: adminUrl !== undefined,
    async create() {
      const name = `test_${process.pid}_${randomBytes(6).toString('hex')}`
      // template0: nobody connects to it, so tests creating databases side by side never wait on each other.
      await admin((client) => client.query(`CREATE DATABASE "${name}" TEMPLATE template0 ENCODING 'UTF8'`))
      created.push(name)
      return withDatabase(adminUrl as string, name)
    },
  }
}
