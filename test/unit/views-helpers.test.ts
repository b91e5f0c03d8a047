import Handlebars from 'handlebars'
import { describe, expect, it } from 'vitest'
import {
  createHelpers,
  formatDate,
  formatDateTime,
  govukAttributes,
  indicatorLabel,
  isoDate,
  jsonForScript,
  percent,
  pluralise,
  ragLabel,
  serviceTypeLabel,
  sortableHeader,
  sourceLabel,
  urlWithQuery,
} from '../../src/views/helpers.js'

function renderWith(template: string, context: unknown = {}, now = new Date('2026-03-14T12:00:00Z')): string {
  const handlebars = Handlebars.create()
  return handlebars.compile(template)(context, {
    helpers: createHelpers({ timeZone: 'Europe/London', now: () => now }),
  })
}

describe('dates', () => {
  it('formats a calendar date the GOV.UK way', () => {
    expect(formatDate('2026-03-14')).toBe('14 March 2026')
    expect(formatDate('2026-01-05')).toBe('5 January 2026')
  })

  it('shows a timestamp as the day it falls on in London', () => {
    // 23:30 UTC on 29 March 2026 is 00:30 on 30 March in British Summer Time.
    expect(formatDate('2026-03-29T23:30:00Z')).toBe('30 March 2026')
    expect(isoDate('2026-03-29T23:30:00Z')).toBe('2026-03-30')
    expect(isoDate(new Date('2026-01-10T23:30:00Z'))).toBe('2026-01-10')
  })

  it('keeps a calendar date whatever the time zone', () => {
    expect(formatDate('2026-03-14', 'America/New_York')).toBe('14 March 2026')
    expect(isoDate('2026-03-14', 'Pacific/Auckland')).toBe('2026-03-14')
  })

  it('formats a time as GOV.UK does', () => {
    expect(formatDateTime('2026-03-14T02:05:00Z')).toBe('14 March 2026 at 2:05am')
    expect(formatDateTime('2026-07-01T13:30:00Z')).toBe('1 July 2026 at 2:30pm')
  })

  it('gives an empty string for no date or a bad one', () => {
    expect(formatDate(null)).toBe('')
    expect(formatDate('')).toBe('')
    expect(formatDate('not a date')).toBe('')
    expect(isoDate(undefined)).toBe('')
  })

  it('describes an age from today in the council time zone, or from a given date', () => {
    expect(renderWith('{{age "2023-01-01"}}')).toBe('3 years, 2 months')
    expect(renderWith('{{age "2026-03-14"}}')).toBe('today')
    expect(renderWith('{{age "2026-03-01" "2026-03-11"}}')).toBe('10 days')
    expect(renderWith('{{age missing}}')).toBe('')
    // 23:30 UTC on 31 May is already 1 June in London.
    expect(renderWith('{{age "2026-05-31"}}', {}, new Date('2026-05-31T23:30:00Z'))).toBe('1 day')
  })
})

describe('labels', () => {
  it('names RAG levels in words', () => {
    expect(ragLabel('red')).toBe('Red')
    expect(ragLabel('amber')).toBe('Amber')
    expect(ragLabel('green')).toBe('Green')
    expect(ragLabel('none')).toBe('No data')
    expect(ragLabel(undefined)).toBe('No data')
  })

  it('names indicators, service types and sources from the vocabulary', () => {
    expect(indicatorLabel('cqc_rating')).toBe('CQC rating')
    expect(serviceTypeLabel('care_home_nursing')).toBe('Care home with nursing')
    expect(sourceLabel('companies_house')).toBe('Companies House')
    expect(indicatorLabel('unknown_key')).toBe('unknown_key')
  })
})

describe('jsonForScript', () => {
  it('escapes what could end the script element, and still parses to the same value', () => {
    const value = { label: '</script><script>alert("x")</script>', amp: 'a & b', line: 'a\u2028b' }
    const json = jsonForScript(value)
    expect(json).not.toMatch(/[<>&\u2028]/)
    expect(JSON.parse(json)).toEqual(value)
  })

  it('is not HTML-escaped when used in a template', () => {
    expect(renderWith('{{jsonForScript data}}', { data: { a: '"x"' } })).toBe('{"a":"\\"x\\""}')
  })
})

