import type { Page } from 'playwright-core'
import type { PageElement, PageGlobals } from './pageTypes.js'

export interface FocusState {
  id: string
  tag: string
  text: string
  href: string
  visible: boolean
  indicator: boolean
}

/** What has focus now, and whether it shows it (an outline, a box-shadow, or GOV.UK's yellow background). */
export function focused(page: Page): Promise<FocusState | null> {
  return page.evaluate(() => {
    const scope = globalThis as unknown as PageGlobals
    const element = scope.document.activeElement
    if (!element || element === scope.document.body) return null
    const style = scope.getComputedStyle(element)
    const box = element.getBoundingClientRect()
    // A transparent outline is only for forced-colour modes: it does not show focus on its own.
    const outline =
      style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0 && style.outlineColor !== 'rgba(0, 0, 0, 0)'
    const shadow = style.boxShadow !== 'none' && style.boxShadow !== ''
    const govukYellow = style.backgroundColor === 'rgb(255, 221, 0)'
    return {
      id: element.id,
      tag: element.tagName.toLowerCase(),
      text: (element.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 60),
      href: element.getAttribute('href') ?? '',
      visible: box.width > 0 && box.height > 0,
      indicator: outline || shadow || govukYellow,
    }
  })
}

/** Presses Tab until `done` says so (or `limit` presses), checking every stop shows its focus. */
export async function tabUntil(page: Page, done: (state: FocusState) => boolean, limit = 60): Promise<FocusState[]> {
  const stops: FocusState[] = []
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab')
    const state = await focused(page)
    if (!state) continue
    stops.push(state)
    if (done(state)) return stops
  }
  throw new Error(`Tab never reached the target; stops: ${stops.map((s) => s.id || s.text).join(' | ')}`)
}

export function withoutVisibleFocus(stops: FocusState[]): FocusState[] {
  return stops.filter((stop) => !stop.visible || !stop.indicator)
}

/**
 * The innermost elements that stick out of the viewport's width (their box, or content spilling out of it), outside
 * a region that scrolls on its own. Only for the failure message: the check itself is the page's scrollWidth.
 */
function overflowingElements(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const scope = globalThis as unknown as PageGlobals
    const width = scope.document.documentElement.clientWidth
    const candidates: Array<{ element: PageElement; right: number }> = []
    const all = scope.document.querySelectorAll('body *')
    for (let i = 0; i < all.length; i++) {
      const element = all[i] as PageElement
      const style = scope.getComputedStyle(element)
      const region = element.closest('.app-table-scroll')
      // Content of a scroll region scrolls inside it, unless it is positioned against something outside the region.
      const escapes =
        region !== null && style.position === 'absolute' && scope.getComputedStyle(region).position === 'static'
      if (region && !escapes) continue
      const box = element.getBoundingClientRect()
      const spills = style.overflowX === 'visible' && element.scrollWidth > element.clientWidth + 1
      const right = spills ? box.left + element.scrollWidth : box.right
      if (right > width + 1 && (box.width > 0 || spills)) candidates.push({ element, right })
    }
    return candidates
      .filter(
        ({ element }) => !candidates.some((other) => other.element !== element && element.contains(other.element)),
      )
      .slice(0, 10)
      .map(({ element, right }) => {
        const classes = element.getAttribute('class')
        return `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}${classes ? `.${classes.split(' ').join('.')}` : ''} (right edge ${Math.round(right)} px)`
      })
  })
}

/** Why the page scrolls sideways at its current width, or '' when it does not (tables may scroll in their region). */
export async function horizontalScrollProblem(page: Page, name: string): Promise<string> {
  const { scrollWidth, clientWidth } = await page.evaluate(() => {
    const root = (globalThis as unknown as PageGlobals).document.documentElement
    return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth }
  })
  if (scrollWidth <= clientWidth) return ''
  const culprits = await overflowingElements(page)
  return `${name} is ${scrollWidth} px wide in a ${clientWidth} px viewport; sticking out: ${culprits.join('; ') || 'nothing found outside scroll regions'}`
}
