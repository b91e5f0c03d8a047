import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, readMigrations } from '../../src/data/database.js'

/**
 * The real server process (src/server.ts through tsx, as `npm run dev`; `npm start` runs the same file built):
 * on an empty database it migrates, seeds the demo borough, computes a first snapshot and serves; on a non-empty one
 * it only migrates and serves; SIGTERM shuts it down gracefully (exit 0).
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const LATEST_MIGRATION = Math.max(...readMigrations().map((m) => m.version))

interface Started {
  child: ChildProcess
  port: number
  output: () => string
}

function start(databasePath: string, dir: string): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('src', 'server.ts')], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'development',
      PORT: '0',
      DATABASE_PATH: databasePath,
      INBOX_DIR: path.join(dir, 'inbox'),
      REFRESH_SCHEDULE_ENABLED: 'false',
      LOG_LEVEL: 'warn',
      TZ: 'Europe/London',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`Server did not start in time:\n${output}`))
    }, 90_000)
    child.stdout?.on('data', () => {
      const match = /is running at http:\/\/[^:]+:(\d+)\//.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve({ child, port: Number(match[1]), output: () => output })
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`Server exited (${code}) before starting:\n${output}`))
    })
  })
}

function stop(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal })
    })
    child.kill('SIGTERM')
  })
}

function counts(databasePath: string) {
  const db = openDatabase(databasePath)
  try {
    const n = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n
    return {
      services: n('services'),
      observations: n('observations'),
      runs: n('refresh_runs'),
      snapshots: n('snapshots'),
      users: n('users'),
      schemaVersion: db.pragma('user_version', { simple: true }) as number,
    }
  } finally {
    db.close()
  }
}

describe('starting the server', () => {
  let dir: string
  let databasePath: string
  const running: ChildProcess[] = []

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'server-start-'))
    databasePath = path.join(dir, 'fresh', 'dashboard.sqlite')
  })
  afterAll(() => {
    for (const child of running) if (child.exitCode === null) child.kill('SIGKILL')
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('on an empty database migrates, seeds the demo, computes a first snapshot, serves, and stops on SIGTERM', async () => {
    const server = await start(databasePath, dir)
    running.push(server.child)
    expect(server.output()).toContain('Empty database: seeding the demo borough')
    expect(server.output()).toMatch(/First refresh: 200 services computed/)

    const health = await fetch(`http://127.0.0.1:${server.port}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ status: 'UP', database: 'UP', lastRefresh: 'UP' })
    const home = await fetch(`http://127.0.0.1:${server.port}/`, { redirect: 'manual' })
    expect(home.status).toBe(302)

    expect(await stop(server.child)).toEqual({ code: 0, signal: null })
    expect(counts(databasePath)).toMatchObject({ services: 200, users: 3, schemaVersion: LATEST_MIGRATION })
  }, 120_000)

  it('on a non-empty database only migrates and serves', async () => {
    const before = counts(databasePath)
    const server = await start(databasePath, dir)
    running.push(server.child)
    expect(server.output()).not.toContain('seeding')
    expect(server.output()).not.toContain('First refresh')
    expect((await fetch(`http://127.0.0.1:${server.port}/health`)).status).toBe(200)
    expect(await stop(server.child)).toEqual({ code: 0, signal: null })
    expect(counts(databasePath)).toEqual(before)
  }, 120_000)
})
