import path from 'node:path'
import { z } from 'zod'
import { parseRoleMap } from './auth/oidcRoles.js'

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
  /** PostgreSQL instead of SQLite: postgres://user:password@host:port/database (unset: SQLite at DATABASE_PATH). */
  DATABASE_URL: optionalString.pipe(
    z
      .url()
      .refine((url) => /^postgres(ql)?:\/\//.test(url), 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
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
  /** Single sign-on (OpenID Connect): the issuer, discovered at its /.well-known/openid-configuration. */
  OIDC_ISSUER: optionalUrl,
  OIDC_CLIENT_ID: optionalString,
  OIDC_CLIENT_SECRET: optionalString,
  /** The ID token claim holding the person's roles (Entra ID app roles: `roles`). */
  OIDC_ROLES_CLAIM: z.string().trim().min(1).default('roles'),
  /** Other values of that claim (e.g. group ids) and the role each gives: `value=role,value=role`. */
  OIDC_ROLE_MAP: z
    .string()
    .default('')
    .transform((text, context) => {
      const parsed = parseRoleMap(text)
      if (typeof parsed === 'string') {
        context.addIssue({ code: 'custom', message: parsed })
        return z.NEVER
      }
      return parsed
    }),
  /** "false" turns email-and-password sign-in off (only with single sign-on configured). */
  LOCAL_SIGN_IN: z
    .enum(['true', 'false'])
    .default('true')
    .transform((value) => value === 'true'),
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

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])

/** Whether a URL is plain HTTP to this machine: the only place an OIDC issuer may be reached without TLS (tests). */
export function isLoopbackHttp(url: string): boolean {
  const parsed = new URL(url)
  return parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname)
}

function checkSingleSignOn(
  config: {
    OIDC_ISSUER?: string | undefined
    OIDC_CLIENT_ID?: string | undefined
    OIDC_CLIENT_SECRET?: string | undefined
    PUBLIC_URL?: string | undefined
    LOCAL_SIGN_IN: boolean
  },
  context: z.RefinementCtx,
): void {
  const issue = (path: string, message: string) => context.addIssue({ code: 'custom', path: [path], message })
  if (config.OIDC_ISSUER === undefined) {
    for (const name of ['OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET'] as const) {
      if (config[name] !== undefined) issue(name, 'is set but OIDC_ISSUER is not')
    }
    if (!config.LOCAL_SIGN_IN) issue('LOCAL_SIGN_IN', 'false needs single sign-on (OIDC_ISSUER): nobody could sign in')
    return
  }
  if (config.OIDC_CLIENT_ID === undefined) issue('OIDC_CLIENT_ID', 'is required with OIDC_ISSUER')
  if (config.OIDC_CLIENT_SECRET === undefined) issue('OIDC_CLIENT_SECRET', 'is required with OIDC_ISSUER')
  if (config.PUBLIC_URL === undefined) {
    issue('PUBLIC_URL', 'is required with OIDC_ISSUER (the redirect URI is PUBLIC_URL/auth/callback)')
  }
  const issuer = new URL(config.OIDC_ISSUER)
  if (issuer.protocol !== 'https:' && !isLoopbackHttp(config.OIDC_ISSUER)) {
    issue('OIDC_ISSUER', 'must be an https:// address (plain http only on 127.0.0.1 or localhost)')
  }
}

export type Config = z.infer<typeof configSchema>

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.superRefine(checkSingleSignOn).safeParse(env)
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
