import fs from 'node:fs'
import type { SourceReject } from '../../data/runs.js'
import type { InboxFileOutcome, InboxService } from '../inboxService.js'
import type { SourceStep, SourceStepResult } from '../refreshService.js'

export const INBOX_SOURCE = 'council_inbox'

/**
 * The council's inbox as a source of the overnight run (SPEC §6). Its files are imported without recomputing risk:
 * the run recomputes every service right after its sources. Configured when the INBOX_DIR folder exists (looked at
 * when the run reaches the step): a council that has not set up an inbox sees "not configured", never "failed".
 */
export function inboxStep(inbox: Pick<InboxService, 'processInbox' | 'inboxDir'>): SourceStep {
  return {
    source: INBOX_SOURCE,
    label: 'Council files (inbox)',
    get configured() {
      return fs.statSync(inbox.inboxDir, { throwIfNoEntry: false })?.isDirectory() ?? false
    },
    run: async ({ runId, progress, signal }) =>
      summariseInboxRun(await inbox.processInbox({ runId, progress, signal })),
  }
}

/**
 * The run's counts over every file read: rows read; matched = rows imported or already known; changed = rows
 * imported; unchanged = rows already known; rejected = rows rejected plus files refused whole. Each reject names its
 * file (and row). Duplicate files are not rejects (see InboxService.filesForRun); a file still being written, and
 * every other entry left alone (a hidden name, a link, a pipe...), is listed as a warning, not counted as rejected.
 */
export function summariseInboxRun(outcomes: readonly InboxFileOutcome[]): SourceStepResult {
  const result: SourceStepResult = { read: 0, matched: 0, changed: 0, unchanged: 0, rejected: 0, rejects: [] }
  const changedServiceIds = new Set<number>()
  for (const outcome of outcomes) {
    switch (outcome.outcome) {
      case 'recorded': {
        const { file } = outcome
        result.read += file.rowsRead
        result.changed += file.rowsImported
        result.unchanged += file.rowsDuplicate
        result.matched += file.rowsImported + file.rowsDuplicate
        result.rejected += file.rowsRejected + (file.fileError !== null ? 1 : 0)
        result.rejects.push(...rejectsOf(file.name, file.fileError, file.rejects))
        if (outcome.moveError !== null) result.rejects.push(notMoved(file.name, file.movedTo, outcome.moveError))
        outcome.touchedServiceIds.forEach((id) => changedServiceIds.add(id))
        break
      }
      case 'moved_after_crash':
        if (outcome.moveError !== null) {
          result.rejects.push(notMoved(outcome.name, outcome.file.movedTo, outcome.moveError))
        }
        break
      case 'failed':
        result.rejected += 1
        result.rejects.push({ record: outcome.name, reason: outcome.reason })
        break
      case 'being_written':
        // A warning, not a reject: the file is read by the next run.
        result.rejects.push({ record: outcome.name, reason: `left in the inbox for the next run: ${outcome.reason}` })
        break
      case 'skipped':
        // A warning too: the entry stays as it is, and every run says so until someone moves or renames it.
        result.rejects.push({ record: outcome.name, reason: `left in the inbox, not read: ${outcome.reason}` })
        break
    }
  }
  result.changedServiceIds = [...changedServiceIds]
  return result
}

function rejectsOf(
  name: string,
  fileError: string | null,
  rejects: ReadonlyArray<{ rowNumber: number; column?: string; reason: string }>,
): SourceReject[] {
  const list: SourceReject[] = []
  if (fileError !== null) list.push({ record: name, reason: fileError })
  for (const reject of rejects) {
    list.push({
      record: `${name} row ${reject.rowNumber}`,
      ...(reject.column !== undefined ? { field: reject.column } : {}),
      reason: reject.reason,
    })
  }
  return list
}

function notMoved(name: string, movedTo: string | null, error: string): SourceReject {
  return {
    record: name,
    reason: `recorded, but not yet moved to ${movedTo ?? 'its folder'} (${error}): the next run moves it`,
  }
}
