import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import express from 'express'
import type { Response } from 'express'
import { ExpressHandlebars } from 'express-handlebars'
import Handlebars from 'handlebars'
import type { TemplateDelegate } from 'handlebars'
import { componentPartial } from './components.js'
import { createHelpers } from './helpers.js'

/** The project root, found by walking up to package.json: the same from src/ (tsx, vitest) and dist/src/. */
function findProjectRoot(start: string): string {
  let dir = start
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error(`No package.json above ${start}`)
    dir = parent
  }
  return dir
}

export const projectRoot = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)))
export const viewsDir = path.join(projectRoot, 'views')
/** Built by `npm run build` (scripts/build.mjs) and served at /assets. */
export const assetsDir = path.join(projectRoot, 'public', 'build')

export const SERVICE_NAME = 'Provider Risk Dashboard'

const COMPONENTS_PREFIX = 'components/'
const ONE_YEAR_SECONDS = 31_536_000

type Partials = Record<string, TemplateDelegate>
type EngineConfig = NonNullable<ConstructorParameters<typeof ExpressHandlebars>[0]>

/**
 * Partials in views/partials/components/ are GOV.UK components: registered by their bare name
 * ({{> input ...}}) and rendered from their own options only (see components.ts). Files starting
 * with `_` there are fragments the components share. Other partials keep their path ({{> layout/header}}).
 */
export function registerPartialNames(partials: Partials): Partials {
  const result: Partials = {}
  for (const [name, template] of Object.entries(partials)) {
    if (!name.startsWith(COMPONENTS_PREFIX)) {
      result[name] = template
      continue
    }
    const bare = name.slice(COMPONENTS_PREFIX.length)
    result[bare] = bare.startsWith('_') ? template : componentPartial(bare, template)
  }
  return result
}

class ViewEngine extends ExpressHandlebars {
  /** With `view cache` on (production) the partials never change: found, compiled and named once, not per render. */
  private cachedPartials: Promise<Partials> | null = null

  override async getPartials(options?: Parameters<ExpressHandlebars['getPartials']>[0]) {
    if (!options?.cache) return registerPartialNames((await super.getPartials(options)) as Partials)
    if (!this.cachedPartials) {
      const loading = super.getPartials(options).then((partials) => registerPartialNames(partials as Partials))
      // A failed read is not kept: the next render tries again.
      loading.catch(() => {
        if (this.cachedPartials === loading) this.cachedPartials = null
      })
      this.cachedPartials = loading
    }
    return this.cachedPartials
  }
}

export interface ViewSettings {
  /** The council's time zone (config TZ), for "today" and for timestamps. */
  timeZone?: string
  now?: () => Date
}

/** `/assets/<file>?v=<content hash>`, so an asset can be cached for a year and still change on deploy. */
function createAssetUrl(): (file: string) => string {
  const versions = new Map<string, string>()
  return (file) => {
    let version = versions.get(file)
    if (version === undefined) {
      const fullPath = path.join(assetsDir, file)
      version = existsSync(fullPath)
        ? createHash('sha256').update(readFileSync(fullPath)).digest('hex').slice(0, 10)
        : ''
      versions.set(file, version)
    }
    return version ? `/assets/${file}?v=${version}` : `/assets/${file}`
  }
}

/** The express-handlebars engine, also usable on its own (tests render partials through it). */
export function createViewEngine(settings: ViewSettings = {}): ExpressHandlebars {
  return new ViewEngine({
    // A Handlebars of its own, so nothing registered globally leaks in or out.
    handlebars: Handlebars.create() as unknown as EngineConfig['handlebars'],
    extname: '.hbs',
    layoutsDir: path.join(viewsDir, 'layouts'),
    partialsDir: path.join(viewsDir, 'partials'),
    defaultLayout: 'main',
    helpers: createHelpers({ ...settings, assetUrl: createAssetUrl() }),
  })
}

/** Handlebars views (views/pages, views/layouts/main.hbs, GOV.UK partials) and the built assets at /assets. */
export function setUpViews(app: express.Express, settings: ViewSettings = {}): ExpressHandlebars {
  const engine = createViewEngine(settings)
  app.engine('hbs', engine.engine)
  app.set('view engine', 'hbs')
  app.set('views', viewsDir)

  app.use(
    '/assets',
    express.static(assetsDir, {
      index: false,
      cacheControl: false,
      setHeaders: (res) => {
        // Versioned URLs (see the asset helper) never change; others may, so keep them briefly.
        const url = (res as unknown as Response).req?.url ?? ''
        const versioned = /[?&]v=/.test(url)
        res.setHeader(
          'Cache-Control',
          versioned ? `public, max-age=${ONE_YEAR_SECONDS}, immutable` : 'public, max-age=3600',
        )
      },
    }),
  )
  return engine
}

export interface ErrorPageOptions {
  /** Replaces the standard heading for the status. */
  heading?: string
  /** Paragraphs under the heading, replacing the standard ones. */
  messages?: string[]
}

const ERROR_HEADINGS: Record<number, string> = {
  400: 'Sorry, there is a problem with your request',
  403: 'You do not have permission to see this page',
  404: 'Page not found',
  429: 'Sorry, there have been too many attempts',
  500: 'Sorry, there is a problem with the service',
  503: 'Sorry, the service is unavailable',
}

const ERROR_MESSAGES: Record<number, string[]> = {
  403: ['If you think you need access, ask the dashboard administrator to change your role.'],
  429: ['Wait a few minutes, then try again.'],
}

export function errorPageHeading(status: number): string {
  return ERROR_HEADINGS[status] ?? ERROR_HEADINGS[status >= 500 ? 500 : 400] ?? 'Sorry, there is a problem'
}

/**
 * Renders the GOV.UK error page for a status: views/pages/not-found.hbs for 404, else
 * views/pages/error.hbs, inside the normal layout (res.locals such as user and navigation apply).
 */
export function renderErrorPage(res: Response, status: number, options: ErrorPageOptions = {}): void {
  const heading = options.heading ?? errorPageHeading(status)
  res.status(status).render(status === 404 ? 'pages/not-found' : 'pages/error', {
    pageTitle: heading,
    heading,
    messages: options.messages ?? ERROR_MESSAGES[status],
    status,
  })
}
