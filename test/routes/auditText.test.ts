import { describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../src/data/audit.js'
import { auditActionLabel, describeAuditEntry } from '../../src/routes/auditText.js'

function entry(action: string, after: unknown, before: unknown = null): AuditEntry {
  return {
    id: 1,
    at: '2026-11-23T10:00:00.000Z',
    actor: 'compliance@example.org',
    action,
    entityType: 'service',
    entityId: 'SVC-1',
    before,
    after,
  } as AuditEntry
}

const safeguarding = {
  service: 'SVC-1',
  observationId: 7,
  kind: 'safeguarding_decision',
  date: '2026-11-20',
  endDate: null,
  outcome: 'not_substantiated',
  reference: 'SG-7001',
  notes: 'Neglect allegation',
  source: 'council_form',
}

describe('the audit log in words (service page and /admin/audit)', () => {
  it('names every action the app writes', () => {
    for (const [action, label] of [
      ['intelligence.recorded', 'Intelligence recorded'],
      ['assessment.published', 'Assessment published'],
      ['user.role_changed', 'Role changed'],
      ['import', 'File imported'],
      ['override.set', 'Override set'],
    ]) {
      expect(auditActionLabel(action!)).toBe(label)
    }
    expect(auditActionLabel('something.new_here')).toBe('something: new here')
  })

  it('describes an intelligence entry, and what an edit changed', () => {
    expect(describeAuditEntry(entry('intelligence.recorded', safeguarding))).toBe(
      'Safeguarding decision on 20 November 2026, outcome not substantiated, reference SG-7001: Neglect allegation',
    )
    const lifted = { ...safeguarding, kind: 'embargo', outcome: null, notes: null, endDate: '2026-11-22' }
    expect(
      describeAuditEntry(entry('intelligence.changed', lifted, { ...lifted, endDate: null, notes: 'old note' })),
    ).toBe(
      'Embargo on new placements on 20 November 2026, ended 22 November 2026, reference SG-7001 (changed endDate (blank) → 2026-11-22; notes old note → (blank))',
    )
  })

  it('describes assessments, overrides, actions, users, tokens and imports', () => {
    const assessment = { date: '2026-11-10', outcome: 'requires_improvement', assessor: 'Jo Assessor', status: 'draft' }
    expect(describeAuditEntry(entry('assessment.recorded', assessment))).toBe(
      'Quality assessment requires improvement on 10 November 2026 by Jo Assessor, draft',
    )
    expect(describeAuditEntry(entry('override.set', { rag: 'red', reason: 'Police', expiresOn: '2027-01-15' }))).toBe(
      'Override to Red until 15 January 2027: Police',
    )
    expect(describeAuditEntry(entry('action.opened', { kind: 'action_plan', owner: 'Sam', dueOn: '2026-11-24' }))).toBe(
      'Action plan opened, owner Sam, due 24 November 2026',
    )
    expect(
      describeAuditEntry(
        entry('user.role_changed', { email: 'a@b.org', role: 'admin' }, { email: 'a@b.org', role: 'assessor' }),
      ),
    ).toBe('a@b.org: role assessor → admin')
    expect(describeAuditEntry(entry('api_token.created', { name: 'BI', role: 'assessor' }))).toBe(
      'Token "BI" with the role assessor',
    )
    expect(describeAuditEntry(entry('import', { kind: 'intelligence', imported: 3, duplicates: 1, rejected: 2 }))).toBe(
      'intelligence import: 3 imported, 1 already known, 2 rejected',
    )
  })

  it('falls back to the record, cut short, for an action it does not know', () => {
    const long = { text: 'x'.repeat(500) }
    const summary = describeAuditEntry(entry('other.thing', long))
    expect(summary.length).toBe(300)
    expect(summary.endsWith('...')).toBe(true)
  })
})
