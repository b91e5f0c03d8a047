import { createHash } from 'node:crypto'
import type { Express } from 'express'
import request from 'supertest'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Services } from '../../src/services/container.js'
import { UsersRepository } from '../../src/data/users.js'
import { appWithAllRoutes, createTestServices, ensureUser, signIn, type SignedInAgent } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

/**
 * Issue 4: bad input to every form of sign-in, intelligence, assessments, overrides, actions and admin users and tokens
 * gets the form again with the GOV.UK error summary (400), and writes nothing. Each form is fetched as a browser would,
 * its field names read from the page, then posted three ways: every field blank, every field far too long, and every
 * field sent twice. "Nothing written" is checked on the whole database (every table but the sessions).
 */

let services: Services
let app: Express
let admin: SignedInAgent
let entryId: number
let assessmentId: number
let actionId: number
let assessorId: number

function fingerprint(): string {
  const tables = services.db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('sessions') ORDER BY name")
    .all() as { name: string }[]
  const hash = createHash('sha256')
  for (const { name } of tables)
    hash.update(name).update(JSON.stringify(services.db.prepare(`SELECT * FROM "${name}"`).all()))
  return hash.digest('hex')
}

/** The names of the fields of the form posting to `action` on the page (not the sign-out form of the layout). */
function formFields(html: string, action: string): string[] {
  const forms = html.match(/<form\b[^>]*>[\s\S]*?<\/form>/g) ?? []
  const form = forms.find((f) => f.includes(`action="${action.replaceAll('=', '&#x3D;')}"`))
  if (!form) throw new Error(`No form posting to ${action} on the page`)
  const names = [...form.matchAll(/\bname="([^"]+)"/g)].map((m) => m[1]!).filter((name) => name !== '_csrf')
  return [...new Set(names)]
}

interface FormCase {
  name: string
  page: string
  action: string
  /** Fields to keep as they are (a record's own identity, not input). */
  keep?: Record<string, string>
}

const forms = (): FormCase[] => [
  {
    name: 'record intelligence',
    page: '/services/SVC-GREEN/intelligence/new?kind=embargo',
    action: '/services/SVC-GREEN/intelligence',
  },
  {
    name: 'record intelligence (contract concern)',
    page: '/services/SVC-GREEN/intelligence/new?kind=contract_concern',
    action: '/services/SVC-GREEN/intelligence',
    keep: { kind: 'contract_concern' },
  },
  {
    name: 'change intelligence',
    page: `/services/SVC-AMBER/intelligence/${entryId}/edit`,
    action: `/services/SVC-AMBER/intelligence/${entryId}/edit`,
  },
  {
    name: 'record an assessment',
    page: '/services/SVC-GREEN/assessments/new',
    action: '/services/SVC-GREEN/assessments',
  },
  {
    name: 'change an assessment',
    page: `/services/SVC-AMBER/assessments/${assessmentId}/edit`,
    action: `/services/SVC-AMBER/assessments/${assessmentId}/edit`,
  },
  {
    name: 'move an assessment on',
    page: `/services/SVC-AMBER/assessments/${assessmentId}`,
    action: `/services/SVC-AMBER/assessments/${assessmentId}/status`,
  },
  { name: 'override', page: '/services/SVC-GREEN/override', action: '/services/SVC-GREEN/override' },
  { name: 'open an action', page: '/services/SVC-GREEN/actions/new', action: '/services/SVC-GREEN/actions' },
  {
    name: 'close an action',
    page: `/services/SVC-AMBER/actions/${actionId}`,
    action: `/services/SVC-AMBER/actions/${actionId}/close`,
  },
  { name: 'add a user', page: '/admin/users/new', action: '/admin/users' },
  { name: "change a user's role", page: `/admin/users/${assessorId}`, action: `/admin/users/${assessorId}/role` },
  {
    name: 'disable a user',
    page: `/admin/users/${assessorId}`,
    action: `/admin/users/${assessorId}/disabled`,
  },
  { name: 'create an API token', page: '/admin/tokens', action: '/admin/tokens' },
]

const SHAPES: Array<[string, (field: string) => string | string[]]> = [
  ['every field blank', () => ''],
  ['every field too long', () => 'x'.repeat(5001)],
  ['every field sent twice', () => ['a', 'b']],
]

beforeAll(async () => {
  services = createTestServices()
  await seedSmallBorough(services)
  app = appWithAllRoutes(services)
  admin = await signIn(app, services, 'admin')
  const assessorEmail = await ensureUser(services, 'assessor')
  assessorId = (await new UsersRepository(services.db).findByEmail(assessorEmail))!.id
  const context = { actor: 'test', source: 'council_form' as const }
  const entry = await services.intelligence.record(
    'SVC-AMBER',
    { kind: 'embargo', date: '2026-11-01', reference: 'EMB-1' },
    context,
  )
  if (!entry.ok) throw new Error('could not record the entry')
  entryId = entry.entry.id
  const assessment = await services.assessments.record(
    'SVC-AMBER',
    { assessment_date: '2026-11-02', outcome: 'good' },
    'draft',
    context,
  )
  if (!assessment.ok) throw new Error('could not record the assessment')
  assessmentId = assessment.assessment.id
  const ambers = await services.serviceRepository.findByRef('SVC-AMBER')
  actionId = (
    await services.compliance.actions.open(
      {
        serviceId: ambers!.id,
        kind: 'notice_of_concern',
        owner: 'Sam',
        openedOn: '2026-11-01',
        dueOn: null,
        notes: null,
      },
      'test',
    )
  ).id
}, 60_000)

describe('bad input to every form writes nothing', () => {
  it('knows every form it sends junk to', async () => {
    for (const form of forms()) {
      const page = await admin.agent.get(form.page)
      expect(page.status, form.page).toBe(200)
      expect(formFields(page.text, form.action).length, form.name).toBeGreaterThan(0)
    }
  })

  describe.each(SHAPES)('%s', (_shape, junk) => {
    it.each(forms().map((form) => [form.name, form] as const))('%s', async (_name, lazyForm) => {
      const form = forms().find((f) => f.name === lazyForm.name)!
      const page = await admin.agent.get(form.page)
      const fields = formFields(page.text, form.action)
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!
      const body: Record<string, string | string[]> = { _csrf: csrf }
      for (const field of fields) body[field] = junk(field)
      Object.assign(body, form.keep)

      const before = fingerprint()
      const response = await admin.agent.post(form.action).type('form').send(body)
      expect(response.status, `${form.name}: ${response.text.slice(0, 200)}`).toBe(400)
      expect(response.text).toContain('govuk-error-summary')
      expect(response.text).toMatch(/<title>Error: /)
      expect(fingerprint(), `${form.name} wrote something`).toBe(before)
    })
  })

  it('sign-in with junk: 400 with the error summary, nothing written', async () => {
    for (const [, junk] of SHAPES) {
      const agent = request.agent(app)
      const page = await agent.get('/sign-in')
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!
      const before = fingerprint()
      const response = await agent
        .post('/sign-in')
        .type('form')
        .send({ _csrf: csrf, email: junk('email'), password: junk('password') })
      expect(response.status).toBe(400)
      expect(response.text).toContain('govuk-error-summary')
      expect(fingerprint()).toBe(before)
    }
  })
})
