import { randomUUID } from 'node:crypto'
import type { Application, Response } from 'express'
import Handlebars from 'handlebars'
import { LRUCache } from 'lru-cache'

/** Set in `res.locals` while a page's view-model is read for its tables (`?format=csv`, routes/exports.ts), not sent. */
export const TABLES_ONLY = 'tablesOnly'

/** The model fields the layout reads (views/layouts/main.hbs); everything else is the page's own. */
const LAYOUT_FIELDS = ['pageTitle', 'errorList', 'errors', 'phaseBanner', 'backLink', 'mainClasses'] as const

/** Where the kept body goes in the layout rendered around it: no template output can contain it. */
const BODY_MARKER = `<!--rendered-page-body:${randomUUID()}-->`

/** Where the request's CSP nonce goes in a kept layout. */
const NONCE_MARKER = `rendered-page-nonce-${randomUUID()}`

/** Layouts kept: one per person (and page title) using kept pages; a few kB each. */
const MAX_LAYOUTS = 500

interface LayoutAround {
  head: string[]
  tail: string[]
}

interface RenderedPage {
  html: string
  /** The same HTML as UTF-8, encoded once: sent as it is to everyone asking. */
  bytes: Buffer
  layout: Record<string, unknown>
}

/** Renders a page's own template to HTML, without the layout and without `res.locals` (see RenderedPageCache). */
function renderPageBody(app: Application, view: string, model: Record<string, unknown>): Promise<string> {
  return new Promise((resolve, reject) => {
    app.render(view, { ...model, layout: false }, (error: Error | null, html?: string) =>
      error ? reject(error) : resolve(html ?? ''),
    )
  })
}

/**
 * Rendered page bodies, shared by everyone who asks for the same page of the same data. The dashboard under load is
 * the same few pages asked for again and again between runs; rendering one (Handlebars, 70-90 kB at 30,000 services),
 * then encoding and collecting the page's string, cost several times what sending it does. Only the body is kept: it
 * is rendered without `res.locals`, so nothing of one person's (name, role, CSRF token, CSP nonce) can be kept and
 * shown to another. The layout around it is kept by person (see layoutAround), and the kept bytes sent between its two
 * halves.
 * The caller's key must name everything the body shows (the data's version, the date, the query).
 */
export class RenderedPageCache {
  private readonly pages: LRUCache<string, Promise<RenderedPage>>
  private readonly layouts = new LRUCache<string, LayoutAround>({ max: MAX_LAYOUTS })

  constructor(maxPages = 50) {
    this.pages = new LRUCache({ max: maxPages })
  }

  /** Sends `view` with the model `build` makes, building and rendering it only when `key` is not already kept. */
  async send(res: Response, view: string, key: string, build: () => Promise<Record<string, unknown>>): Promise<void> {
    // Its tables are built from the view-model (`res.render` is the export's there), never from kept HTML.
    if (res.locals[TABLES_ONLY]) return res.render(view, await build())
    let page = this.pages.get(key)
    if (!page) {
      const rendering = this.renderPage(res.app, view, build)
      // Concurrent requests for the same page wait for one rendering; a failed one is not kept.
      rendering.catch(() => {
        if (this.pages.peek(key) === rendering) this.pages.delete(key)
      })
      this.pages.set(key, rendering)
      page = rendering
    }
    const { bytes, layout } = await page
    const around = await this.layoutAround(res, layout)
    // Escaped as the layout's {{cspNonce}} would be.
    const nonce = typeof res.locals.cspNonce === 'string' ? Handlebars.escapeExpression(res.locals.cspNonce) : ''
    const head = Buffer.from(around.head.join(nonce))
    const tail = Buffer.from(around.tail.join(nonce))
    res.type('html')
    res.setHeader('Content-Length', head.length + bytes.length + tail.length)
    res.write(head)
    res.write(bytes)
    res.end(tail)
  }

  /**
   * The layout's HTML before and after the body, split where the request's CSP nonce goes. Kept by everything the
   * layout can read (the page's layout fields and `res.locals`: who is signed in, their navigation and CSRF token),
   * except the nonce, which is new for every request.
   */
  private async layoutAround(res: Response, layout: Record<string, unknown>): Promise<LayoutAround> {
    const withNonce = typeof res.locals.cspNonce === 'string'
    const key = JSON.stringify([layout, { ...res.locals, cspNonce: withNonce }])
    const known = this.layouts.get(key)
    if (known) return known
    const html = await new Promise<string>((resolve, reject) => {
      const options = { ...layout, prerenderedHtml: BODY_MARKER, ...(withNonce ? { cspNonce: NONCE_MARKER } : {}) }
      res.render('pages/prerendered', options, (error: Error | null, rendered?: string) =>
        error ? reject(error) : resolve(rendered ?? ''),
      )
    })
    const at = html.indexOf(BODY_MARKER)
    if (at < 0) throw new Error('The layout lost the rendered page body')
    const around = {
      head: html.slice(0, at).split(NONCE_MARKER),
      tail: html.slice(at + BODY_MARKER.length).split(NONCE_MARKER),
    }
    this.layouts.set(key, around)
    return around
  }

  private async renderPage(
    app: Application,
    view: string,
    build: () => Promise<Record<string, unknown>>,
  ): Promise<RenderedPage> {
    const model = await build()
    const layout: Record<string, unknown> = {}
    for (const field of LAYOUT_FIELDS) if (field in model) layout[field] = model[field]
    const html = await renderPageBody(app, view, model)
    return { html, bytes: Buffer.from(html), layout }
  }
}
