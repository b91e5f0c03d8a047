import type { InboxFile, InboxFileStatus, InboxSkipCode, InboxSkippedEntry } from '../data/inboxFiles.js'
import { reportPathFor } from '../services/inboxService.js'
import { ageText, formatDateTime, type Tag } from './display.js'

/** The council's inbox files as the run log and the morning page list them (SPEC §6): one row per file. */

const STATUS_TAGS: Record<InboxFileStatus, Tag> = {
  imported: { text: 'Imported', classes: 'govuk-tag--green' },
  partly_rejected: { text: 'Partly rejected', classes: 'govuk-tag--orange' },
  rejected: { text: 'Rejected', classes: 'govuk-tag--red' },
  duplicate: { text: 'Duplicate', classes: 'govuk-tag--grey' },
}

const KIND_LABELS: Record<string, string> = {
  services: 'Services (register)',
  assessments: 'Quality assessments',
  intelligence: 'Council intelligence',
  safeguarding_counts: 'Safeguarding counts',
}

export interface InboxFileRow {
  name: string
  kind: string
  status: Tag
  rowsRead: number
  imported: number
  rejected: number
  duplicate: number
  /** Where the file is now, relative to the inbox (processed/2026-11-23/x.csv), or why it is still in the inbox. */
  where: string
  /** A whole-file problem, or for a duplicate the earlier file it repeats. */
  note: string | null
}

export function inboxFileRows(files: readonly InboxFile[]): InboxFileRow[] {
  return files.map((file) => ({
    name: file.name,
    kind: file.kind === null ? 'Not recognised' : (KIND_LABELS[file.kind] ?? file.kind),
    status: STATUS_TAGS[file.status] ?? { text: file.status, classes: 'govuk-tag--grey' },
    rowsRead: file.rowsRead,
    imported: file.rowsImported,
    rejected: file.rowsRejected,
    // Good rows already on record; a duplicate file is not read again, and its status says so.
    duplicate: file.rowsDuplicate,
    where: whereNow(file),
    note:
      file.fileError ??
      (file.status === 'duplicate'
        ? `Same content as ${file.duplicateOfName ?? 'an earlier file'}, already imported: skipped`
        : null),
  }))
}

function whereNow(file: InboxFile): string {
  if (file.movedTo === null) return 'In the inbox'
  const report =
    file.status === 'rejected' || file.status === 'partly_rejected'
      ? `, with its reject report ${reportPathFor(file.movedTo)}`
      : ''
  return file.movedAt === null ? `In the inbox (to be moved to ${file.movedTo}${report})` : `${file.movedTo}${report}`
}

/**
 * The dashboard's freshness line for the inbox, after the run's own status: "last file received 23 November 2026 at
 * 02:01 (intelligence.csv)", or that none has come yet.
 */
export function lastFileReceivedText(last: InboxFile | null, timeZone: string, today: string): string {
  if (last === null) return 'no council file received yet'
  const age = ageText(last.receivedAt, today)
  return `last file received ${formatDateTime(last.receivedAt, timeZone)}${age === 'today' ? '' : ` (${age})`}: ${last.name}`
}

/** What became of an entry the run left in the inbox, as the morning page and run log say it. */
const LEFT_LABELS: Record<InboxSkipCode, string> = {
  being_written: 'waiting: still being written',
  future_mtime: 'waiting: dated in the future',
  hidden: 'not read: a hidden name',
  lock_file: 'not read: an Office lock file',
  not_csv: 'not read: not a .csv name',
  symlink: 'not read: a link',
  not_regular: 'not read: not a regular file',
  folder: 'not read: a folder',
}

export interface LeftInInboxRow {
  name: string
  status: Tag
  reason: string
}

/** The inbox entries a run left alone, each with what happens to it and why. */
export function leftInInboxRows(entries: readonly InboxSkippedEntry[]): LeftInInboxRow[] {
  return entries.map((entry) => ({
    name: entry.name,
    status: {
      text: LEFT_LABELS[entry.code] ?? entry.code,
      classes: entry.code === 'being_written' || entry.code === 'future_mtime' ? 'govuk-tag--blue' : 'govuk-tag--grey',
    },
    reason: entry.reason,
  }))
}
