import { beforeAll, describe, expect, it } from 'vitest'
import type { Express } from 'express'
import type { Services } from '../../src/services/container.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

let services: Services
let app: Express
let compliance: SignedInAgent
let admin: SignedInAgent
let assessor: SignedInAgent

async function openAction(ref: string, body: Record<string, string>) {
  const csrf = await compliance.csrf('/')
  const response = await compliance.agent.post(`/api/v1/services/${ref}/actions`).set('x-csrf-token', csrf).send(body)
  expect(response.status).toBe(201)
  return response.body.action as { id: number }
}

function tableRows(html: string, testId: string): string[] {
  const start = html.indexOf(`data-testid="${testId}"`)
  if (start < 0) return []
  const table = html.slice(start, html.indexOf('</table>', start))
  return table.split('<tr class="govuk-table__row"').slice(2)
}

function navigation(html: string): string[] {
  const nav = html.slice(
    html.indexOf('govuk-service-navigation__list'),
    html.indexOf('</ul>', html.indexOf('govuk-service-navigation__list')),
  )
  return [...nav.matchAll(/href="([^"]+)"/g)].map((m) => m[1] as string)
}

beforeAll(async () => {
  services = createTestServices()
  await seedSmallBorough(services)
  app = appWithAllRoutes(services)
  compliance = await signIn(app, services, 'compliance')
  admin = await signIn(app, services, 'admin')
  assessor = await signIn(app, services, 'assessor')
  // Today is 2026-11-23 (the test clock).
  await openAction('SVC-RED', { kind: 'action_plan', openedOn: '2026-10-01', dueOn: '2026-11-01', owner: 'Priya Shah' })
  await openAction('SVC-AMBER', {
    kind: 'notice_of_concern',
    openedOn: '2026-11-20',
    dueOn: '2026-12-20',
    owner: 'Sam Jones',
  })
  await openAction('SVC-GREEN', { kind: 'action_plan', openedOn: '2026-11-02', owner: 'Sam Jones' })
  const closed = await openAction('SVC-GREEN', { kind: 'remedial_notice', openedOn: '2026-09-01', owner: 'Priya Shah' })
  const action = await services.compliance.actions.findById(closed.id)
  await services.compliance.closeAction(action!, { closedOn: '2026-10-01', outcome: 'Done' }, 'compliance@test.example')
})

describe('/actions: open actions across services', () => {
  it('lists every open action, overdue first, never a closed one', async () => {
    const page = await compliance.agent.get('/actions')
    expect(page.status).toBe(200)
    const rows = tableRows(page.text, 'actions-table')
    expect(rows).toHaveLength(3)
    expect(rows[0]).toContain('Action plan')
    expect(rows[0]).toContain('/services/SVC-RED/actions/')
    expect(rows[0]).toContain('Overdue by 22 days')
    expect(rows[1]).toContain('Notice of concern')
    expect(rows[2]).toContain('No due date')
    expect(page.text).not.toContain('Remedial notice</a>')
    expect(page.text).toContain('3 open actions, 1 overdue')
  })

  it('filters by kind, owner and overdue, and the CSV has exactly the rows shown', async () => {
    const byKind = tableRows((await compliance.agent.get('/actions?kind=action_plan')).text, 'actions-table')
    expect(byKind).toHaveLength(2)
    const byOwner = tableRows((await compliance.agent.get('/actions?owner=Sam+Jones')).text, 'actions-table')
    expect(byOwner).toHaveLength(2)
    expect(byOwner.join('')).not.toContain('Priya Shah')
    const overdue = tableRows((await admin.agent.get('/actions?due=overdue')).text, 'actions-table')
    expect(overdue).toHaveLength(1)
    const both = await compliance.agent.get('/actions?kind=action_plan&owner=Sam+Jones')
    expect(tableRows(both.text, 'actions-table')).toHaveLength(1)
    expect(both.text).toContain('href="/actions.csv?kind&#x3D;action_plan&amp;owner&#x3D;Sam+Jones"')

    const csv = await compliance.agent.get('/actions.csv?kind=action_plan')
    expect(csv.status).toBe(200)
    expect(csv.headers['content-type']).toContain('text/csv')
    const lines = csv.text.trim().split(/\r?\n/)
    expect(lines[0]).toBe('Service reference,Service,Provider,RAG,Action,Owner,Reference,Opened,Due,Overdue')
    expect(lines.slice(1).map((line) => line.split(',')[0])).toEqual(['SVC-RED', 'SVC-GREEN'])
    expect(lines[1]).toContain(',Action plan,Priya Shah,,2026-10-01,2026-11-01,Yes')
  })

  it('refuses a bad filter with a 400 naming it, and assessors with a 403', async () => {
    const bad = await compliance.agent.get('/actions?kind=telling_off&due=soon')
    expect(bad.status).toBe(400)
    expect(bad.text).toContain('Select a type of action from the list')
    expect(bad.text).toContain('Select any due date or overdue only')
    expect((await assessor.agent.get('/actions')).status).toBe(403)
    expect((await assessor.agent.get('/actions.csv')).status).toBe(403)
  })
})

describe('the navigation reaches the lists a person starts from', () => {
  it('offers officers actions, assessments due and providers; assessors providers only', async () => {
    const officerNav = navigation((await compliance.agent.get('/')).text)
    expect(officerNav).toEqual(expect.arrayContaining(['/actions', '/assessments/due', '/providers', '/morning']))
    const assessorNav = navigation((await assessor.agent.get('/')).text)
    expect(assessorNav).toContain('/providers')
    expect(assessorNav).not.toContain('/actions')
    expect(assessorNav).not.toContain('/assessments/due')
    const providers = await assessor.agent.get('/providers')
    expect(providers.text).toMatch(
      /href="\/providers"[^>]*aria-current="page"|aria-current="page"[^>]*href="\/providers"/,
    )
  })
})

describe('"Services I follow" on the morning page', () => {
  it('says how to follow when the officer follows nothing, then lists each followed service with its RAG', async () => {
    const before = await admin.agent.get('/morning')
    expect(before.text).toContain('data-testid="morning-followed-none"')
    const csrf = await compliance.csrf('/services/SVC-RED')
    await compliance.agent.post('/services/SVC-RED/follow').type('form').send({ _csrf: csrf })
    const page = await compliance.agent.get('/morning')
    expect(page.status).toBe(200)
    const rows = tableRows(page.text, 'morning-followed')
    expect(rows).toHaveLength(1)
    expect(rows[0]).toContain('href="/services/SVC-RED"')
    expect(rows[0]).toMatch(/govuk-tag--red">Red</)
    expect(page.text).toContain('Services I follow (1)')
  })
})
