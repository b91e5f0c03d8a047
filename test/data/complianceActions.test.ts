import { beforeEach, describe, expect, it } from 'vitest'
import type { NewComplianceAction } from '../../src/data/complianceActions.js'
import type { Repositories, Store } from '../../src/data/store.js'
import { actionPlansDue } from '../../src/services/complianceService.js'
import { createService, newObservation } from '../helpers/factories.js'
import { describeEachStore } from '../helpers/stores.js'

describeEachStore('ComplianceActionsRepository', (openStore) => {
  let store: Store
  let actions: Repositories['complianceActions']
  let audit: Repositories['audit']
  let serviceId: number

  beforeEach(async () => {
    store = await openStore()
    actions = store.repositories.complianceActions
    audit = store.repositories.audit
    serviceId = await createService(store, { ref: 'SVC-ELM', name: 'Elm House' })
  })

  const action = (overrides: Partial<NewComplianceAction> = {}): NewComplianceAction => ({
    serviceId,
    kind: 'action_plan',
    owner: 'Sam Officer',
    openedOn: '2026-11-01',
    dueOn: '2026-11-15',
    notes: 'Agreed at the provider meeting',
    ...overrides,
  })

  it('opens an action and audits it against the service', async () => {
    const opened = await actions.open(action(), 'officer@example.org')
    expect(opened).toMatchObject({
      serviceId,
      kind: 'action_plan',
      owner: 'Sam Officer',
      openedOn: '2026-11-01',
      dueOn: '2026-11-15',
      closedOn: null,
      outcome: null,
      createdBy: 'officer@example.org',
    })
    const [entry] = await audit.list({ entityType: 'service', entityId: serviceId, limit: 5 })
    expect(entry).toMatchObject({
      action: 'action.opened',
      actor: 'officer@example.org',
      after: { actionId: opened.id, kind: 'action_plan', dueOn: '2026-11-15' },
    })
  })

  it('closes an open action once, with its outcome, audited with before and after', async () => {
    const opened = await actions.open(action(), 'a')
    const closed = await actions.close(opened.id, { closedOn: '2026-11-20', outcome: 'Plan delivered' }, 'b')
    expect(closed).toMatchObject({ ok: true, action: { closedOn: '2026-11-20', outcome: 'Plan delivered', closedBy: 'b' } })
    const again = await actions.close(opened.id, { closedOn: '2026-11-21', outcome: 'Again' }, 'c')
    expect(again).toMatchObject({ ok: false, reason: 'already_closed', action: { outcome: 'Plan delivered' } })
    expect(await actions.close(999, { closedOn: '2026-11-21', outcome: 'x' }, 'c')).toEqual({
      ok: false,
      reason: 'not_found',
    })
    const entries = await audit.list({ action: 'action.closed', limit: 5 })
    expect(entries).toHaveLength(1)
    expect(entries[0]).toMatchObject({ before: { closedOn: null }, after: { closedOn: '2026-11-20', outcome: 'Plan delivered' } })
  })

  it('lists a service’s actions open first, and the overdue ones across services', async () => {
    const closedOne = await actions.open(action({ kind: 'notice_of_concern', openedOn: '2026-10-01' }), 'a')
    await actions.close(closedOne.id, { closedOn: '2026-10-10', outcome: 'Resolved' }, 'a')
    const late = await actions.open(action({ dueOn: '2026-11-10' }), 'a')
    const notYetDue = await actions.open(action({ kind: 'improvement_plan', dueOn: '2026-12-31' }), 'a')
    await actions.open(action({ kind: 'termination', dueOn: null }), 'a')
    const listed = await actions.listForService(serviceId)
    expect(listed.map((a) => a.closedOn === null)).toEqual([true, true, true, false])
    const overdue = await actions.overdue('2026-11-23')
    expect(overdue.map((a) => a.id)).toEqual([late.id])
    expect(overdue[0]).toMatchObject({ serviceRef: 'SVC-ELM', serviceName: 'Elm House' })
    expect((await actions.overdue('2027-01-01')).map((a) => a.id)).toEqual([late.id, notYetDue.id])
    expect((await actions.overdue('2026-11-10')).map((a) => a.id)).toEqual([])
  })

  it('refuses a kind off the ladder at the database', async () => {
    await expect(actions.open(action({ kind: 'warning_letter' as never }), 'a')).rejects.toThrow(/CHECK/)
    expect(await audit.count()).toBe(0)
  })

  it('gives the dates action plans were opened, by service', async () => {
    await actions.open(action({ openedOn: '2026-06-01' }), 'a')
    await actions.open(action({ kind: 'notice_of_concern', openedOn: '2026-07-01' }), 'a')
    await actions.open(action({ openedOn: '2026-08-01' }), 'a')
    expect(await actions.openedDatesByService('action_plan')).toEqual(new Map([[serviceId, ['2026-06-01', '2026-08-01']]]))
  })

  it('an action opened in a write that fails later leaves no action, fact or audit entry', async () => {
    await expect(
      store.write(async (repositories) => {
        await repositories.complianceActions.open(action({ kind: 'default_notice' }), 'a')
        throw new Error('later write failed')
      }),
    ).rejects.toThrow('later write failed')
    expect(await actions.listForService(serviceId)).toEqual([])
    expect(await store.repositories.observations.count()).toBe(0)
    expect(await audit.count()).toBe(0)
  })
}, { notYetOnPostgres: 'creates services through ServiceRepository, not on the seam yet' })

