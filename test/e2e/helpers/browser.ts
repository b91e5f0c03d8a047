import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page, type Response } from 'playwright-core'
import { DEMO_USERS } from '../../../src/auth/demoUsers.js'
import type { Role } from '../../../src/auth/roles.js'
import type { PageGlobals } from './pageTypes.js'
import { projectRoot, startServer, type RunningServer } from './server.js'

/** Debian's chromium (`.ci/run` installs it); never a downloaded browser build. CHROMIUM_PATH overrides it. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const SCREENSHOT_DIR = path.join(projectRoot, 'test-results', 'screenshots')
export const ROLES: readonly Role[] = ['admin', 'compliance', 'assessor']
/** Each browser test's time limit (files set it with vi.setConfig); Playwright's own waits fail sooner, at 10 s. */
export const E2E_TEST_TIMEOUT_MS = 90_000

export function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `The browser tests need Chromium at ${CHROMIUM_PATH}: install Debian's package (apt-get install chromium, ` +
        'as .ci/run does) or set CHROMIUM_PATH.',
    )
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  })
}

export interface E2eEnvironment {
  server: RunningServer
  browser: Browser
  stop(): Promise<void>
}

/** One real server (fresh demo database) and one Chromium for a test file. */
export async function startE2e(extraEnv: Record<string, string> = {}): Promise<E2eEnvironment> {
  const [server, browser] = await Promise.all([startServer(extraEnv), launchBrowser()])
  return {
    server,
    browser,
    stop: async () => {
      await browser.close()
      await server.stop()
    },
  }
}

export interface WatchedPage {
  page: Page
  context: BrowserContext
  /** CSP violations seen since the page opened (securitypolicyviolation events and console reports). */
  cspViolations: string[]
  /** Uncaught script errors and console errors other than a navigation's own 4xx status. */
  scriptErrors: string[]
  close(): Promise<void>
}

interface ViolationReport {
  directive: string
  blockedURI: string
  sourceFile: string
  lineNumber: number
}

/**
 * A new browser context (own cookies) and page on the server, watching for CSP violations and script errors.
 * Nothing here loosens the page's CSP.
 */
export async function openPage(
  env: E2eEnvironment,
  options: { viewport?: { width: number; height: number } } = {},
): Promise<WatchedPage> {
  const context = await env.browser.newContext({
    baseURL: env.server.baseUrl,
    viewport: options.viewport ?? { width: 1280, height: 900 },
    reducedMotion: 'reduce',
    acceptDownloads: true,
  })
  const cspViolations: string[] = []
  const scriptErrors: string[] = []
  await context.exposeBinding('__reportCspViolation', ({ page }, report: ViolationReport) => {
    cspViolations.push(
      `${page.url()}: ${report.directive} blocked ${report.blockedURI || 'inline'} (${report.sourceFile}:${report.lineNumber})`,
    )
  })
  await context.addInitScript(() => {
    const scope = globalThis as unknown as PageGlobals & { __reportCspViolation(report: ViolationReport): void }
    scope.document.addEventListener('securitypolicyviolation', (event) => {
      scope.__reportCspViolation({
        directive: event.effectiveDirective,
        blockedURI: event.blockedURI,
        sourceFile: event.sourceFile,
        lineNumber: event.lineNumber,
      })
    })
  })
  // Fail with Playwright's own message (what it waited for) well before the test's time-out.
  context.setDefaultTimeout(10_000)
  const page = await context.newPage()
  page.on('pageerror', (error) => scriptErrors.push(`${page.url()}: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() !== 'error') return
    const text = message.text()
    if (/Content.Security.Policy/i.test(text)) {
      cspViolations.push(`${page.url()}: ${text}`)
      return
    }
    // A refused or missing page logs its own status; that is the point of those journeys, not a fault.
    const isDocumentStatus = text.startsWith('Failed to load resource') && !message.location().url.includes('/assets/')
    if (!isDocumentStatus) scriptErrors.push(`${page.url()}: ${text}`)
  })
  return { page, context, cspViolations, scriptErrors, close: () => context.close() }
}

export function demoCredentials(role: Role): { email: string; password: string } {
  const user = DEMO_USERS.find((candidate) => candidate.role === role)
  if (!user) throw new Error(`No demo user with the role ${role}`)
  return { email: user.email, password: user.password }
}

/** Signs in through the real form; ends on the page the sign-in redirects to (the dashboard by default). */
export async function signIn(page: Page, role: Role, returnTo?: string): Promise<void> {
  const { email, password } = demoCredentials(role)
  await page.goto(returnTo ? `/sign-in?returnTo=${encodeURIComponent(returnTo)}` : '/sign-in')
  await page.getByLabel('Email address').fill(email)
  await page.getByLabel('Password').fill(password)
  await Promise.all([
    page.waitForURL((url) => url.pathname !== '/sign-in'),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ])
}

export async function signOut(page: Page): Promise<void> {
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/sign-in'),
    page.getByRole('button', { name: 'Sign out' }).click(),
  ])
}

/** Goes to a path and returns the main document's status. */
export async function visit(page: Page, pathname: string): Promise<number> {
  const response: Response | null = await page.goto(pathname)
  if (!response) throw new Error(`No response for ${pathname}`)
  return response.status()
}

/** Saves test-results/screenshots/<name>.png: the whole page, or only what is in the viewport. */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  const file = path.join(SCREENSHOT_DIR, `${name}.png`)
  await page.screenshot({ path: file, fullPage: options.fullPage ?? true })
  return file
}
