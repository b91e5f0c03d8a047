import os from 'node:os'
import { loadConfig, resolvePath, type Config } from '../config.js'
import { migrate, openDatabase, type Db } from '../data/database.js'

/** Shared plumbing for `npm run user` and `npm run token`. */

/** Bad arguments or input: exit code 2 with the message and the usage. */
export class UsageError extends Error {}

export const EXIT_OK = 0
export const EXIT_FAILED = 1
export const EXIT_USAGE = 2

/** Opens DATABASE_PATH from the validated configuration and brings its schema up to date. */
export function openMigratedDatabase(config: Config = loadConfig()): Db {
  const db = openDatabase(resolvePath(config.DATABASE_PATH))
  migrate(db)
  return db
}

/** Who the audit log says ran the command. */
export function cliActor(): string {
  try {
    return `cli:${os.userInfo().username}`
  } catch {
    return 'cli'
  }
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(chunks).toString('utf8')
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin
  return new Promise((resolve, reject) => {
    let input = ''
    const finish = (): void => {
      stdin.setRawMode(false)
      stdin.pause()
      stdin.off('data', onData)
      process.stderr.write('\n')
    }
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish()
          resolve(input)
          return
        }
        if (ch === '\u0003') {
          finish()
          reject(new UsageError('Cancelled'))
          return
        }
        if (ch === '\u007f' || ch === '\b') input = input.slice(0, -1)
        else input += ch
      }
    }
    // Echo off before the prompt appears, so nothing typed after it is ever shown.
    stdin.setRawMode(true)
    stdin.setEncoding('utf8')
    stdin.resume()
    process.stderr.write(question)
    stdin.on('data', onData)
  })
}

/**
 * A new password: the first line of stdin when it is piped (`echo "$PASSWORD" | npm run user -- add ...`),
 * else prompted twice on the terminal without echo.
 */
export async function readNewPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    const firstLine = (await readAllStdin()).split(/\r?\n/, 1)[0] ?? ''
    return firstLine
  }
  const password = await promptHidden('Password: ')
  const again = await promptHidden('Password again: ')
  if (password !== again) throw new UsageError('The two passwords do not match')
  return password
}

/** Runs a command's main function and exits with its code; usage errors print the usage too. */
export function runCli(main: () => Promise<number>, usage: string): void {
  main().then(
    (code) => {
      process.exitCode = code
    },
    (error: unknown) => {
      if (error instanceof UsageError) {
        process.stderr.write(`Error: ${error.message}\n\n${usage}\n`)
        process.exitCode = EXIT_USAGE
      } else {
        process.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`)
        process.exitCode = EXIT_FAILED
      }
    },
  )
}
