/**
 * GOV.UK Frontend components as Handlebars partials (views/partials/components/*.hbs).
 *
 * govuk-frontend ships Nunjucks macros only, so the markup is hand-written in the .hbs files and the
 * little logic the macros hold (ids, aria-describedby, which item is checked) lives here, as a
 * `prepare` step that turns the macro's options into what the template prints. The option names are
 * the Nunjucks macros' own (id, name, label, hint, errorMessage, items...), so the Design System's
 * documentation applies, and the official fixtures.json cases can be rendered and compared.
 *
 * Conveniences on top of the macros: `label`, `hint` and `errorMessage` may be plain strings, and
 * radios, checkboxes and dateInput take `legend` (a string or a legend object) as a short form of
 * `fieldset: { legend }`.
 *
 * A component partial sees only its own options: its hash arguments (`{{> input id="x" name="x"}}`,
 * with `params=obj` merged under them) or, without a hash, the one object passed (`{{> input field}}`).
 * It never reads the page's context, so a page variable called `name` cannot leak into a button.
 * Block content (`{{#> details summaryText="Why"}}<p>{{name}}</p>{{/details}}`, also insetText,
 * fieldset, notificationBanner) is rendered with the caller's context when the options are hash arguments.
 *
 * Extensions beyond the macros: table head items may have `sort: { href, direction }` (see the
 * sortableHeader helper) and cells `rag` (a RAG tag) or `href` (a link); `scrollable=true` wraps a wide
 * table in a focusable scrolling region; summary list values may have `rag`; ragTag takes `level`.
 */
import type { HelperOptions, RuntimeOptions, TemplateDelegate } from 'handlebars'

type Params = Record<string, unknown>
type Prepare = (params: Params) => Params

