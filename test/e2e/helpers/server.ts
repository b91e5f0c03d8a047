import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

export interface RunningServer {
  /** e.g. http://127.0.0.1:40123 (no trailing slash). */
  baseUrl: string
  /** Everything the server printed, for failure messages. */
  output(): string
  stop(): Promise<void>
}

const STARTUP_TIMEOUT_MS = 60_000

/** The newest modification time of the files under `dir` (0 when there are none). */
function newestIn(dir: string): number {
  if (!existsSync(dir)) return 0
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).reduce(
    (newest, name) => Math.max(newest, statSync(path.join(dir, name)).mtimeMs),
    0,
  )
}

/**
 * The browser assets (public/build) must exist and be newer than their sources: `npm test` builds them in
 * `pretest`; a lone run of the browser tests builds them here when they are missing or stale, into a temporary
 * folder first and then file by file with a rename, so a server another test file started never reads half a file.
 */
async function ensureAssetsBuilt(): Promise<void> {
  const publicDir = path.join(projectRoot, 'public')
  const built = path.join(publicDir, 'build', 'application.css')
  const sources = Math.max(newestIn(path.join(publicDir, 'stylesheets')), newestIn(path.join(publicDir, 'js')))
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return
  const buildScript = path.join(projectRoot, 'scripts', 'build.mjs')
  const { buildAssets } = (await import(buildScript)) as { buildAssets: (outDir?: string) => string }
  const buildDir = path.join(publicDir, 'build')
  mkdirSync(buildDir, { recursive: true })
  const staging = mkdtempSync(path.join(buildDir, '.staging-'))
  try {
    buildAssets(staging)
    for (const name of readdirSync(staging, { recursive: true, encoding: 'utf8' })) {
      const from = path.join(staging, name)
      if (statSync(from).isDirectory()) continue
      const to = path.join(buildDir, name)
      mkdirSync(path.dirname(to), { recursive: true })
      renameSync(from, to)
    }
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
}

/**
 * Starts the real server (`src/server.ts` through tsx, as `npm run dev` does) on a free port with a fresh
 * database file: startup seeds the demo borough and the demo users. The overnight schedule is off.
 */
export async function startServer(extraEnv: Record<string, string> = {}): Promise<RunningServer> {
  await ensureAssetsBuilt()
  const dataDir = mkdtempSync(path.join(tmpdir(), 'prd-e2e-'))
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('src', 'server.ts')], {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      PORT: '0',
      DATABASE_PATH: path.join(dataDir, 'dashboard.sqlite'),
      INBOX_DIR: path.join(dataDir, 'inbox'),
      REFRESH_SCHEDULE_ENABLED: 'false',
      LOG_LEVEL: 'warn',
      TZ: 'Europe/London',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))

  // Should the test worker end without stopping it, the server must not outlive it.
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  const cleanUp = () => {
    process.off('exit', killOnExit)
    rmSync(dataDir, { recursive: true, force: true })
  }
  try {
    const port = await waitForPort(child, () => output)
    return {
      baseUrl: `http://127.0.0.1:${port}`,
      output: () => output,
      stop: async () => {
        await stopChild(child)
        cleanUp()
      },
    }
  } catch (error) {
    await stopChild(child)
    cleanUp()
    throw error
  }
}

function waitForPort(child: ChildProcess, output: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`Server did not start in time:\n${output()}`)), STARTUP_TIMEOUT_MS)
    const onData = () => {
      const match = /is running at http:\/\/[^:]+:(\d+)\//.exec(output())
      if (match) finish(null, Number(match[1]))
    }
    const onExit = (code: number | null) => finish(new Error(`Server exited (${code}) before starting:\n${output()}`))
    function finish(error: Error | null, port?: number) {
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      child.off('exit', onExit)
      if (error) reject(error)
      else resolve(port as number)
    }
    child.stdout?.on('data', onData)
    child.on('exit', onExit)
  })
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
  await exited
  clearTimeout(timer)
}
