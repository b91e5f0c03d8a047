import { beforeEach, describe, expect, it, vi } from 'vitest'
import { AuditLog } from '../../src/data/audit.js'
import type { Services } from '../../src/services/container.js'
import { kindOfObservation } from '../../src/services/intelligenceService.js'
import { createTestServices } from '../helpers/appHarness.js'
import { seedSmallBorough } from '../helpers/seedSmall.js'

const FORM = { actor: 'officer@example.org', source: 'council_form' } as const

describe('IntelligenceService', () => {
  let services: Services
  let ids: Record<'red' | 'amber' | 'green', number>

  beforeEach(async () => {
    services = createTestServices()
    ids = await seedSmallBorough(services)
  })

  it('numbers reference-less events of one kind and day, so two deaths on one day are two entries', async () => {
    const first = await services.intelligence.record(
      'SVC-GREEN',
      { kind: 'unexpected_death', date: '2026-11-01' },
      FORM,
    )
    const second = await services.intelligence.record(
      'SVC-GREEN',
      { kind: 'unexpected_death', date: '2026-11-01' },
      FORM,
    )
    expect(first.ok && second.ok).toBe(true)
    const keys = (await services.observations.listHistory(ids.green))
      .filter((o) => o.indicator === 'unexpected_deaths')
      .map((o) => o.naturalKey)
      .sort()
    expect(keys).toEqual(['council:unexpected_death:on:2026-11-01:1', 'council:unexpected_death:on:2026-11-01:2'])
    expect(second.ok && second.risk?.indicators.find((i) => i.key === 'unexpected_deaths')?.level).toBe('red')
  })

  it('writes an entry and its audit entry together: if the audit fails, the entry is not kept either', async () => {
    const before = await services.observations.count()
    const audits = await services.audit.count()
    // The audit write fails inside the entry's transaction (the store builds its own repositories for it).
    const failing = vi.spyOn(AuditLog.prototype, 'record').mockRejectedValue(new Error('disk full'))
    try {
      await expect(
        services.intelligence.record('SVC-GREEN', { kind: 'embargo', date: '2026-11-01', reference: 'E-1' }, FORM),
      ).rejects.toThrow('disk full')
      const [assessment] = await Promise.allSettled([
        services.assessments.record('SVC-GREEN', { assessment_date: '2026-11-01', outcome: 'poor' }, 'draft', FORM),
      ])
      expect(assessment.status).toBe('rejected')
    } finally {
      failing.mockRestore()
    }
    expect(await services.observations.count()).toBe(before)
    expect(await services.audit.count()).toBe(audits)

    const recorded = await services.intelligence.record(
      'SVC-GREEN',
      { kind: 'embargo', date: '2026-11-01', reference: 'E-1' },
      FORM,
    )
    expect(recorded.ok).toBe(true)
    const [entry] = await services.audit.list({ action: 'intelligence.recorded', limit: 1 })
    expect(entry?.after).toMatchObject({
      kind: 'embargo',
      reference: 'E-1',
      date: '2026-11-01',
      source: 'council_form',
    })
    expect(entry?.after).toMatchObject({ observationId: recorded.ok ? recorded.entry.id : -1 })
  })

  it('keys an entry with a reference as the CSV does, so a later export of it supersedes rather than duplicates', async () => {
    const recorded = await services.intelligence.record(
      'SVC-RED',
      { kind: 'embargo', date: '2026-11-01', reference: 'EMB-1' },
      FORM,
    )
    expect(recorded.ok).toBe(true)
    const imported = await services.importer.importFile(
      'intelligence',
      'service_ref,kind,date,end_date,reference\nSVC-RED,embargo,2026-11-01,2026-11-20,EMB-1\n',
      { actor: 'inbox', source: 'council_inbox', fileLabel: 'x.csv' },
    )
    expect(imported.imported).toBe(1)
    const embargoes = (await services.observations.listHistory(ids.red)).filter((o) => o.indicator === 'embargo')
    expect(embargoes).toHaveLength(2)
    expect(embargoes.filter((o) => o.supersededById === null).map((o) => o.endDate)).toEqual(['2026-11-20'])
  })

  it('lists the versions of an entry newest first', async () => {
    const recorded = await services.intelligence.record(
      'SVC-AMBER',
      { kind: 'manager_vacancy', date: '2026-09-01' },
      FORM,
    )
    if (!recorded.ok) throw new Error('not recorded')
    const filled = await services.intelligence.edit(
      'SVC-AMBER',
      recorded.entry.id,
      { date: '2026-09-01', end_date: '2026-11-01', notes: 'New manager registered' },
      FORM,
    )
    if (!filled.ok) throw new Error(JSON.stringify(filled))
    expect(filled.previous?.id).toBe(recorded.entry.id)
    const versions = await services.intelligence.versionsOf(ids.amber, recorded.entry.id)
    expect(versions.map((v) => v.id)).toEqual([filled.entry.id, recorded.entry.id])
    expect(versions[0]?.endDate).toBe('2026-11-01')
  })

  it('does not let an edit change the kind', async () => {
    const recorded = await services.intelligence.record('SVC-AMBER', { kind: 'embargo', date: '2026-09-01' }, FORM)
    if (!recorded.ok) throw new Error('not recorded')
    const edited = await services.intelligence.edit(
      'SVC-AMBER',
      recorded.entry.id,
      { kind: 'unexpected_death', date: '2026-09-01', end_date: '2026-10-01' },
      FORM,
    )
    expect(edited.ok && edited.entry.kind).toBe('embargo')
  })

  it('tells which observations are intelligence entries', () => {
    expect(kindOfObservation({ indicator: 'safeguarding', value: 'decision', source: 'council_form' })).toBe(
      'safeguarding_decision',
    )
    expect(kindOfObservation({ indicator: 'safeguarding', value: 'count', source: 'council_csv' })).toBeNull()
    expect(kindOfObservation({ indicator: 'manager_vacancy', value: 'vacant', source: 'cqc_api' })).toBeNull()
    expect(kindOfObservation({ indicator: 'cqc_rating', value: 'good', source: 'cqc_api' })).toBeNull()
  })
})
