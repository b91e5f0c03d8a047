import path from 'node:path'
import { z } from 'zod'

const optionalUrl = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .pipe(z.url().optional())
  .optional()
const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional()

/** SPEC §9: the environment, validated once at start. Nothing else reads process.env. */
export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_PATH: z.string().min(1).default('./data/dashboard.sqlite'),
  REFRESH_CRON: z.string().min(1).default('0 2 * * *'),
  TZ: z.string().min(1).default('Europe/London'),
  CQC_API_BASE: optionalUrl,
  CQC_API_KEY: optionalString,
  FHRS_API_BASE: optionalUrl,
  COMPANIES_HOUSE_API_BASE: optionalUrl,
  COMPANIES_HOUSE_API_KEY: optionalString,
  /** Companies House streaming API (https://stream.companieshouse.gov.uk): company-profile events since the last night. */
  COMPANIES_HOUSE_STREAM_URL: optionalUrl,
  COMPANIES_HOUSE_STREAM_KEY: optionalString,
  CQC_FILE: optionalString,
  FHRS_XML_DIR: optionalString,
  SMTP_URL: optionalString,
  MAIL_FROM: optionalString,
  /** The dashboard's address as officers reach it (https://risk.council.gov.uk), for the links in the morning digest. */
  PUBLIC_URL: optionalUrl,
  INBOX_DIR: z.string().min(1).default('./data/inbox'),
  /** Where `npm run backup` and every refresh put their copies of the database (SPEC §9). */
  BACKUP_DIR: z.string().min(1).default('./data/backups'),
  /** How many copies to keep: older ones are deleted once a new copy has passed its integrity check. */
  BACKUP_KEEP: z.coerce.number().int().min(1).max(1000).default(14),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SESSION_SECRET: optionalString,
  /** Set to "false" to serve without the node-cron schedule (e.g. a read-only replica). */
  REFRESH_SCHEDULE_ENABLED: z
    .enum(['true', 'false'])
    .default('true')
    .transform((value) => value === 'true'),
  /** Crash tests only: "1" lets `npm run refresh` pause at points a test chooses (jobs/refresh.ts). Never set in production. */
  REFRESH_TEST_HOOKS: z
    .enum(['0', '1'])
    .default('0')
    .transform((value) => value === '1'),
})

export type Config = z.infer<typeof configSchema>

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(env)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`)
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`)
  }
  return parsed.data
}

/** Resolves a configured path against the working directory, leaving ':memory:' alone. */
export function resolvePath(p: string): string {
  return p === ':memory:' ? p : path.resolve(p)
}
