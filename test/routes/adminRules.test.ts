import type { Express } from 'express'
import request from 'supertest'
import { beforeEach, describe, expect, it } from 'vitest'
import type { Services } from '../../src/services/container.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

let services: Services
let app: Express
let admin: SignedInAgent

/** Every form field of a page's form (found by its data-testid), as a browser would submit it. */
function formFields(html: string, testId: string): Record<string, string> {
  const start = html.indexOf(`data-testid="${testId}"`)
  if (start < 0) throw new Error(`No form ${testId}`)
  const form = html.slice(start, html.indexOf('</form>', start))
  const fields: Record<string, string> = {}
  for (const tag of form.match(/<input[^>]*>/g) ?? []) {
    const name = /name="([^"]*)"/.exec(tag)?.[1]
    const value = /value="([^"]*)"/.exec(tag)?.[1] ?? ''
    if (name) fields[name] = decodeEntities(value)
  }
  for (const match of form.matchAll(/<textarea[^>]*name="([^"]*)"[^>]*>([\s\S]*?)<\/textarea>/g)) {
    fields[match[1] as string] = decodeEntities(match[2] as string)
  }
  return fields
}

function decodeEntities(text: string): string {
  return text
    .replaceAll('&quot;', '"')
    .replaceAll('&#x27;', "'")
    .replaceAll('&#x3D;', '=')
    .replaceAll('&#x60;', '`')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&')
}

beforeEach(async () => {
  services = createTestServices()
  await seedSmallBorough(services)
  app = appWithAllRoutes(services)
  admin = await signIn(app, services, 'admin')
})

async function editFields(): Promise<Record<string, string>> {
  return formFields((await admin.agent.get('/admin/rules/edit')).text, 'fields-form')
}

async function previewOf(changes: Record<string, string>) {
  return admin.agent
    .post('/admin/rules/preview')
    .type('form')
    .send({ ...(await editFields()), ...changes })
}

describe('GET /admin/rules', () => {
  it('shows the version in force and the history, to admins only', async () => {
    const page = await admin.agent.get('/admin/rules').expect(200)
    expect(page.headers['cache-control']).toContain('no-store')
    expect(page.text).toContain('In force: version 1')
    expect(page.text).toContain('Default rule set (SPEC §3)')
    expect(page.text).toContain('data-version="1"')

    const compliance = await signIn(app, services, 'compliance')
    await compliance.agent.get('/admin/rules').expect(403)
    const anonymous = await request(app).get('/admin/rules').expect(302)
    expect(anonymous.headers.location).toBe('/sign-in?returnTo=%2Fadmin%2Frules')
  })

  it('shows one version as JSON, and 404 for a version that does not exist', async () => {
    const page = await admin.agent.get('/admin/rules/versions/1').expect(200)
    expect(page.text).toContain('&quot;amberCount&quot;: 3')
    await admin.agent.get('/admin/rules/versions/99').expect(404)
    await admin.agent.get('/admin/rules/versions/abc').expect(404)
  })
})

describe('GET /admin/rules/edit', () => {
  it('fills the common fields and the JSON from the rules in force', async () => {
    const fields = await editFields()
    expect(fields).toMatchObject({
      mode: 'fields',
      baseVersion: '1',
      'multipleConcerns.amberCount': '3',
      'indicators.safeguarding.redFrom': '3',
      'indicators.manager_vacancy.redWhenVacantMoreThanDays': '180',
    })
    const json = formFields((await admin.agent.get('/admin/rules/edit')).text, 'json-form')
    expect(JSON.parse(json.document as string)).toMatchObject({ multipleConcerns: { amberCount: 3 } })
  })
})

describe('POST /admin/rules/preview', () => {
  it('shows which services would change colour, and the counts, without saving', async () => {
    const page = await previewOf({ 'indicators.safeguarding.redFrom': '1' })
    expect(page.status).toBe(200)
    expect(page.text).toContain('1 service would change colour')
    const row = page.text.slice(page.text.indexOf('data-ref="SVC-AMBER"'))
    expect(row).toMatch(/Amber<\/strong>[\s\S]*Red<\/strong>/)
    expect(row).toContain('1 safeguarding decision in the last 12 months')
    expect(page.text).toMatch(/data-rag="Red"[\s\S]*?>1<\/td>[\s\S]*?>2<\/td>[\s\S]*?>\+1<\/td>/)
    expect((await services.ruleSets.list()).length).toBe(1)
    const save = formFields(page.text, 'save-form')
    expect(JSON.parse(save.document as string).indicators.safeguarding.redFrom).toBe(1)
  })

  it('previews a JSON document', async () => {
    const json = formFields((await admin.agent.get('/admin/rules/edit')).text, 'json-form')
    const document = JSON.parse(json.document as string)
    document.multipleConcerns.amberCount = 2
    document.indicators.cqc_rating.overall.amber.push('good')
    document.indicators.cqc_rating.overall.green = ['outstanding']
    const page = await admin.agent
      .post('/admin/rules/preview')
      .type('form')
      .send({ ...json, document: JSON.stringify(document) })
    expect(page.status).toBe(200)
    expect(page.text).toContain('data-ref="SVC-GREEN"')
  })

  it('shows the form again with the error summary, the field paths and the values kept', async () => {
    const page = await previewOf({ 'indicators.safeguarding.amberFrom': '5', 'multipleConcerns.amberCount': 'lots' })
    expect(page.status).toBe(400)
    expect(page.text).toContain('<title>Error: ')
    expect(page.text).toContain('govuk-error-summary')
    expect(page.text).toContain('href="#rule-multipleConcerns-amberCount"')
    expect(page.text).toContain('(multipleConcerns.amberCount): Enter a whole number, like 365')
    expect(page.text).toMatch(/<input [^>]*name="multipleConcerns.amberCount"[^>]*value="lots"/)

    const range = await previewOf({ 'indicators.safeguarding.amberFrom': '5' })
    expect(range.status).toBe(400)
    expect(range.text).toContain('href="#rule-indicators-safeguarding-amberFrom"')
    expect(range.text).toContain('(indicators.safeguarding.amberFrom): must not be greater than redFrom')
    expect(range.text).toContain('govuk-input--error')
  })

  it('reports JSON errors with their paths, keeping what was typed', async () => {
    const json = formFields((await admin.agent.get('/admin/rules/edit')).text, 'json-form')
    const broken = await admin.agent
      .post('/admin/rules/preview')
      .type('form')
      .send({ ...json, document: '{"name": "half' })
    expect(broken.status).toBe(400)
    expect(broken.text).toContain('The rule set is not valid JSON')
    expect(broken.text).toContain('{&quot;name&quot;: &quot;half</textarea>')

    const document = JSON.parse(json.document as string)
    document.deterioration.windowDays = 0
    const invalid = await admin.agent
      .post('/admin/rules/preview')
      .type('form')
      .send({ ...json, document: JSON.stringify(document) })
    expect(invalid.status).toBe(400)
    expect(invalid.text).toContain('deterioration.windowDays: ')
    expect(invalid.text).toContain('href="#document"')
  })

  it('refuses a malformed form with 400', async () => {
    const fields = await editFields()
    await admin.agent
      .post('/admin/rules/preview')
      .type('form')
      .send({ ...fields, mode: 'yaml' })
      .expect(400)
    await admin.agent
      .post('/admin/rules/preview')
      .type('form')
      .send({ ...fields, baseVersion: 'one' })
      .expect(400)
  })

  it('is refused to other roles', async () => {
    const compliance = await signIn(app, services, 'compliance')
    const fields = await editFields()
    await compliance.agent
      .post('/admin/rules/preview')
      .type('form')
      .send({ ...fields, _csrf: await compliance.csrf('/') })
      .expect(403)
  })
})