function isObject(value: unknown): value is Params {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function asObject(value: unknown): Params {
  return isObject(value) ? value : {}
}

/** A string option means `{ text }`; an object is kept; anything falsy means "not given". */
function textual(value: unknown): Params | undefined {
  if (typeof value === 'string') return value === '' ? undefined : { text: value }
  if (typeof value === 'number') return { text: String(value) }
  return isObject(value) ? value : undefined
}

function classes(...parts: unknown[]): string {
  return parts.filter((part) => typeof part === 'string' && part.trim() !== '').join(' ')
}

function joinIds(...ids: unknown[]): string | undefined {
  const joined = classes(...ids)
  return joined === '' ? undefined : joined
}

function hasText(value: unknown): boolean {
  return isObject(value) && Boolean(value.text || value.html)
}

/** Nunjucks' `==` between an item's value and the field's value, as the macros compare them. */
function looselyEqual(a: unknown, b: unknown): boolean {
  if (a === undefined || a === null || b === undefined || b === null) return a === b
  return String(a) === String(b)
}

/** Attributes the macros mark `optional: true`: left out when null, undefined or false; bare when true. */
function optionalAttributes(entries: Record<string, unknown>): Params {
  const result: Params = {}
  for (const [name, value] of Object.entries(entries)) result[name] = { value, optional: true }
  return result
}

function formGroup(params: Params, errorMessage: unknown): Params {
  const group = asObject(params.formGroup)
  return {
    ...group,
    classes: classes('govuk-form-group', errorMessage ? 'govuk-form-group--error' : '', group.classes),
  }
}

/** Label, hint and error message of a single field, with the ids and aria-describedby they imply. */
function fieldParts(params: Params, id: unknown, describedBy: unknown) {
  const hint = textual(params.hint)
  const errorMessage = textual(params.errorMessage)
  const hintId = hint ? `${id}-hint` : undefined
  const errorId = errorMessage ? `${id}-error` : undefined
  return {
    _label: { ...asObject(textual(params.label)), for: id },
    _hint: hint ? { ...hint, id: hintId } : undefined,
    _errorMessage: errorMessage ? { ...errorMessage, id: errorId } : undefined,
    _describedBy: joinIds(describedBy, hintId, errorId),
    _formGroup: formGroup(params, errorMessage),
  }
}

function legendFieldset(params: Params): Params | undefined {
  if (isObject(params.fieldset)) return params.fieldset
  const legend = textual(params.legend)
  return legend ? { legend } : undefined
}

const errorMessage: Prepare = (params) => ({
  ...params,
  _visuallyHiddenText: params.visuallyHiddenText === undefined ? 'Error' : params.visuallyHiddenText,
})

const input: Prepare = (params) => {
  const id = params.id || params.name
  const parts = fieldParts(params, id, params.describedBy)
  const formGroupOptions = asObject(params.formGroup)
  const hasPrefix = hasText(params.prefix)
  const hasSuffix = hasText(params.suffix)
  const spellcheck = params.spellcheck === true || params.spellcheck === false ? String(params.spellcheck) : undefined
  return {
    ...params,
    ...parts,
    _prefix: hasPrefix ? params.prefix : undefined,
    _suffix: hasSuffix ? params.suffix : undefined,
    _beforeInput: hasText(formGroupOptions.beforeInput) ? formGroupOptions.beforeInput : undefined,
    _afterInput: hasText(formGroupOptions.afterInput) ? formGroupOptions.afterInput : undefined,
    _wrapped: hasPrefix || hasSuffix || hasText(formGroupOptions.beforeInput) || hasText(formGroupOptions.afterInput),
    _inputWrapper: asObject(params.inputWrapper),
    _inputAttributes: {
      class: classes('govuk-input', params.classes, params.errorMessage ? 'govuk-input--error' : ''),
      id,
      name: params.name,
      type: params.type || 'text',
      ...optionalAttributes({
        spellcheck,
        value: params.value,
        disabled: params.disabled,
        'aria-describedby': parts._describedBy,
        autocomplete: params.autocomplete,
        autocapitalize: params.autocapitalize,
        pattern: params.pattern,
        inputmode: params.inputmode,
      }),
    },
  }
}

const textarea: Prepare = (params) => {
  const id = params.id || params.name
  return {
    ...params,
    ...fieldParts(params, id, params.describedBy),
    _id: id,
    _rows: params.rows || 5,
    _spellcheck: params.spellcheck === true || params.spellcheck === false ? String(params.spellcheck) : undefined,
    _classes: classes('govuk-textarea', params.errorMessage ? 'govuk-textarea--error' : '', params.classes),
  }
}

const select: Prepare = (params) => {
  const id = params.id || params.name
  const items = (Array.isArray(params.items) ? params.items : []).filter(isObject).map((item) => {
    const effectiveValue = item.value ?? item.text
    const computed = params.value ? looselyEqual(effectiveValue, params.value) && item.selected !== false : false
    return { ...item, _hasValue: item.value !== undefined, _selected: item.selected || computed }
  })
  return {
    ...params,
    ...fieldParts(params, id, params.describedBy),
    _id: id,
    _items: items,
    _classes: classes('govuk-select', params.classes, params.errorMessage ? 'govuk-select--error' : ''),
  }
}

/** Radios and checkboxes: the same shape, different class names and "checked" rules. */
function choices(kind: 'radios' | 'checkboxes'): Prepare {
  return (params) => {
    const idPrefix = params.idPrefix || params.name
    const fieldset = legendFieldset(params)
    const hint = textual(params.hint)
    const error = textual(params.errorMessage)
    const hintId = hint ? `${idPrefix}-hint` : undefined
    const errorId = error ? `${idPrefix}-error` : undefined
    const baseDescribedBy = asObject(fieldset).describedBy || (kind === 'checkboxes' ? params.describedBy : undefined)
    const describedBy = joinIds(baseDescribedBy, hintId, errorId)
    const values = kind === 'checkboxes' ? (Array.isArray(params.values) ? params.values : undefined) : undefined
    const rawItems = Array.isArray(params.items) ? params.items : []
    const items = rawItems.flatMap((item: unknown, index: number): Params[] => {
      if (!isObject(item)) return []
      if (item.divider) return [{ divider: item.divider }]
      const itemId = item.id || `${idPrefix}${index > 0 ? `-${index + 1}` : ''}`
      const computed =
        kind === 'checkboxes'
          ? values
            ? values.some((value) => looselyEqual(value, item.value)) && item.checked !== false
            : false
          : params.value
            ? looselyEqual(item.value, params.value) && item.checked !== false
            : false
      const checked = Boolean(item.checked || computed)
      const itemHint = asObject(item.hint)
      const itemHasHint = hasText(itemHint)
      const itemHintId = itemHasHint ? `${itemId}-item-hint` : undefined
      const itemDescribedBy =
        kind === 'checkboxes' ? joinIds(fieldset ? undefined : describedBy, itemHintId) : itemHintId
      const conditional = asObject(item.conditional)
      const label = asObject(item.label)
      return [
        {
          ...item,
          _id: itemId,
          _name: (kind === 'checkboxes' && item.name) || params.name,
          _checked: checked,
          _describedBy: itemDescribedBy,
          _conditionalId: conditional.html ? `conditional-${itemId}` : undefined,
          _conditionalHtml: conditional.html,
          _label: {
            text: item.text,
            html: item.html,
            classes: classes(`govuk-${kind}__label`, label.classes),
            attributes: label.attributes,
            for: itemId,
          },
          _hint: itemHasHint
            ? { ...itemHint, id: itemHintId, classes: classes(`govuk-${kind}__hint`, itemHint.classes) }
            : undefined,
        },
      ]
    })
    return {
      ...params,
      _kind: kind,
      _fieldset: fieldset ? { ...fieldset, describedBy } : undefined,
      _hint: hint ? { ...hint, id: hintId } : undefined,
      _errorMessage: error ? { ...error, id: errorId } : undefined,
      _formGroup: formGroup(params, error),
      _items: items,
    }
  }
}

const dateInput: Prepare = (params) => {
  const values = asObject(params.values)
  // As the macro's `default` filter: only an absent part gets the default; `year: false` leaves the year out.
  const part = (given: unknown, name: string, width: number) =>
    given !== undefined ? given : { name, value: values[name], classes: `govuk-input--width-${width}` }
  const day = part(params.day, 'day', 2)
  const month = part(params.month, 'month', 2)
  const year = part(params.year, 'year', 4)
  const items: unknown[] = Array.isArray(params.items) && params.items.length > 0 ? params.items : [day, month, year]
  const hasErrorClass = (item: Params) =>
    typeof item.classes === 'string' && item.classes.includes('govuk-input--error')
  const anyItemHasError = items.some((item) => isObject(item) && (item.error || hasErrorClass(item)))
  const namePrefix = params.namePrefix ? `${params.namePrefix}-` : ''

  const dateItems = items.filter(isObject).map((item) => {
    let name = item.name
    let value = item.value
    let width = 2
    const matches = (partOptions: unknown, partName: string) =>
      item === partOptions || (item.name && [partName, asObject(partOptions).name].includes(item.name))
    if (matches(day, 'day')) {
      name = item.name ?? 'day'
      value = item.value ?? asObject(day).value
    } else if (matches(month, 'month')) {
      name = item.name ?? 'month'
      value = item.value ?? asObject(month).value
    } else if (matches(year, 'year')) {
      name = item.name ?? 'year'
      value = item.value ?? asObject(year).value
      width = 4
    }
    const itemHasError = Boolean(item.error) || hasErrorClass(item)
    const showError =
      !hasErrorClass(item) && (itemHasError || (item.error !== false && params.errorMessage && !anyItemHasError))
    const hasWidth = typeof item.classes === 'string' && item.classes.includes('govuk-input--width-')
    const itemClasses = classes(
      showError ? 'govuk-input--error' : '',
      hasWidth ? '' : `govuk-input--width-${width}`,
      item.classes,
    )
    const fullName = `${namePrefix}${name}`
    const nameText = String(name ?? '')
    return {
      label: {
        text: item.label || nameText.charAt(0).toUpperCase() + nameText.slice(1).toLowerCase(),
        classes: 'govuk-date-input__label',
      },
      id: item.id || `${params.id}-${name}`,
      classes: classes('govuk-date-input__input', itemClasses),
      name: fullName,
      value: value ?? values[fullName],
      type: 'text',
      inputmode: item.inputmode || 'numeric',
      autocomplete: item.autocomplete,
      pattern: item.pattern,
      attributes: item.attributes,
    }
  })

  const fieldset = legendFieldset(params)
  const hint = textual(params.hint)
  const error = textual(params.errorMessage)
  const hintId = hint ? `${params.id}-hint` : undefined
  const errorId = error ? `${params.id}-error` : undefined
  const describedBy = joinIds(asObject(fieldset).describedBy, hintId, errorId)
  return {
    ...params,
    _fieldset: fieldset ? { ...fieldset, describedBy, role: 'group' } : undefined,
    _hint: hint ? { ...hint, id: hintId } : undefined,
    _errorMessage: error ? { ...error, id: errorId } : undefined,
    _formGroup: formGroup(params, error),
    _items: dateItems,
  }
}

const button: Prepare = (params) => ({
  ...params,
  _classes: classes('govuk-button', params.classes, params.isStartButton ? 'govuk-button--start' : ''),
  _type: params.type || 'submit',
  _hasPreventDoubleClick: params.preventDoubleClick !== undefined,
})

const errorSummary: Prepare = (params) => ({
  ...params,
  _hasDisableAutoFocus: params.disableAutoFocus !== undefined,
  _errorList: (Array.isArray(params.errorList) ? params.errorList : []).filter(isObject),
})

const pagination: Prepare = (params) => {
  const items = Array.isArray(params.items) ? params.items : undefined
  const previous = isObject(params.previous) && params.previous.href ? params.previous : undefined
  const next = isObject(params.next) && params.next.href ? params.next : undefined
  const blockLevel = !items && Boolean(params.next || params.previous)
  const link = (value: Params | undefined) =>
    value && {
      ...value,
      _decorated: blockLevel && !value.labelText,
      _showLabel: Boolean(value.labelText) && blockLevel,
    }
  return {
    ...params,
    _blockLevel: blockLevel,
    _landmarkLabel: params.landmarkLabel || 'Pagination',
    _items: items?.filter((item) => isObject(item) && Object.keys(item).length > 0),
    _previous: link(previous),
    _next: link(next),
  }
}

const table: Prepare = (params) => {
  const head = Array.isArray(params.head)
    ? params.head.filter(isObject).map((item) => {
        const sort = isObject(item.sort) ? item.sort : undefined
        return { ...item, _sort: sort, _ariaSort: sort ? sort.direction || 'none' : undefined }
      })
    : undefined
  const rows = (Array.isArray(params.rows) ? params.rows : []).filter(Array.isArray).map((row: unknown[]) =>
    row.filter(isObject).map((cell, index) => ({
      ...cell,
      _isHeader: index === 0 && Boolean(params.firstCellIsHeader),
    })),
  )
  return { ...params, _head: head, _rows: rows.filter((row) => row.length > 0) }
}

const summaryList: Prepare = (params) => {
  const rows = (Array.isArray(params.rows) ? params.rows : []).filter(isObject)
  const actionItems = (actions: unknown) => {
    const items = asObject(actions).items
    return Array.isArray(items) ? items.filter(isObject) : []
  }
  const card = isObject(params.card) ? params.card : undefined
  const cardTitle = card && isObject(card.title) ? card.title : undefined
  // In a card, each action link also names the card for screen readers: "Change (Name of card)".
  const withCardTitle = (items: Params[]) => items.map((action) => ({ ...action, _cardTitle: cardTitle }))
  const anyRowHasActions = rows.some((row) => actionItems(row.actions).length > 0)
  const cardActions = card ? withCardTitle(actionItems(card.actions)) : []
  return {
    ...params,
    _card: card && {
      ...card,
      _headingLevel: asObject(card.title).headingLevel || 2,
      _actions:
        cardActions.length > 0
          ? { ...asObject(card.actions), items: cardActions, _single: cardActions.length === 1 }
          : undefined,
    },
    _rows: rows.map((row) => {
      const items = withCardTitle(actionItems(row.actions))
      return {
        ...row,
        _classes: classes(
          'govuk-summary-list__row',
          anyRowHasActions && items.length === 0 ? 'govuk-summary-list__row--no-actions' : '',
          row.classes,
        ),
        _actions: items.length > 0 ? { ...asObject(row.actions), items, _single: items.length === 1 } : undefined,
      }
    }),
  }
}

const notificationBanner: Prepare = (params) => {
  const success = params.type === 'success'
  return {
    ...params,
    _classes: classes('govuk-notification-banner', success ? 'govuk-notification-banner--success' : '', params.classes),
    _role: params.role || (success ? 'alert' : 'region'),
    _titleId: params.titleId || 'govuk-notification-banner-title',
    _headingLevel: params.titleHeadingLevel || 2,
    _title: params.titleText || (success ? 'Success' : 'Important'),
    _hasDisableAutoFocus: params.disableAutoFocus !== undefined,
  }
}

const ragTag: Prepare = (params) => {
  const level = String(params.level ?? params.rag ?? 'none').toLowerCase()
  const known: Record<string, { word: string; colour: string }> = {
    red: { word: 'Red', colour: 'govuk-tag--red' },
    amber: { word: 'Amber', colour: 'govuk-tag--orange' },
    green: { word: 'Green', colour: 'govuk-tag--green' },
  }
  const tag = known[level] ?? { word: 'No data', colour: 'govuk-tag--grey' }
  return { ...params, _classes: classes('govuk-tag', tag.colour, 'app-rag-tag', params.classes), _word: tag.word }
}

/** What each component partial does to its options before the template prints them; identity when absent. */
export const COMPONENT_PREPARE: Record<string, Prepare> = {
  errorMessage,
  input,
  textarea,
  select,
  radios: choices('radios'),
  checkboxes: choices('checkboxes'),
  dateInput,
  button,
  errorSummary,
  pagination,
  table,
  summaryList,
  notificationBanner,
  ragTag,
}

type PartialOptions = RuntimeOptions & Pick<HelperOptions, 'hash'>

/** The options a component was called with: its hash (over `params=`), or else the single object passed. */
export function componentParams(context: unknown, options: PartialOptions | undefined): Params {
  const hash = asObject(options?.hash)
  if (Object.keys(hash).length === 0) return asObject(context)
  const { params, ...rest } = hash
  return { ...asObject(params), ...rest }
}

/** Wraps a compiled component template so it renders from its own options only, after its prepare step. */
export function componentPartial(name: string, template: TemplateDelegate): TemplateDelegate {
  const prepare = COMPONENT_PREPARE[name] ?? ((params: Params) => params)
  return (context: unknown, options?: RuntimeOptions) => {
    // Handlebars passes a partial's hash arguments in its runtime options.
    const partialOptions = options as PartialOptions | undefined
    // The caller's context is kept in @caller, for content passed as a partial block ({{#> details}}...{{/details}}).
    const data = { ...asObject(options?.data), caller: context }
    return template(prepare(componentParams(context, partialOptions)), { ...options, data })
  }
}

export interface PaginationOptions {
  /** The current page, from 1. */
  page: number
  pageCount: number
  /** The link to a page, usually built with urlWithQuery so the current filters are kept. */
  href: (page: number) => string
}

/**
 * Options for the pagination partial: previous/next links and numbered items, with ellipses
 * around the current page (1 … 4 5 6 … 20), as the Design System's pagination guidance shows.
 */
export function buildPagination({ page, pageCount, href }: PaginationOptions): Params {
  if (pageCount <= 1) return { items: [] }
  const shown = new Set([1, pageCount, page - 1, page, page + 1].filter((n) => n >= 1 && n <= pageCount))
  const items: Params[] = []
  let last = 0
  for (const number of [...shown].sort((a, b) => a - b)) {
    if (number - last > 1) items.push({ ellipsis: true })
    items.push({ number, href: href(number), current: number === page })
    last = number
  }
  return {
    items,
    previous: page > 1 ? { href: href(page - 1) } : undefined,
    next: page < pageCount ? { href: href(page + 1) } : undefined,
  }
}
