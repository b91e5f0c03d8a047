import axe from 'axe-core'
import type { AxeResults, Result } from 'axe-core'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { projectRoot } from './server.js'

/** WCAG 2.0, 2.1 and 2.2 at levels A and AA. */
export const WCAG_22_AA_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa']
const BLOCKING_IMPACTS = new Set(['serious', 'critical'])
const REPORT_DIR = path.join(projectRoot, 'test-results', 'axe')

/**
 * Runs axe-core in the page. It is evaluated through the DevTools protocol, which the page's CSP does not govern,
 * so the page keeps its real, strict policy (no bypassCSP, no inline script tag).
 */
export async function runAxe(page: Page): Promise<AxeResults> {
  const loaded = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe === 'object')
  if (!loaded) await page.evaluate(axe.source)
  return page.evaluate(
    (tags) =>
      (globalThis as unknown as { axe: typeof axe }).axe.run(
        (globalThis as unknown as { document: Parameters<typeof axe.run>[0] }).document,
        { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] },
      ),
    WCAG_22_AA_TAGS,
  )
}

export function blockingViolations(results: AxeResults): Result[] {
  return results.violations.filter((violation) => BLOCKING_IMPACTS.has(violation.impact ?? ''))
}

export function describeViolations(violations: Result[]): string {
  return violations
    .map((violation) => {
      const targets = violation.nodes
        .slice(0, 5)
        .map((node) => `    ${node.target.join(' ')}: ${node.failureSummary?.replaceAll('\n', ' ') ?? ''}`)
      return [`  [${violation.impact}] ${violation.id}: ${violation.help} (${violation.helpUrl})`, ...targets].join(
        '\n',
      )
    })
    .join('\n')
}

/**
 * The page's serious and critical WCAG 2.2 AA violations, described (empty when there are none). Every violation,
 * minor ones too, is written to test-results/axe/<name>.json for a reviewer.
 */
export async function accessibilityProblems(page: Page, name: string): Promise<string> {
  const results = await runAxe(page)
  mkdirSync(REPORT_DIR, { recursive: true })
  writeFileSync(
    path.join(REPORT_DIR, `${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.json`),
    JSON.stringify({ name, url: page.url(), violations: results.violations }, null, 2),
  )
  const blocking = blockingViolations(results)
  return blocking.length === 0
    ? ''
    : `${name} (${page.url()}) has accessibility violations:\n${describeViolations(blocking)}`
}
