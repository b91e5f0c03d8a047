import type { Application, Response } from 'express'

/** The model fields the layout reads (views/layouts/main.hbs); everything else is the page's own. */
const LAYOUT_FIELDS = ['pageTitle', 'errorList', 'errors', 'phaseBanner', 'backLink', 'mainClasses'] as const

interface RenderedPage {
  html: string
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
 * the same few pages asked for again and again between runs; rendering one (Handlebars, 87 kB at 30,000 services) cost
 * ten times what sending it does. Only the body is kept: it is rendered without `res.locals`, so nothing of one
 * person's (name, role, CSRF token, CSP nonce) can be kept and shown to another; the layout around it is rendered for
 * each request as usual. The caller's key must name everything the body shows (the data's version, the date, the
 * query).
 */
export class RenderedPageCache {
  private readonly pages = new Map<string, Promise<RenderedPage>>()

  constructor(private readonly maxPages = 50) {}

  /** Sends `view` with the model `build` makes, building and rendering it only when `key` is not already kept. */
  async send(res: Response, view: string, key: string, build: () => Promise<Record<string, unknown>>): Promise<void> {
    let page = this.pages.get(key)
    if (page) {
      // Most recently used last, so the oldest is the one dropped.
      this.pages.delete(key)
      this.pages.set(key, page)
    } else {
      page = this.renderPage(res.app, view, build)
      // Concurrent requests for the same page wait for one rendering; a failed one is not kept.
      page.catch(() => {
        if (this.pages.get(key) === page) this.pages.delete(key)
      })
      this.pages.set(key, page)
      if (this.pages.size > this.maxPages) this.pages.delete(this.pages.keys().next().value as string)
    }
    const { html, layout } = await page
    res.render('pages/prerendered', { ...layout, prerenderedHtml: html })
  }

  private async renderPage(
    app: Application,
    view: string,
    build: () => Promise<Record<string, unknown>>,
  ): Promise<RenderedPage> {
    const model = await build()
    const layout: Record<string, unknown> = {}
    for (const field of LAYOUT_FIELDS) if (field in model) layout[field] = model[field]
    return { html: await renderPageBody(app, view, model), layout }
  }

  get size(): number {
    return this.pages.size
  }
}