describeEachStore('ComplianceFactsRepository', (openStore) => {
  it('reads live quality assessments and services with their current RAG', async () => {
    const store = await openStore()
    const serviceId = await createService(store, { ref: 'SVC-A', name: 'A', contractStatus: 'spot' })
    const observations = store.repositories.observations
    const qa = (observedOn: string, value: string, key: string) =>
      newObservation(serviceId, { indicator: 'quality_assessment', source: 'council_form', observedOn, value, naturalKey: key })
    const appended = await observations.append([qa('2026-01-01', 'poor', 'qa-1')])
    await observations.append([{ ...qa('2026-01-01', 'good', 'qa-1b'), supersedes: appended.insertedIds[0] }])
    await observations.append([qa('2026-05-01', 'requires_improvement', 'qa-2')])
    const facts = store.repositories.complianceFacts
    expect((await facts.assessmentsOnRecord()).map((a) => [a.observedOn, a.value])).toEqual([
      ['2026-01-01', 'good'],
      ['2026-05-01', 'requires_improvement'],
    ])
    expect(await facts.serviceStates()).toEqual([
      { serviceId, ref: 'SVC-A', name: 'A', contractStatus: 'spot', rag: null, score: null },
    ])
  })
}, { notYetOnPostgres: 'creates services through ServiceRepository, not on the seam yet' })

describe('actionPlansDue (SPEC §7: an action plan within 14 days of RI or Poor)', () => {
  const assessment = (serviceId: number, observedOn: string, value: string, status?: string) => ({
    serviceId,
    observedOn,
    value,
    detail: status ? { status } : {},
  })

  it('is due 14 days after the latest counted RI or Poor assessment with no action plan since', () => {
    const due = actionPlansDue(
      [
        assessment(1, '2026-11-01', 'requires_improvement'),
        assessment(2, '2026-10-01', 'poor'),
        assessment(3, '2026-10-01', 'poor'),
        assessment(3, '2026-11-05', 'good'),
        assessment(4, '2026-11-10', 'poor', 'draft'),
        assessment(5, '2026-09-01', 'poor'),
      ],
      new Map([[5, ['2026-09-03']]]),
    )
    expect(due).toEqual([
      { serviceId: 2, assessedOn: '2026-10-01', outcome: 'poor', dueOn: '2026-10-15' },
      { serviceId: 1, assessedOn: '2026-11-01', outcome: 'requires_improvement', dueOn: '2026-11-15' },
    ])
  })

  it('counts an action plan opened before the assessment as not answering it', () => {
    const due = actionPlansDue([assessment(1, '2026-11-01', 'poor')], new Map([[1, ['2026-10-01']]]))
    expect(due.map((d) => d.dueOn)).toEqual(['2026-11-15'])
  })
})
