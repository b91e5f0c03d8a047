import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkCredentials } from '../../src/auth/credentials.js'
import { ApiTokensRepository } from '../../src/data/apiTokens.js'
import { AuditLog } from '../../src/data/audit.js'
import { openDatabase } from '../../src/data/database.js'
import { UsersRepository } from '../../src/data/users.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const tsx = path.join(root, 'node_modules/.bin/tsx')

describe('npm run user / npm run token', () => {
  let dir: string
  let databasePath: string

  function run(script: 'user' | 'token', args: string[], stdin = '') {
    const result = spawnSync(tsx, [path.join(root, 'jobs', `${script}.ts`), ...args], {
      cwd: root,
      input: stdin,
      encoding: 'utf8',
      env: { ...process.env, DATABASE_PATH: databasePath, NODE_ENV: 'test' },
      timeout: 30_000,
    })
    return { code: result.status, stdout: result.stdout, stderr: result.stderr }
  }

  function withDb<T>(
    fn: (users: UsersRepository, tokens: ApiTokensRepository, audit: AuditLog) => Promise<T>,
  ): Promise<T> {
    const db = openDatabase(databasePath)
    return fn(new UsersRepository(db), new ApiTokensRepository(db), new AuditLog(db)).finally(() => db.close())
  }

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-cli-'))
    databasePath = path.join(dir, 'nested', 'dashboard.sqlite')
  })
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

  it('adds a user on a new database with the password piped on stdin, audited', async () => {
    const result = run('user', ['add', 'First.Admin@Example.org', '--role', 'admin'], 'a long enough password\n')
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Created user first.admin@example.org (admin)')
    await withDb(async (users, _tokens, audit) => {
      expect(await checkCredentials(users, 'first.admin@example.org', 'a long enough password')).toMatchObject({
        role: 'admin',
      })
      expect(await audit.list({ action: 'user.created', limit: 5 })).toMatchObject([
        { actor: expect.stringMatching(/^cli/) },
      ])
    })
  })

  it('refuses bad input with exit code 2 and a clear message, writing nothing', async () => {
    const cases: [string[], string, RegExp][] = [
      [['add', 'short@example.org', '--role', 'compliance'], 'too short\n', /at least 12 characters/],
      [['add', 'not-an-email', '--role', 'compliance'], 'a long enough password\n', /valid email address/],
      [
        ['add', 'x@example.org', '--role', 'superuser'],
        'a long enough password\n',
        /Role must be one of admin, compliance, assessor/,
      ],
      [['add', 'x@example.org'], 'a long enough password\n', /add needs --role/],
      [['frobnicate', 'x@example.org'], '', /Unknown command/],
      [[], '', /No command given/],
    ]
    for (const [args, stdin, message] of cases) {
      const result = run('user', args, stdin)
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr).toMatch(message)
      expect(result.stderr).toContain('Usage:')
    }
    await withDb(async (users) => expect((await users.list()).map((u) => u.email)).toEqual(['first.admin@example.org']))
  })

  it('refuses a duplicate user with exit code 1', () => {
    const result = run('user', ['add', 'first.admin@example.org', '--role', 'assessor'], 'another long password\n')
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('already exists')
  })

  it('creates a token, printed alone on the last line, that authenticates; lists and revokes it', async () => {
    const created = run('token', ['create', 'Power BI', '--role', 'assessor'])
    expect(created.code).toBe(0)
    const lines = created.stdout.trimEnd().split('\n')
    const secret = lines.at(-1)!
    expect(secret).toMatch(/^prd_[A-Za-z0-9_-]{43}$/)
    const id = await withDb(async (_users, tokens) => {
      const token = await tokens.findActiveBySecret(secret)
      expect(token).toMatchObject({ name: 'Power BI', role: 'assessor' })
      return token!.id
    })
    expect(fs.readFileSync(databasePath).includes(Buffer.from(secret))).toBe(false)

    const listed = run('token', ['list'])
    expect(listed.stdout).toMatch(new RegExp(`#${id} Power BI \\(assessor\\).*active`))
    expect(listed.stdout).not.toContain(secret)

    expect(run('token', ['revoke', String(id)]).code).toBe(0)
    await withDb(async (_users, tokens) => expect(await tokens.findActiveBySecret(secret)).toBeUndefined())
    expect(run('token', ['revoke', '999']).code).toBe(1)
    expect(run('token', ['revoke', 'abc']).code).toBe(2)
    expect(run('token', ['create', 'x', '--role', 'root']).code).toBe(2)
  })
})
