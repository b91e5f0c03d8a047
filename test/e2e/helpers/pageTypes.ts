// The few browser APIs the tests call inside page.evaluate, typed here because the project compiles without the
// DOM library. Use them as `const { document } = globalThis as unknown as PageGlobals` inside the callback:
// a callback must not use anything imported (it is serialised and run in the page).

export interface PageElement {
  id: string
  tagName: string
  textContent: string | null
  scrollWidth: number
  clientWidth: number
  getAttribute(name: string): string | null
  closest(selector: string): PageElement | null
  contains(other: PageElement): boolean
  getBoundingClientRect(): { width: number; height: number; left: number; right: number }
}

export interface PageCanvas extends PageElement {
  width: number
  height: number
  getContext(
    kind: '2d',
  ): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null
}

export interface PageStyle {
  outlineStyle: string
  outlineWidth: string
  outlineColor: string
  boxShadow: string
  backgroundColor: string
  overflowX: string
  position: string
}

export interface PageSecurityPolicyViolation {
  effectiveDirective: string
  blockedURI: string
  sourceFile: string
  lineNumber: number
}

export interface PageGlobals {
  document: {
    activeElement: PageElement | null
    documentElement: PageElement
    body: PageElement
    getElementById(id: string): PageElement | null
    querySelector(selector: string): PageElement | null
    querySelectorAll(selector: string): ArrayLike<PageElement>
    addEventListener(type: 'securitypolicyviolation', listener: (event: PageSecurityPolicyViolation) => void): void
  }
  getComputedStyle(element: PageElement): PageStyle
}
