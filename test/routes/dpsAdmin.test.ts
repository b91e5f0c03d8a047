import { beforeEach, describe, expect, it } from 'vitest'
import type { Express } from 'express'
import { AuditLog } from '../../src/data/audit.js'
import type { Services } from '../../src/services/container.js'
import {
  appWithAllRoutes,
  createTestServices,
  csrfTokenFrom,
  signIn,
  type SignedInAgent,
} from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

let services: Services
let app: Express
let admin: SignedInAgent
let audit: AuditLog

beforeEach(async () => {
  services = createTestServices()
  await seedSmallBorough(services)
  app = appWithAllRoutes(services)
  admin = await signIn(app, services, 'admin')
  audit = new AuditLog(services.db)
})

/** Submits a form the way a browser would: the CSRF token read from the form's own page. */
async function submit(formPath: string, body: Record<string, string>, action = formPath) {
  const token = csrfTokenFrom((await admin.agent.get(formPath)).text)
  return admin.agent
    .post(action)
    .type('form')
    .send({ _csrf: token, ...body })
}

const DEFAULT_GATE_FIELDS = {
  minimumCqcRating: 'good',
  maximumRag: 'amber',
  minimumQualityOutcome: 'off',
  noActiveEmbargo: 'yes',
  notInsolvent: 'yes',
}

async function createDps(name = 'Home Care DPS'): Promise<number> {
  const response = await submit('/admin/dps/new', { name, description: 'Good or above only', ...DEFAULT_GATE_FIELDS })
  expect(response.status).toBe(303)
  return Number(/\/admin\/dps\/(\d+)\?done=created/.exec(response.headers.location!)![1])
}

async function addTier1South(dpsId: number): Promise<number> {
  const response = await submit(`/admin/dps/${dpsId}/lots/new`, {
    name: 'Tier 1: South',
    tier: 'tier1',
    serviceType: 'home_care',
    zone: 'South',
    areas: 'South, Central',
  })
  expect(response.status).toBe(303)
  return (await services.dpsRepository.getDps(dpsId))!.lots[0]!.id
}

