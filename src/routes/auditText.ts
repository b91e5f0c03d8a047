import type { AuditEntry } from '../data/audit.js'
import { ACTION_KIND_LABELS, type ActionKind } from '../data/complianceActions.js'
import { INTELLIGENCE_KIND_LABELS, RAGS, type IntelligenceKind, type Rag } from '../domain/vocabulary.js'
import { formatDate, ragTag } from './display.js'

/** What each audited action is called on the service page and in /admin/audit. */
const AUDIT_ACTION_LABELS: Record<string, string> = {
  'override.set': 'Override set',
  'override.revoked': 'Override revoked',
  'action.opened': 'Action opened',
  'action.closed': 'Action closed',
  'intelligence.recorded': 'Intelligence recorded',
  'intelligence.changed': 'Intelligence changed',
  'assessment.recorded': 'Assessment recorded',
  'assessment.changed': 'Assessment changed',
  'assessment.challenge_started': 'Assessment sent for challenge',
  'assessment.published': 'Assessment published',
  import: 'File imported',
  'user.created': 'User created',
  'user.role_changed': 'Role changed',
  'user.disabled': 'User disabled',
  'user.enabled': 'User enabled',
  'user.password_changed': 'Password changed',
  'user.signed_in': 'Signed in',
  'api_token.created': 'API token created',
  'api_token.revoked': 'API token revoked',
  'rule_set.save': 'Rule set saved',
  'service.follow': 'Followed',
  'service.unfollow': 'Unfollowed',
}

export function auditActionLabel(action: string): string {
  return AUDIT_ACTION_LABELS[action] ?? action.replaceAll('_', ' ').replaceAll('.', ': ')
}

const NOTE_SHOWN = 200
const SUMMARY_MAX = 300
const CHANGE_SHOWN = 100

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : value === null || value === undefined ? '' : JSON.stringify(value)
}

function clipped(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max - 3)}...` : value
}

function ragWord(value: unknown): string {
  return (RAGS as readonly unknown[]).includes(value) ? ragTag(value as Rag).text : text(value)
}

function actionKindLabel(kind: unknown): string {
  return ACTION_KIND_LABELS[kind as ActionKind] ?? text(kind)
}

function intelligenceKindLabel(kind: unknown): string {
  return INTELLIGENCE_KIND_LABELS[kind as IntelligenceKind] ?? text(kind).replaceAll('_', ' ')
}

/** `requires_improvement` -> "requires improvement". */
function word(value: unknown): string {
  return text(value).replaceAll('_', ' ')
}

function dateText(value: unknown): string {
  const iso = text(value)
  return iso === '' ? '' : formatDate(iso)
}

/** "Safeguarding decision on 3 December 2026, outcome open, reference SG-1: the note". */
function describeIntelligence(entry: Record<string, unknown>): string {
  const parts = [`${intelligenceKindLabel(entry.kind)} on ${dateText(entry.date)}`]
  if (entry.endDate) parts.push(`ended ${dateText(entry.endDate)}`)
  if (entry.outcome) parts.push(`outcome ${word(entry.outcome)}`)
  if (entry.reference) parts.push(`reference ${text(entry.reference)}`)
  const notes = text(entry.notes)
  return `${parts.join(', ')}${notes ? `: ${clipped(notes, NOTE_SHOWN)}` : ''}`
}

function describeAssessment(entry: Record<string, unknown>): string {
  const assessor = text(entry.assessor)
  return `${word(entry.outcome) || 'Outcome not given'} on ${dateText(entry.date)}${assessor ? ` by ${assessor}` : ''}, ${word(entry.status) || 'published'}`
}

function shown(value: unknown): string {
  return clipped(text(value), CHANGE_SHOWN) || '(blank)'
}

/** The fields whose value differs, as "field: before → after", for an edit. */
function changes(before: Record<string, unknown>, after: Record<string, unknown>, fields: readonly string[]): string {
  const changed = fields
    .filter((field) => JSON.stringify(before[field] ?? null) !== JSON.stringify(after[field] ?? null))
    .map((field) => `${field} ${shown(before[field])} → ${shown(after[field])}`)
  return changed.length > 0 ? ` (changed ${changed.join('; ')})` : ''
}

/** One line a person can read for an audit entry. */
export function describeAuditEntry(entry: AuditEntry): string {
  const after = asRecord(entry.after)
  const before = asRecord(entry.before)
  switch (entry.action) {
    case 'override.set':
      return `Override to ${ragWord(after.rag)} until ${dateText(after.expiresOn)}: ${text(after.reason)}`
    case 'override.revoked':
      return `Override to ${ragWord(before.rag)} revoked`
    case 'action.opened':
      return `${actionKindLabel(after.kind)} opened, owner ${text(after.owner)}${after.dueOn ? `, due ${dateText(after.dueOn)}` : ''}`
    case 'action.closed':
      return `${actionKindLabel(after.kind)} closed on ${dateText(after.closedOn)}: ${text(after.outcome)}`
    case 'intelligence.recorded':
      return describeIntelligence(after)
    case 'intelligence.changed':
      return `${describeIntelligence(after)}${changes(before, after, ['date', 'endDate', 'outcome', 'reference', 'notes'])}`
    case 'assessment.recorded':
    case 'assessment.challenge_started':
    case 'assessment.published':
      return `Quality assessment ${describeAssessment(after)}`
    case 'assessment.changed':
      return `Quality assessment ${describeAssessment(after)}${changes(before, after, ['date', 'outcome', 'assessor', 'domains'])}`
    case 'import': {
      const rejected = Number(after.rejected ?? 0)
      return `${word(after.kind) || 'File'} import: ${text(after.imported)} imported, ${text(after.duplicates)} already known, ${rejected} rejected${after.fileError ? ` (${text(after.fileError)})` : ''}`
    }
    case 'user.created':
      return `${text(after.email)} added as ${text(after.role)}`
    case 'user.role_changed':
      return `${text(after.email)}: role ${text(before.role)} → ${text(after.role)}`
    case 'user.disabled':
    case 'user.enabled':
    case 'user.password_changed':
      return text(after.email)
    case 'user.signed_in':
      return `Signed in with a ${text(after.via) || 'password'}`
    case 'api_token.created':
      return `Token "${text(after.name)}" with the role ${text(after.role)}`
    case 'api_token.revoked':
      return `Token "${text(after.name)}" revoked`
    case 'rule_set.save':
      return `Version ${text(after.version)} replaces ${text(before.version)}${after.note ? `: ${text(after.note)}` : ''}`
    default: {
      const shown = entry.after ?? entry.before
      return shown === null ? '' : clipped(JSON.stringify(shown), SUMMARY_MAX)
    }
  }
}