describe('POST /admin/rules', () => {
  async function saveForm(changes: Record<string, string> = { 'indicators.safeguarding.redFrom': '1' }) {
    return formFields((await previewOf(changes)).text, 'save-form')
  }

  it('saves a new version, audited, and the dashboard shows the new colours at once', async () => {
    const form = await saveForm()
    const saved = await admin.agent
      .post('/admin/rules')
      .type('form')
      .send({ ...form, note: 'Any safeguarding enquiry is Red' })
    expect(saved.status).toBe(303)
    expect(saved.headers.location).toMatch(/^\/admin\/rules\?saved=2&run=\d+$/)

    const page = await admin.agent.get(saved.headers.location as string).expect(200)
    expect(page.text).toContain('Rule set version 2 is in force')
    expect(page.text).toContain('In force: version 2')
    expect(page.text).toContain('Any safeguarding enquiry is Red')
    expect(page.text).toMatch(/Every service was recomputed under it in <a [^>]*href="\/admin\/runs\/\d+"/)

    const service = await admin.agent.get('/api/v1/services/SVC-AMBER').expect(200)
    expect(service.body.rag).toBe('red')
    const dashboard = await admin.agent.get('/?rag=red').expect(200)
    expect(dashboard.text).toContain('Oak Homecare')

    const [entry] = await services.audit.list({ action: 'rule_set.save', limit: 5 })
    expect(entry).toMatchObject({ actor: 'admin@test.example', entityId: '2' })
  })

  it('requires a note, shows the preview again, and saves nothing', async () => {
    const form = await saveForm()
    const page = await admin.agent
      .post('/admin/rules')
      .type('form')
      .send({ ...form, note: '   ' })
    expect(page.status).toBe(400)
    expect(page.text).toContain('href="#note"')
    expect(page.text).toContain('Enter a note saying why the rules change')
    expect(page.text).toContain('data-ref="SVC-AMBER"')
    expect((await services.ruleSets.list()).length).toBe(1)
  })

  it('refuses to save over a version saved since the preview', async () => {
    const form = await saveForm()
    await services.ruleSetAdmin.save({
      document: (await services.ruleSetAdmin.inForce()).ruleSet,
      baseVersion: 1,
      note: 'someone else',
      actor: 'other@test.example',
    })
    const page = await admin.agent
      .post('/admin/rules')
      .type('form')
      .send({ ...form, note: 'mine' })
    expect(page.status).toBe(409)
    expect(page.text).toContain('The rule set changed to version 2 since this preview')
    expect(formFields(page.text, 'save-form').baseVersion).toBe('2')
    expect((await services.ruleSets.list()).length).toBe(2)
  })

  it('refuses a tampered document with the error summary, and saves nothing', async () => {
    const form = await saveForm()
    const page = await admin.agent
      .post('/admin/rules')
      .type('form')
      .send({ ...form, document: '{"name":"x"}', note: 'x' })
    expect(page.status).toBe(400)
    expect(page.text).toContain('govuk-error-summary')
    expect(page.text).toContain('multipleConcerns: ')
    expect((await services.ruleSets.list()).length).toBe(1)
  })

  it('is refused without a CSRF token, and to other roles', async () => {
    const form = await saveForm()
    const { _csrf: _ignored, ...withoutToken } = form
    await admin.agent
      .post('/admin/rules')
      .type('form')
      .send({ ...withoutToken, note: 'x' })
      .expect(403)
    const assessor = await signIn(app, services, 'assessor')
    await assessor.agent
      .post('/admin/rules')
      .type('form')
      .send({ ...form, _csrf: await assessor.csrf('/'), note: 'x' })
      .expect(403)
    expect((await services.ruleSets.list()).length).toBe(1)
  })
})
