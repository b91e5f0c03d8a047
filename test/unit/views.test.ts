import { readFileSync } from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildPagination } from '../../src/views/components.js'
import { createViewEngine, projectRoot } from '../../src/views/setup.js'

/**
 * The GOV.UK component partials rendered with the official fixtures.json options and compared with
 * the fixtures' HTML, normalised: whitespace collapsed, attribute and class order ignored, entities decoded.
 */

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  ctdot: '⋯',
  nbsp: ' ',
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (match, code: string) => {
    if (code.startsWith('#')) {
      const hex = code[1]?.toLowerCase() === 'x'
      return String.fromCodePoint(parseInt(code.slice(hex ? 2 : 1), hex ? 16 : 10))
    }
    return NAMED_ENTITIES[code.toLowerCase()] ?? match
  })
}

function normaliseTag(token: string): string {
  const match = /^<(\/?)([a-zA-Z0-9-]+)([\s\S]*?)\/?>$/.exec(token)
  if (!match) return token
  const attributes: string[] = []
  for (const attribute of (match[3] ?? '').matchAll(/([^\s=/"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    const raw = attribute[2] ?? attribute[3] ?? attribute[4]
    if (raw === undefined) {
      attributes.push(attribute[1] as string)
      continue
    }
    let value = decodeEntities(raw).replace(/\s+/g, ' ').trim()
    if (attribute[1] === 'class') value = value.split(' ').sort().join(' ')
    attributes.push(`${attribute[1]}="${value}"`)
  }
  const sorted = attributes.sort().map((attribute) => ` ${attribute}`)
  return `<${match[1]}${(match[2] as string).toLowerCase()}${sorted.join('')}>`
}

/** HTML as a list of tokens: tags (attributes sorted) and trimmed text, comments and blank text dropped. */
export function normaliseHtml(html: string): string[] {
  const tokens: string[] = []
  for (const token of html.match(/<!--[\s\S]*?-->|<\/?[a-zA-Z][^>]*>|[^<]+/g) ?? []) {
    if (token.startsWith('<!--')) continue
    if (token.startsWith('<')) {
      tokens.push(normaliseTag(token))
    } else {
      const text = decodeEntities(token).replace(/\s+/g, ' ').trim()
      if (text) tokens.push(text)
    }
  }
  return tokens
}

type Render = (template: string, context?: unknown) => string
let render: Render

beforeAll(async () => {
  const engine = createViewEngine({ timeZone: 'Europe/London', now: () => new Date('2026-03-14T12:00:00Z') })
  const partials = await engine.getPartials()
  const handlebars = engine.handlebars as unknown as typeof import('handlebars')
  render = (template, context = {}) =>
    handlebars.compile(template)(context, {
      helpers: engine.helpers as Record<string, (...args: unknown[]) => unknown>,
      partials: partials as Record<string, HandlebarsTemplateDelegate>,
    })
})

describe('the HTML normaliser used to compare with fixtures', () => {
  it('ignores whitespace, attribute order and class order', () => {
    expect(normaliseHtml('<p  class="b a" id="x">\n  Hello\n  world </p>')).toEqual(
      normaliseHtml('<p id="x" class="a b">Hello world</p>'),
    )
  })

  it('still tells different markup apart', () => {
    expect(normaliseHtml('<p id="x">Hi</p>')).not.toEqual(normaliseHtml('<p id="y">Hi</p>'))
    expect(normaliseHtml('<p>Hi</p>')).not.toEqual(normaliseHtml('<div>Hi</div>'))
    expect(normaliseHtml('<input checked>')).not.toEqual(normaliseHtml('<input>'))
  })

  it('decodes the entities Handlebars and Nunjucks escape differently', () => {
    expect(normaliseHtml('<a href="/a?b&#x3D;1&amp;c&#x3D;2">&#x27;x&#x27;</a>')).toEqual(
      normaliseHtml('<a href="/a?b=1&amp;c=2">&#39;x&#39;</a>'),
    )
  })
})

/** Component folder in govuk-frontend -> partial name. Every fixture of each is rendered. */
const COMPONENTS: Record<string, string> = {
  input: 'input',
  select: 'select',
  radios: 'radios',
  checkboxes: 'checkboxes',
  'date-input': 'dateInput',
  textarea: 'textarea',
  'error-summary': 'errorSummary',
  'error-message': 'errorMessage',
  label: 'label',
  hint: 'hint',
  fieldset: 'fieldset',
  table: 'table',
  tag: 'tag',
  pagination: 'pagination',
  button: 'button',
  'summary-list': 'summaryList',
  'notification-banner': 'notificationBanner',
  'back-link': 'backLink',
  'inset-text': 'insetText',
  'warning-text': 'warningText',
  details: 'details',
}

interface Fixture {
  name: string
  options: Record<string, unknown>
  html: string
}

function fixturesOf(folder: string): Fixture[] {
  const file = path.join(projectRoot, 'node_modules/govuk-frontend/dist/govuk/components', folder, 'fixtures.json')
  return (JSON.parse(readFileSync(file, 'utf8')) as { fixtures: Fixture[] }).fixtures
}

describe.each(Object.entries(COMPONENTS))('the %s partial matches govuk-frontend fixtures', (folder, partial) => {
  const fixtures = fixturesOf(folder)

  it('has fixtures to compare with', () => {
    expect(fixtures.length).toBeGreaterThan(0)
  })

  it.each(fixtures.map((fixture) => [fixture.name, fixture] as const))('%s', (_name, fixture) => {
    const html = render(`{{> ${partial}}}`, fixture.options)
    expect(normaliseHtml(html).join('\n')).toBe(normaliseHtml(fixture.html).join('\n'))
  })
})

describe('component partials', () => {
  it('never read the page context: a page variable called `name` does not reach a button', () => {
    const html = render('{{> button text="Save"}}', { name: 'Acme Care', value: 'x' })
    expect(html).not.toContain('Acme Care')
    expect(html).not.toContain('value=')
  })

  it('take strings for label, hint and errorMessage and link them with aria-describedby', () => {
    const html = render('{{> input name="reference" label="Reference" hint="For example, SG-1" errorMessage=error}}', {
      error: 'Enter a reference',
    })
    expect(html).toContain('<label class="govuk-label" for="reference">')
    expect(html).toContain('id="reference-hint"')
    expect(html).toMatch(/<span class="govuk-visually-hidden">Error:<\/span> Enter a reference/)
    expect(html).toContain('aria-describedby="reference-hint reference-error"')
    expect(html).toContain('govuk-form-group--error')
  })

  it('merge a params object under the hash arguments', () => {
    const html = render('{{> input params=field value="new"}}', { field: { name: 'ref', label: 'Ref', value: 'old' } })
    expect(html).toContain('value="new"')
    expect(html).toContain('name="ref"')
  })

  it('escape values: a value cannot break out of its attribute', () => {
    const html = render('{{> input name="q" label="Search" value=value}}', { value: '"><script>alert(1)</script>' })
    expect(html).not.toContain('<script>')
    expect(html).toContain('value="&quot;&gt;&lt;script&gt;')
  })

  it('render block content with the caller context', () => {
    const html = render('{{#> details summaryText="Why"}}<p>{{name}}</p>{{/details}}', { name: 'Acme Care' })
    expect(html).toContain('<p>Acme Care</p>')
    expect(html).toMatch(/<span class="govuk-details__summary-text">\s*Why\s*<\/span>/)
  })

  it('radios take a legend shortcut and check the item matching value', () => {
    const html = render(
      '{{> radios name="rag" legend="Rating" value="amber" items=(arr (obj value="red" text="Red") (obj value="amber" text="Amber"))}}',
    )
    expect(html).toContain('<legend class="govuk-fieldset__legend">')
    expect(html).toMatch(/id="rag-2" name="rag" type="radio" value="amber" checked/)
    expect(html).not.toMatch(/value="red" checked/)
  })
})

describe('ragTag', () => {
  it.each([
    ['red', 'govuk-tag--red', 'Red'],
    ['amber', 'govuk-tag--orange', 'Amber'],
    ['green', 'govuk-tag--green', 'Green'],
    ['none', 'govuk-tag--grey', 'No data'],
    ['RED', 'govuk-tag--red', 'Red'],
    [undefined, 'govuk-tag--grey', 'No data'],
  ])('shows %s with its word as well as its colour', (level, colour, word) => {
    const html = render('{{> ragTag level=level}}', { level })
    expect(html).toContain(colour)
    expect(html).toContain(`>${word}</strong>`)
    expect(html).toContain('govuk-tag ')
  })
})

describe('table extensions', () => {
  it('renders sortable headers with aria-sort and links that keep the filters', () => {
    const html = render(
      '{{> table head=(arr (sortableHeader "Provider" "provider" "/" query) (sortableHeader "RAG" "rag" "/" query))}}',
      { query: { sort: 'provider', dir: 'asc', area: 'North', page: '3' } },
    )
    expect(html).toContain('aria-sort="ascending"')
    expect(html).toContain('aria-sort="none"')
    expect(html).toContain('href="/?sort&#x3D;provider&amp;dir&#x3D;desc&amp;area&#x3D;North"')
    expect(html).toContain('href="/?sort&#x3D;rag&amp;dir&#x3D;asc&amp;area&#x3D;North"')
  })

  it('renders RAG cells as tags and link cells as escaped links', () => {
    const html = render('{{> table rows=rows}}', {
      rows: [[{ text: 'A & B <Care>', href: '/services/S1' }, { rag: 'red' }]],
    })
    expect(html).toContain('<a class="govuk-link" href="/services/S1">A &amp; B &lt;Care&gt;</a>')
    expect(html).toContain('<strong class="govuk-tag govuk-tag--red app-rag-tag">Red</strong>')
  })

  it('wraps a scrollable table in a focusable, labelled region', () => {
    const html = render('{{> table scrollable=true caption="Services" rows=rows}}', { rows: [[{ text: 'x' }]] })
    expect(html).toMatch(/<div class="app-table-container" role="region" aria-label="Services" tabindex="0">/)
  })
})

describe('chart partial', () => {
  it('puts the data in a JSON script block that cannot close the script element', () => {
    const data = { type: 'rag-history', points: [{ at: '2026-01-01', rag: 'red', label: '</script><b>x</b>' }] }
    const html = render('{{> chart id="history" label="RAG history" data=data}}', { data })
    expect(html).toContain('<canvas id="history" data-chart="history-data" role="img" aria-label="RAG history">')
    const json = /<script type="application\/json" id="history-data">([\s\S]*?)<\/script>/.exec(html)?.[1]
    expect(json).toBeDefined()
    expect(json).not.toContain('<')
    expect(JSON.parse(json as string)).toEqual(data)
  })
})

describe('buildPagination', () => {
  const href = (page: number) => `/?page=${page}`

  it('shows the first, last and neighbouring pages with ellipses between', () => {
    const result = buildPagination({ page: 5, pageCount: 10, href })
    const items = result.items as Array<{ number?: number; ellipsis?: boolean; current?: boolean }>
    expect(items.map((item) => (item.ellipsis ? '…' : item.number))).toEqual([1, '…', 4, 5, 6, '…', 10])
    expect(items.find((item) => item.current)?.number).toBe(5)
    expect(result.previous).toEqual({ href: '/?page=4' })
    expect(result.next).toEqual({ href: '/?page=6' })
  })

  it('has no previous link on the first page and no next link on the last', () => {
    expect(buildPagination({ page: 1, pageCount: 3, href }).previous).toBeUndefined()
    expect(buildPagination({ page: 3, pageCount: 3, href }).next).toBeUndefined()
  })

  it('renders nothing to page through for a single page', () => {
    const html = render('{{> pagination params=pagination}}', {
      pagination: buildPagination({ page: 1, pageCount: 1, href }),
    })
    expect(html).not.toContain('govuk-pagination__item')
    expect(html).not.toContain('rel="next"')
  })
})
