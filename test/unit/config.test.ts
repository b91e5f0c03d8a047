import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
    .flatMap((entry) =>
      entry.isFile() && /\.(ts|mts|js|mjs)$/.test(entry.name)
        ? [path.relative(root, path.join(entry.parentPath, entry.name))]
        : [],
    )
}
/** The product: what `npm start`, the refresh and the CLI commands run (the benchmark harness is a tool of its own). */
const PRODUCT_FILES = ['src', 'jobs', 'scripts'].flatMap(sourceFiles)

/** Source text without comments, so a comment that mentions a rule does not break it. */
function code(file: string): string {
  return fs
    .readFileSync(path.join(root, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '')
}

describe('configuration (SPEC §9)', () => {
  it('has the documented defaults and no default for the sources', () => {
    const config = loadConfig({})
    expect(config).toMatchObject({
      PORT: 3000,
      DATABASE_PATH: './data/dashboard.sqlite',
      REFRESH_CRON: '0 2 * * *',
      TZ: 'Europe/London',
      INBOX_DIR: './data/inbox',
      LOG_LEVEL: 'info',
      NODE_ENV: 'development',
      REFRESH_TEST_HOOKS: false,
    })
    for (const key of [
      'CQC_API_BASE',
      'CQC_API_KEY',
      'CQC_FILE',
      'FHRS_API_BASE',
      'FHRS_XML_DIR',
      'COMPANIES_HOUSE_API_BASE',
      'COMPANIES_HOUSE_API_KEY',
      'SMTP_URL',
      'MAIL_FROM',
    ] as const) {
      expect(config[key]).toBeUndefined()
    }
  })

  it('treats a blank value as unset and reads the rest', () => {
    const config = loadConfig({ CQC_API_BASE: '  ', PORT: '8080', CQC_API_KEY: ' key ', FHRS_API_BASE: 'http://x/api' })
    expect(config).toMatchObject({ CQC_API_BASE: undefined, PORT: 8080, CQC_API_KEY: 'key' })
    expect(config.FHRS_API_BASE).toBe('http://x/api')
  })

  it('refuses bad values at start, naming each variable', () => {
    let error: unknown
    try {
      loadConfig({ PORT: 'eighty', CQC_API_BASE: 'not a url', LOG_LEVEL: 'loud' })
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigError)
    const message = (error as Error).message
    for (const name of ['PORT', 'CQC_API_BASE', 'LOG_LEVEL']) expect(message).toContain(`${name}:`)
  })
})

describe('architecture rules of issue 2', () => {
  it('reads process.env only in src/config.ts', () => {
    const readers = PRODUCT_FILES.filter((file) => file !== path.join('src', 'config.ts')).filter((file) =>
      /process\.env\b/.test(code(file)),
    )
    expect(readers).toEqual([])
    expect(PRODUCT_FILES.length).toBeGreaterThan(50)
  })

  it('keeps SQL in src/data, with no INSERT OR REPLACE anywhere', () => {
    const sqlOutsideData = PRODUCT_FILES.filter((file) => !file.startsWith(path.join('src', 'data') + path.sep)).filter(
      (file) =>
        /\.(prepare|exec|pragma)\(\s*[`'"]/.test(code(file)) || /\bdb\.(prepare|exec|pragma)\(/.test(code(file)),
    )
    expect(sqlOutsideData).toEqual([])
    const migrationFiles = ['migrations', 'migrations/postgres'].flatMap((dir) =>
      fs
        .readdirSync(path.join(root, dir), { withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => `${dir}/${entry.name}`),
    )
    const sqlFiles = [...PRODUCT_FILES, ...migrationFiles]
    const replacing = sqlFiles.filter((file) => /insert\s+or\s+replace|replace\s+into/i.test(code(file)))
    expect(replacing).toEqual([])
  })
})
