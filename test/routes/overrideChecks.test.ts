import type { Express } from 'express'
import { beforeEach, describe, expect, it } from 'vitest'
import type { Services } from '../../src/services/container.js'
import { appWithAllRoutes, createTestServices, signIn, type SignedInAgent } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

let services: Services
let app: Express
let officer: SignedInAgent
let greenId: number

const expiry = { 'expiresOn-day': '20', 'expiresOn-month': '12', 'expiresOn-year': '2026' }

async function postOverride(fields: Record<string, string>, ref = 'SVC-GREEN') {
  const csrf = await officer.csrf(`/services/${ref}/override`)
  return officer.agent
    .post(`/services/${ref}/override`)
    .type('form')
    .send({ _csrf: csrf, ...fields })
}

beforeEach(async () => {
  services = createTestServices()
  greenId = (await seedSmallBorough(services)).green
  app = appWithAllRoutes(services)
  officer = await signIn(app, services, 'compliance')
})

describe('an override form that says who sees what, and refuses to change nothing', () => {
  it('tells the officer that everyone, assessors included, sees the reason', async () => {
    const form = await officer.agent.get('/services/SVC-GREEN/override')
    expect(form.text).toContain('data-testid="override-reason-audience"')
    expect(form.text).toContain('Everyone who uses the dashboard sees the reason, assessors included')
  })

  it('refuses an override to the colour the rules already give, and writes nothing', async () => {
    const auditBefore = await services.audit.count()
    const response = await postOverride({ level: 'green', reason: 'Looks fine to me', ...expiry })
    expect(response.status).toBe(400)
    expect(response.text).toContain('The rules already give Green')
    expect(response.text).toContain('href="#level"')
    expect(await services.compliance.overrides.listForService(greenId)).toEqual([])
    expect(await services.audit.count()).toBe(auditBefore)
    expect((await postOverride({ level: 'amber', reason: 'Whistleblowing concern', ...expiry })).status).toBe(303)
  })
})

describe('revoking an override asks why and to confirm', () => {
  it('the service page links to a confirmation page; a post without a reason revokes nothing', async () => {
    await postOverride({ level: 'red', reason: 'Safeguarding enquiry opened', ...expiry })
    const [override] = await services.compliance.overrides.listForService(greenId)
    const page = await officer.agent.get('/services/SVC-GREEN')
    const revokeHref = `/services/SVC-GREEN/override/${override!.id}/revoke`
    expect(page.text).toContain(`href="${revokeHref}"`)
    expect(page.text).not.toContain(`action="${revokeHref}"`)

    const confirm = await officer.agent.get(revokeHref)
    expect(confirm.status).toBe(200)
    expect(confirm.text).toContain('Revoke the override')
    expect(confirm.text).toContain('Safeguarding enquiry opened')
    expect(confirm.text).toContain('data-module="govuk-character-count"')

    const csrf = await officer.csrf(revokeHref)
    const blank = await officer.agent.post(revokeHref).type('form').send({ _csrf: csrf, reason: '   ' })
    expect(blank.status).toBe(400)
    expect(blank.text).toContain('Enter why the override is being revoked')
    expect((await services.runs.current(greenId))?.result.rag).toBe('red')

    const done = await officer.agent
      .post(revokeHref)
      .type('form')
      .send({ _csrf: csrf, reason: 'Enquiry closed: no further action' })
    expect(done.status).toBe(303)
    expect((await services.runs.current(greenId))?.result.rag).toBe('green')
    const revoked = await services.compliance.overrides.findById(override!.id)
    expect(revoked).toMatchObject({
      revokeReason: 'Enquiry closed: no further action',
      revokedBy: 'compliance@test.example',
    })
    // Already revoked: the confirmation page sends the officer back to the service.
    expect((await officer.agent.get(revokeHref)).status).toBe(303)
  })

  it('refuses assessors and answers 404 for an unknown override', async () => {
    const assessor = await signIn(app, services, 'assessor')
    expect((await assessor.agent.get('/services/SVC-GREEN/override/1/revoke')).status).toBe(403)
    expect((await officer.agent.get('/services/SVC-GREEN/override/999/revoke')).status).toBe(404)
  })
})
