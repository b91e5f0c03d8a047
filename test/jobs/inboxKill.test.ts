import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { migrate, openDatabase } from '../../src/data/database.js'
import { ServiceRepository } from '../../src/data/services.js'
import { execute, startRefreshChild } from './refreshChild.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '../..')
const CHILD = path.join(here, 'inboxRefreshChild.ts')
const ROWS = 3000

interface ChildRun {
  exitCode: number | null
  signal: NodeJS.Signals | null
  stdout: string
}

/**
 * Runs the refresh in a child process; with `killWhen`, kills it with SIGKILL as soon as its output matches. Spawns
 * node itself (not the tsx wrapper), so the process killed is the one holding the database.
 */
function runRefresh(env: Record<string, string>, killWhen?: RegExp): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      cwd: root,
      env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      if (killWhen?.test(stdout)) child.kill('SIGKILL')
    })
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('exit', (exitCode, signal) => {
      if (exitCode !== 0 && signal === null) reject(new Error(`refresh child failed (${exitCode}): ${stderr}`))
      else resolve({ exitCode, signal, stdout })
    })
  })
}

describe('a refresh killed while importing an inbox file', () => {
  let dir: string
  let inboxDir: string
  let env: Record<string, string>

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-kill-'))
    inboxDir = path.join(dir, 'inbox')
    fs.mkdirSync(inboxDir)
    env = { DATABASE_PATH: path.join(dir, 'dashboard.sqlite'), INBOX_DIR: inboxDir, TZ: 'Europe/London' }
    const db = openDatabase(env.DATABASE_PATH as string)
    migrate(db)
    await new ServiceRepository(db).upsertMany(
      ['SVC-A', 'SVC-B', 'SVC-C'].map((ref) => ({
        ref,
        name: `Service ${ref}`,
        providerName: `Provider of ${ref}`,
        serviceType: 'home_care',
        area: 'North',
        contractStatus: 'contracted',
      })),
    )
    db.close()
    const rows = Array.from(
      { length: ROWS },
      (_, i) => `SVC-${'ABC'[i % 3]},contract_concern,2025-06-${String((i % 28) + 1).padStart(2, '0')},open,CC-${i}`,
    )
    fs.writeFileSync(
      path.join(inboxDir, 'concerns.csv'),
      ['service_ref,kind,date,outcome,reference', ...rows].join('\n'),
    )
  })

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true })
  })

  function databaseState() {
    const db = openDatabase(env.DATABASE_PATH as string)
    try {
      const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n
      return {
        observations: count("SELECT COUNT(*) AS n FROM observations WHERE source = 'council_inbox'"),
        inboxFiles: count('SELECT COUNT(*) AS n FROM inbox_files'),
        publishedRuns: count("SELECT COUNT(*) AS n FROM refresh_runs WHERE status = 'completed'"),
      }
    } finally {
      db.close()
    }
  }

  it('leaves the file in the inbox and nothing half imported; the next run imports it once', async () => {
    const killed = await runRefresh({ ...env, INBOX_TEST_PAUSE: '1' }, /PAUSED concerns\.csv/)
    expect(killed.signal).toBe('SIGKILL')

    expect(databaseState()).toEqual({ observations: 0, inboxFiles: 0, publishedRuns: 0 })
    expect(fs.readdirSync(inboxDir)).toEqual(['concerns.csv'])

    const next = await runRefresh(env)
    expect(next.exitCode).toBe(0)
    expect(next.stdout).toContain(`DONE {"read":${ROWS},"matched":${ROWS},"changed":${ROWS},"unchanged":0`)
    expect(databaseState()).toEqual({ observations: ROWS, inboxFiles: 1, publishedRuns: 1 })
    expect(fs.readdirSync(inboxDir)).toEqual(['processed'])

    const again = await runRefresh(env)
    expect(again.stdout).toContain('DONE {"read":0,')
    expect(databaseState()).toEqual({ observations: ROWS, inboxFiles: 1, publishedRuns: 2 })
  })

  it(
    'keeps the batches committed before a kill mid-file, records the file only once all its rows are in, and adds nothing twice',
    { timeout: 90_000 },
    async () => {
      const killed = await runRefresh(
        { ...env, INBOX_TEST_BATCH_ROWS: '1000', INBOX_TEST_PAUSE_AFTER_BATCH: '2' },
        /PAUSED concerns\.csv after batch 2/,
      )
      expect(killed.signal).toBe('SIGKILL')
      // Two batches in, the file not recorded (so not "processed") and still in the inbox.
      expect(databaseState()).toEqual({ observations: 2000, inboxFiles: 0, publishedRuns: 0 })
      expect(fs.readdirSync(inboxDir)).toEqual(['concerns.csv'])

      const next = await runRefresh({ ...env, INBOX_TEST_BATCH_ROWS: '1000' })
      expect(next.exitCode).toBe(0)
      // Read whole again: the first 2,000 rows are found already stored, the last 1,000 are new.
      expect(next.stdout).toContain(`DONE {"read":${ROWS},"matched":${ROWS},"changed":1000,"unchanged":2000`)
      expect(databaseState()).toEqual({ observations: ROWS, inboxFiles: 1, publishedRuns: 1 })
      expect(fs.readdirSync(inboxDir)).toEqual(['processed'])
      const db = openDatabase(env.DATABASE_PATH as string)
      try {
        const keys = db
          .prepare("SELECT COUNT(DISTINCT natural_key) AS n FROM observations WHERE source = 'council_inbox'")
          .get() as { n: number }
        expect(keys.n).toBe(ROWS)
      } finally {
        db.close()
      }
    },
  )

  it(
    'holds for `npm run refresh` itself, killed inside the transaction that imports the file',
    { timeout: 60_000 },
    async () => {
      // The real entry point waits for files to settle: make the export a minute old.
      const old = new Date(Date.now() - 60_000)
      fs.utimesSync(path.join(inboxDir, 'concerns.csv'), old, old)
      const file = env.DATABASE_PATH as string
      // The file's record is written last in its transaction, after all its rows: pause there, then kill -9.
      execute(
        file,
        "CREATE TRIGGER crash_point AFTER INSERT ON inbox_files BEGIN SELECT refresh_test_pause('inbox', 0); END",
      )
      const killed = startRefreshChild(file, { INBOX_DIR: inboxDir })
      await killed.waitForOutput(/PAUSED inbox/, 30_000)
      await killed.kill()
      execute(file, 'DROP TRIGGER crash_point')

      expect(databaseState()).toEqual({ observations: 0, inboxFiles: 0, publishedRuns: 0 })
      expect(fs.readdirSync(inboxDir)).toEqual(['concerns.csv'])

      const next = startRefreshChild(file, { INBOX_DIR: inboxDir })
      const { code } = await next.exited
      expect(code, next.output()).toBe(0)
      expect(next.output()).toMatch(/Council files \(inbox\): succeeded/)
      expect(next.output()).toMatch(/concerns\.csv.*intelligence.*imported.*3000.*3000/)
      expect(databaseState()).toEqual({ observations: ROWS, inboxFiles: 1, publishedRuns: 1 })
      expect(fs.readdirSync(inboxDir)).toEqual(['processed'])
    },
  )
})
