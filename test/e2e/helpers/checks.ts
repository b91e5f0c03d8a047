import { expect } from 'vitest'
import { accessibilityProblems } from './accessibility.js'
import { screenshot, type WatchedPage } from './browser.js'

/**
 * What every page in a journey must satisfy: no serious or critical WCAG 2.2 AA violation, no CSP violation and
 * no script error so far. With `screenshotAs`, the full page is saved to test-results/screenshots/.
 */
export async function expectHealthyPage(watched: WatchedPage, name: string, screenshotAs?: string): Promise<void> {
  if (screenshotAs) await screenshot(watched.page, screenshotAs)
  const problems = await accessibilityProblems(watched.page, name)
  expect(problems, problems).toBe('')
  expect(watched.cspViolations, `CSP violations on ${name}`).toEqual([])
  expect(watched.scriptErrors, `script errors on ${name}`).toEqual([])
}