describe('admin DPS pages', () => {
  it('lists the frameworks and offers to create one', async () => {
    const response = await admin.agent.get('/admin/dps')
    expect(response.status).toBe(200)
    expect(response.text).toContain('href="/admin/dps/new"')
  })

  it('creates a DPS with its gates (audited), and refuses a bad form or a taken name', async () => {
    const dpsId = await createDps()
    const dps = await services.dpsRepository.getDps(dpsId)
    expect(dps).toMatchObject({
      name: 'Home Care DPS',
      description: 'Good or above only',
      gates: {
        minimumCqcRating: 'good',
        maximumRag: 'amber',
        noActiveEmbargo: true,
        notInsolvent: true,
        minimumQualityOutcome: null,
        registeredManagerInPost: false,
      },
    })
    const [entry] = await audit.list({ action: 'dps.created', limit: 1 })
    expect(entry).toMatchObject({ actor: 'admin@test.example', entityType: 'dps', entityId: String(dpsId) })
    const manage = await admin.agent.get(`/admin/dps/${dpsId}?done=created`)
    expect(manage.text).toContain('DPS created')
    expect(manage.text).toContain('CQC overall rating Good or above')

    const bad = await submit('/admin/dps/new', { name: '', minimumCqcRating: 'brilliant', maximumRag: 'amber' })
    expect(bad.status).toBe(400)
    expect(bad.text).toContain('Enter the name of the DPS')
    expect(bad.text).toContain('Select the minimum CQC rating')
    expect(bad.text).toContain('href="#minimumCqcRating"')
    const taken = await submit('/admin/dps/new', { name: 'Home Care DPS', ...DEFAULT_GATE_FIELDS })
    expect(taken.status).toBe(400)
    expect(taken.text).toContain('There is already a DPS called Home Care DPS')
    expect(await services.dpsRepository.listDps()).toHaveLength(1)
  })

  it('adds lots, refusing a Tier 1 lot without a zone and a duplicate name', async () => {
    const dpsId = await createDps()
    const noZone = await submit(`/admin/dps/${dpsId}/lots/new`, {
      name: 'Tier 1',
      tier: 'tier1',
      serviceType: 'home_care',
    })
    expect(noZone.status).toBe(400)
    expect(noZone.text).toContain('Enter the zone this Tier 1 lot leads')
    expect(noZone.text).toContain('value="Tier 1"')
    const lotId = await addTier1South(dpsId)
    expect(await services.dpsRepository.findLot(lotId)).toMatchObject({
      tier: 'tier1',
      zone: 'South',
      areas: ['South', 'Central'],
      serviceType: 'home_care',
    })
    const again = await submit(`/admin/dps/${dpsId}/lots/new`, {
      name: 'tier 1: south',
      tier: 'tier2',
      serviceType: 'home_care',
    })
    expect(again.status).toBe(400)
    expect(again.text).toContain('already has a lot called')
    expect(await audit.count({ action: 'dps.lot_added' })).toBe(1)
  })

  it('changes a lot (audited), refusing a taken name and a new type of service while it has members', async () => {
    const dpsId = await createDps()
    const lotId = await addTier1South(dpsId)
    await submit(`/admin/dps/${dpsId}/lots/new`, { name: 'Tier 2', tier: 'tier2', serviceType: 'home_care' })
    const manage = await admin.agent.get(`/admin/dps/${dpsId}`)
    expect(manage.text).toContain(`href="/admin/dps/${dpsId}/lots/${lotId}"`)
    const form = await admin.agent.get(`/admin/dps/${dpsId}/lots/${lotId}`)
    expect(form.status).toBe(200)
    expect(form.text).toContain('Change a lot')
    expect(form.text).toContain('value="South, Central"')
    const path = `/admin/dps/${dpsId}/lots/${lotId}`
    const fields = {
      name: 'Tier 1: South and Central',
      tier: 'tier1',
      serviceType: 'home_care',
      zone: 'South and Central',
    }

    const taken = await submit(path, { ...fields, name: 'tier 2' })
    expect(taken.status).toBe(400)
    expect(taken.text).toContain('already has a lot called tier 2')
    const noZone = await submit(path, { ...fields, zone: '' })
    expect(noZone.status).toBe(400)
    expect(noZone.text).toContain('Enter the zone this Tier 1 lot leads')

    const changed = await submit(path, { ...fields, areas: 'South, Central, Riverside' })
    expect(changed.status).toBe(303)
    expect(changed.headers.location).toBe(`/admin/dps/${dpsId}?done=lotChanged`)
    expect(await services.dpsRepository.findLot(lotId)).toMatchObject({
      name: 'Tier 1: South and Central',
      zone: 'South and Central',
      areas: ['South', 'Central', 'Riverside'],
    })
    const [entry] = await audit.list({ action: 'dps.lot_changed', limit: 1 })
    expect(entry).toMatchObject({ actor: 'admin@test.example', entityId: String(lotId) })
    expect(entry?.before).toMatchObject({ name: 'Tier 1: South', areas: ['South', 'Central'] })
    expect(entry?.after).toMatchObject({ name: 'Tier 1: South and Central' })

    await submit(`/admin/dps/${dpsId}/members/new`, { serviceRef: 'SVC-AMBER', lotId: String(lotId), on: '2026-11-01' })
    const otherType = await submit(path, { ...fields, serviceType: 'supported_living' })
    expect(otherType.status).toBe(400)
    expect(otherType.text).toContain('1 member is a home care service: remove them before changing the type of service')
    expect((await services.dpsRepository.findLot(lotId))?.serviceType).toBe('home_care')
    expect((await admin.agent.get(`/admin/dps/${dpsId}/lots/999999`)).status).toBe(404)
  })

  it('admits a service (audited, eligibility evaluated at once), refusing unknown services and the wrong type', async () => {
    const dpsId = await createDps()
    const lotId = await addTier1South(dpsId)
    const form = `/admin/dps/${dpsId}/members/new`
    const unknown = await submit(form, { serviceRef: 'NOPE', lotId: String(lotId), on: '2026-11-01' })
    expect(unknown.status).toBe(400)
    expect(unknown.text).toContain('There is no service with reference NOPE')
    const wrongType = await submit(form, { serviceRef: 'SVC-RED', lotId: String(lotId), on: '2026-11-01' })
    expect(wrongType.status).toBe(400)
    expect(wrongType.text).toContain('SVC-RED is a care home without nursing service; Tier 1: South is for home care')
    const badDate = await submit(form, { serviceRef: 'SVC-AMBER', lotId: String(lotId), on: '31/02/2026' })
    expect(badDate.status).toBe(400)
    expect(badDate.text).toContain('Enter a real date')

    const admitted = await submit(form, {
      serviceRef: 'SVC-AMBER',
      lotId: String(lotId),
      on: '01/11/2026',
      reason: 'Won the tender',
    })
    expect(admitted.status).toBe(303)
    const [member] = (await services.dpsRepository.getDps(dpsId))!.lots[0]!.members
    expect(member).toMatchObject({
      serviceRef: 'SVC-AMBER',
      status: 'admitted',
      admittedOn: '2026-11-01',
      reason: 'Won the tender',
    })
    expect(member?.eligibility).toMatchObject({ eligible: true, failingGates: [] })
    const [entry] = await audit.list({ action: 'dps.member_admitted', limit: 1 })
    expect(entry).toMatchObject({ actor: 'admin@test.example', before: null })
  })

  it('changes the gates (audited) and re-evaluates every member before answering', async () => {
    const dpsId = await createDps()
    const lotId = await addTier1South(dpsId)
    await submit(`/admin/dps/${dpsId}/members/new`, { serviceRef: 'SVC-AMBER', lotId: String(lotId), on: '2026-11-01' })
    const form = await admin.agent.get(`/admin/dps/${dpsId}/gates`)
    expect(form.text).toMatch(/<option value="amber" selected>Not Red<\/option>/)
    expect(form.text).toMatch(/name="noActiveEmbargo" type="checkbox" value="yes" checked/)

    const bad = await submit(`/admin/dps/${dpsId}/gates`, { ...DEFAULT_GATE_FIELDS, maximumRag: 'purple' })
    expect(bad.status).toBe(400)
    expect(bad.text).toContain('Select the worst RAG accepted')

    // A browser leaves an unticked box out; an empty value is not one a form sends, so it is refused.
    const emptyBox = await submit(`/admin/dps/${dpsId}/gates`, { ...DEFAULT_GATE_FIELDS, notInsolvent: '' })
    expect(emptyBox.status).toBe(400)
    const greenOnly = await submit(`/admin/dps/${dpsId}/gates`, {
      minimumCqcRating: 'good',
      maximumRag: 'green',
      minimumQualityOutcome: 'off',
      noActiveEmbargo: 'yes',
    })
    expect(greenOnly.status).toBe(303)
    const dps = await services.dpsRepository.getDps(dpsId)
    expect(dps?.gates).toMatchObject({ maximumRag: 'green', notInsolvent: false, noActiveEmbargo: true })
    const member = dps!.lots[0]!.members[0]!
    expect(member.eligibility).toMatchObject({ eligible: false, failingGates: [{ gate: 'rag' }] })
    const events = await services.dps.eventsSince(0)
    expect(events.map((e) => [e.serviceRef, e.change])).toEqual([['SVC-AMBER', 'lost']])
    expect((await services.dps.openTasks()).map((t) => t.serviceRef)).toEqual(['SVC-AMBER'])
    const [entry] = await audit.list({ action: 'dps.gates_changed', limit: 1 })
    expect(entry?.before).toMatchObject({ maximumRag: 'amber', notInsolvent: true })
    expect(entry?.after).toMatchObject({ maximumRag: 'green', notInsolvent: false })
  })

  it('suspends, removes and re-admits a member with a date and reason (audited)', async () => {
    const dpsId = await createDps()
    const lotId = await addTier1South(dpsId)
    await submit(`/admin/dps/${dpsId}/members/new`, { serviceRef: 'SVC-AMBER', lotId: String(lotId), on: '2026-11-01' })
    const membership = (await services.dpsRepository.getDps(dpsId))!.lots[0]!.members[0]!
    const path = `/admin/dps/${dpsId}/members/${membership.id}`

    const noReason = await submit(path, { action: 'suspend', on: '2026-11-20', reason: '' })
    expect(noReason.status).toBe(400)
    expect(noReason.text).toContain('Enter the reason')
    const already = await submit(path, { action: 'readmit', on: '2026-11-20', reason: 'x' })
    expect(already.status).toBe(400)
    expect(already.text).toContain('This membership is already admitted')

    expect((await submit(path, { action: 'suspend', on: '20/11/2026', reason: 'Late returns' })).status).toBe(303)
    expect(await services.dpsRepository.findMembershipById(membership.id)).toMatchObject({
      status: 'suspended',
      statusChangedOn: '2026-11-20',
      reason: 'Late returns',
    })
    const page = await admin.agent.get(`/dps/${dpsId}`)
    expect(page.text).toContain('Membership suspended since 2026-11-20: Late returns')

    expect((await submit(path, { action: 'remove', on: '2026-11-21', reason: 'Left the market' })).status).toBe(303)
    expect((await submit(path, { action: 'readmit', on: '2026-11-22', reason: 'Re-applied' })).status).toBe(303)
    expect(await services.dpsRepository.findMembershipById(membership.id)).toMatchObject({ status: 'admitted' })
    const actions = (await audit.list({ entityType: 'dps_membership', limit: 10 })).map((e) => e.action).reverse()
    expect(actions).toEqual([
      'dps.member_admitted',
      'dps.member_suspended',
      'dps.member_removed',
      'dps.member_admitted',
    ])
  })

  it('refuses admin forms posted without the CSRF token', async () => {
    const response = await admin.agent
      .post('/admin/dps/new')
      .type('form')
      .send({ name: 'No token', ...DEFAULT_GATE_FIELDS })
    expect(response.status).toBe(403)
    expect(await services.dpsRepository.listDps()).toEqual([])
  })
})