describe('urlWithQuery', () => {
  it('keeps the current filters and changes one', () => {
    expect(urlWithQuery('/services', { rag: 'red', area: 'North', page: '2' }, { page: 3 })).toBe(
      '/services?rag=red&area=North&page=3',
    )
  })

  it('removes keys set to null, undefined or empty, and repeats array values', () => {
    expect(urlWithQuery('/', { rag: ['red', 'amber'], area: 'North' }, { area: null, page: '' })).toBe(
      '/?rag=red&rag=amber',
    )
    expect(urlWithQuery('/', {}, {})).toBe('/')
  })

  it('encodes values', () => {
    expect(urlWithQuery('/', { q: 'A&B care' })).toBe('/?q=A%26B+care')
  })

  it('is available to templates with the changes as hash arguments', () => {
    expect(renderWith('{{urlWithQuery "/services" query page=4}}', { query: { rag: 'red' } })).toBe(
      '/services?rag&#x3D;red&amp;page&#x3D;4',
    )
  })
})

describe('sortableHeader', () => {
  it('links an unsorted column to ascending and resets the page', () => {
    expect(sortableHeader('Provider', 'provider', '/', { rag: 'red', page: '4' })).toEqual({
      text: 'Provider',
      format: undefined,
      sort: { href: '/?rag=red&sort=provider&dir=asc', direction: 'none' },
    })
  })

  it('toggles the direction of the sorted column', () => {
    expect(sortableHeader('Provider', 'provider', '/', { sort: 'provider' }).sort).toEqual({
      href: '/?sort=provider&dir=desc',
      direction: 'ascending',
    })
    expect(sortableHeader('Provider', 'provider', '/', { sort: 'provider', dir: 'desc' }).sort).toEqual({
      href: '/?sort=provider&dir=asc',
      direction: 'descending',
    })
  })
})

describe('small helpers', () => {
  it('pluralises', () => {
    expect(pluralise(1, 'service')).toBe('service')
    expect(pluralise(0, 'service')).toBe('services')
    expect(pluralise(2, 'safeguarding enquiry', 'safeguarding enquiries')).toBe('safeguarding enquiries')
    expect(renderWith('{{count}} {{pluralise count "service"}}', { count: 3 })).toBe('3 services')
  })

  it('gives percentages of a whole or of a fraction', () => {
    expect(percent(3, 12)).toBe('25%')
    expect(percent(1, 3, 1)).toBe('33.3%')
    expect(percent(0.5)).toBe('50%')
    expect(percent(1, 0)).toBe('0%')
    expect(renderWith('{{percent 1 4}}')).toBe('25%')
  })

  it('has eq, and, or, not, includes and default for templates', () => {
    const template =
      '{{#if (eq a "x")}}eq {{/if}}{{#if (and a b)}}and {{/if}}{{#if (or c b)}}or {{/if}}{{#if (not c)}}not {{/if}}{{#if (includes list "n")}}in {{/if}}{{default c "dash"}}'
    expect(renderWith(template, { a: 'x', b: 1, c: '', list: ['s', 'n'] })).toBe('eq and or not in dash')
    expect(renderWith('{{#if (and a c)}}yes{{else}}no{{/if}}', { a: 'x', c: 0 })).toBe('no')
  })

  it('builds objects and arrays for component options', () => {
    expect(renderWith('{{#with (obj text="T" n=2)}}{{text}}{{n}}{{/with}}')).toBe('T2')
    expect(renderWith('{{#each (arr "a" "b")}}{{this}}{{/each}}')).toBe('ab')
  })
})

describe('govukAttributes', () => {
  it('prints escaped name="value" pairs', () => {
    expect(govukAttributes({ 'data-x': 'a"b', 'aria-hidden': true }).toString()).toBe(
      ' data-x="a&quot;b" aria-hidden="true"',
    )
  })

  it('leaves out empty optional attributes and prints true ones bare', () => {
    expect(
      govukAttributes({
        disabled: { value: true, optional: true },
        value: { value: undefined, optional: true },
        spellcheck: { value: false, optional: true },
        pattern: { value: 0, optional: true },
      }).toString(),
    ).toBe(' disabled pattern="0"')
  })

  it('prints nothing for no attributes', () => {
    expect(govukAttributes(undefined).toString()).toBe('')
  })
})
