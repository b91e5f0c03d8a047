import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { damageDatabaseFile } from '../helpers/damageFile.js'
import { inspect, seedPublishedRegister, tempDatabasePath } from './refreshChild.js'

/**
 * The restore drill of the README ("Backups and restore"), end to end with the real commands: back up, damage the
 * database file, see the server refuse to start naming `npm run restore`, restore, start, and find the data there.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const SERVICES = 30

let database: ReturnType<typeof tempDatabasePath>
let env: Record<string, string>

beforeEach(async () => {
  database = tempDatabasePath()
  const dir = path.dirname(database.file)
  env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: 'test',
    TZ: 'Europe/London',
    LOG_LEVEL: 'warn',
    DATABASE_PATH: database.file,
    BACKUP_DIR: path.join(dir, 'backups'),
    INBOX_DIR: path.join(dir, 'no-inbox'),
    REFRESH_SCHEDULE_ENABLED: 'false',
    PORT: '0',
  }
  ;(await seedPublishedRegister(database.file, SERVICES)).db.close()
})

afterEach(() => database.cleanUp())

/** `npm run <script>` as the operator types it (tsx on the job file), waiting for it to end. */
function npmRun(job: string, args: string[] = []) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', `jobs/${job}.ts`, ...args], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  })
  return { code: result.status, stdout: result.stdout, output: `${result.stdout}${result.stderr}` }
}

/** The server as `npm run dev` starts it: resolves once it listens (with its port) or once it exits. */
function startServer(): Promise<{ port: number | null; code: number | null; output: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('src', 'server.ts')], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const stop = async () => {
    child.kill('SIGTERM')
    await exited
  }
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /is running at http:\/\/[^:]+:(\d+)\//.exec(output)
      if (match) resolve({ port: Number(match[1]), code: null, output, stop })
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    void exited.then((code) => resolve({ port: null, code, output, stop }))
  })
}

describe('the restore drill', () => {
  it(
    'backs up, refuses a damaged database naming npm run restore, restores, and starts with the data',
    { timeout: 180_000 },
    async () => {
      // 1. A backup: its path alone on the last line.
      const backup = npmRun('backup')
      expect(backup.code, backup.output).toBe(0)
      const copy = backup.stdout.trim().split('\n').at(-1)!
      expect(path.dirname(copy)).toBe(env.BACKUP_DIR)
      expect(existsSync(copy)).toBe(true)

      // 2. The disk damages the database: the server refuses to start, naming the command and the copy.
      damageDatabaseFile(database.file)
      const refused = await startServer()
      expect(refused.port, refused.output).toBeNull()
      expect(refused.code).not.toBe(0)
      expect(refused.output).toContain('is damaged')
      expect(refused.output).toContain(`npm run restore -- ${copy}`)
      expect(refused.output).not.toMatch(/\n\s+at /)

      // 3. A damaged copy is refused, and so is the database itself.
      const damagedCopy = npmRun('restore', [database.file])
      expect(damagedCopy.code).not.toBe(0)

      // 4. Restore: the damaged file is kept aside, the copy installed.
      const restored = npmRun('restore', [copy])
      expect(restored.code, restored.output).toBe(0)
      const keptAside = readdirSync(path.dirname(database.file)).filter((name) => name.includes('.before-restore-'))
      expect(keptAside.length).toBeGreaterThan(0)

      // 5. The server starts on it, /health is UP, and a restore is refused while it runs.
      const server = await startServer()
      try {
        expect(server.port, server.output).not.toBeNull()
        const health = await fetch(`http://127.0.0.1:${server.port}/health`)
        expect(health.status).toBe(200)
        expect(await health.json()).toMatchObject({ status: 'UP', database: 'UP' })
        const whileServing = npmRun('restore', [copy])
        expect(whileServing.code).not.toBe(0)
        expect(whileServing.output).toMatch(/in use by the server or a refresh/)
      } finally {
        await server.stop()
      }

      // 6. The data is there: every service, its published judgement, and a sound file.
      const after = inspect(database.file)
      expect(after.integrity).toBe('ok')
      expect(after.ragCounts).toEqual([{ rag: 'green', n: SERVICES }])
      expect(after.observations).toBe(SERVICES)
    },
  )
})
