import { createHash, type Hash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Readable } from 'node:stream'
import type {
  InboxFile,
  InboxFileRepository,
  InboxFileStatus,
  InboxSkippedEntry,
  NewInboxFile,
} from '../data/inboxFiles.js'
import { inboxActor } from '../domain/indicators/councilFile.js'
import { formatRejectCsv } from '../ingest/council/index.js'
import type { Logger } from '../logger.js'
import type { ImportResult, ImportService } from './importService.js'
import {
  DUPLICATES_FOLDER,
  PROCESSED_FOLDER,
  REJECTED_FOLDER,
  listInbox,
  type InboxCandidate as Candidate,
  type LeftEntry,
} from './inboxFolder.js'

export { DUPLICATES_FOLDER, PROCESSED_FOLDER, REJECTED_FOLDER, isInboxCsvName } from './inboxFolder.js'

/** Larger files are refused unread: council exports are a few MB at most. */
export const DEFAULT_MAX_INBOX_BYTES = 20 * 1024 * 1024
/** A file modified more recently than this may still be being written: it waits for the next run. */
export const DEFAULT_SETTLE_MS = 5_000
/** The pause between the two looks at each file's size and modification time. */
export const DEFAULT_RECHECK_MS = 500
/**
 * Good rows written per transaction: a file is read as a stream and held one batch at a time, so a 200,000-row file
 * costs no more memory than a small one (`npm run bench`).
 */
export const DEFAULT_BATCH_ROWS = 5_000

/** A file whose import fails (throws: not row rejects) this many runs in a row is moved to rejected/. */
export const MAX_FAILED_IMPORTS = 2

export interface InboxServiceDeps {
  importer: Pick<ImportService, 'importInBatches'>
  files: InboxFileRepository
  /** Absolute path of the inbox folder (INBOX_DIR). */
  inboxDir: string
  /** The council's calendar date (ISO), naming the processed/<date>/ folders. */
  today: () => string
  logger?: Logger
  maxBytes?: number
  settleMs?: number
  recheckMs?: number
  batchRows?: number
  /** Test seams: the pause between the two looks, and a pause with a file's rows written but not committed. */
  sleep?: (ms: number) => Promise<void>
  beforeCommit?: (name: string) => Promise<void>
  /** Test seam: runs after each full batch of a file is committed (1, 2, ...). */
  afterBatch?: (name: string, batch: number) => Promise<void>
}

/** What became of one file in the inbox during a run. */
export type InboxFileOutcome =
  | {
      name: string
      /** Read and recorded in this run (status imported, partly_rejected, rejected or duplicate). */
      outcome: 'recorded'
      file: InboxFile
      /** With the file's rows: the services whose data changed. */
      touchedServiceIds: number[]
      /** Set when the file was recorded but could not be moved: the next run moves it. */
      moveError: string | null
    }
  | {
      name: string
      /** Recorded by an earlier run that died before moving it: moved now, nothing imported again. */
      outcome: 'moved_after_crash'
      file: InboxFile
      moveError: string | null
    }
  | LeftEntry
  | { name: string; outcome: 'failed'; reason: string }

export interface InboxRunOptions {
  /** The refresh run the imports belong to (null outside one). */
  runId: number | null
  progress?: (done: number, total: number | null) => void
  signal?: AbortSignal
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * The council's inbox (SPEC §6): every CSV file dropped into INBOX_DIR is recognised by its header, imported with the
 * same validation as `npm run import`, recorded by content hash and moved to processed/<date>/, rejected/ (with its
 * reject report beside it) or duplicates/<date>/. The import does not recompute risk: the overnight run that calls
 * this recomputes every service right after its sources.
 */
export class InboxService {
  private readonly maxBytes: number
  private readonly settleMs: number
  private readonly recheckMs: number
  private readonly batchRows: number
  private readonly sleep: (ms: number) => Promise<void>

  constructor(private readonly deps: InboxServiceDeps) {
    this.maxBytes = deps.maxBytes ?? DEFAULT_MAX_INBOX_BYTES
    this.settleMs = deps.settleMs ?? DEFAULT_SETTLE_MS
    this.recheckMs = deps.recheckMs ?? DEFAULT_RECHECK_MS
    this.batchRows = deps.batchRows ?? DEFAULT_BATCH_ROWS
    this.sleep = deps.sleep ?? realSleep
  }

  get inboxDir(): string {
    return this.deps.inboxDir
  }

  /**
   * Reads every settled CSV file in the inbox folder (not its subfolders), one at a time. One file never stops the
   * rest. Every entry left alone is in the outcomes with its reason, and recorded for the run log and morning page.
   */
  async processInbox(options: InboxRunOptions): Promise<InboxFileOutcome[]> {
    await this.markFilesAlreadyMoved()
    const outcomes: InboxFileOutcome[] = []
    const { ready, left } = await listInbox(this.deps.inboxDir, {
      maxBytes: this.maxBytes,
      settleMs: this.settleMs,
      recheckMs: this.recheckMs,
      sleep: this.sleep,
    })
    for (const entry of left) {
      this.deps.logger?.info({ file: entry.name, reason: entry.reason }, 'inbox entry left in the inbox')
    }
    outcomes.push(...left)
    options.progress?.(0, ready.length)
    for (const [index, candidate] of ready.entries()) {
      if (options.signal?.aborted) break
      outcomes.push(await this.processOne(candidate, options.runId))
      options.progress?.(index + 1, ready.length)
    }
    await this.deps.files.recordSkipped(
      options.runId,
      outcomes.flatMap((entry) =>
        entry.outcome === 'skipped' || entry.outcome === 'being_written'
          ? [
              {
                name: entry.name,
                code: entry.outcome === 'skipped' ? entry.code : 'being_written',
                reason: entry.reason,
              },
            ]
          : [],
      ),
    )
    return outcomes
  }

  /** Recent files, newest first: for the run log, the morning page and the dashboard's freshness line. */
  async recentFiles(limit = 20): Promise<InboxFile[]> {
    return this.deps.files.listRecent(limit)
  }

  async filesForRun(runId: number): Promise<InboxFile[]> {
    return this.deps.files.listForRun(runId)
  }

  /** The entries the run left in the inbox unread, and why ("still being written", "a symbolic link"...). */
  async skippedForRun(runId: number): Promise<InboxSkippedEntry[]> {
    return this.deps.files.skippedForRun(runId)
  }

  /** "Council files: last file received ..." */
  async lastReceived(): Promise<InboxFile | null> {
    return this.deps.files.lastReceived()
  }

  private async processOne(candidate: Candidate, runId: number | null): Promise<InboxFileOutcome> {
    const { name } = candidate
    try {
      if (candidate.size > this.maxBytes) {
        const fileError =
          `The file is ${sizeText(candidate.size)}, over the ${sizeText(this.maxBytes)} limit for a council file: ` +
          'it was not read. Check it is the right export.'
        return await this.recordUnread(candidate, runId, fileError)
      }
      const { contentHash, bytes } = await this.hashOf(name)
      if (bytes !== candidate.size) {
        return { name, outcome: 'being_written', reason: 'its size changed while it was read' }
      }

      // The same file again (same name and content) after a run died between its commit and its move: move it now.
      // The same content under another name is a new drop: a duplicate if it was imported whole, else read again.
      const unmoved = await this.deps.files.findUnmovedByHash(contentHash)
      if (unmoved && unmoved.name === name) {
        const moveError = await this.moveRecorded(unmoved)
        return { name, outcome: 'moved_after_crash', file: unmoved, moveError }
      }
      const earlier = await this.deps.files.findImportedByHash(contentHash)
      const outcome = earlier
        ? await this.recordDuplicate(candidate, contentHash, earlier, runId)
        : await this.importNew(candidate, contentHash, runId)
      await this.deps.files.clearFailures(name)
      return outcome
    } catch (error) {
      this.deps.logger?.warn({ err: error, file: name }, 'inbox file failed')
      return this.failed(candidate, runId, (error as Error).message)
    }
  }

  /**
   * A file whose import threw (not row rejects: a database error, a file that cannot be read...) stays for the next
   * run; failing again, it is moved to rejected/ with the reason beside it, so it never blocks a later night.
   */
  private async failed(candidate: Candidate, runId: number | null, message: string): Promise<InboxFileOutcome> {
    const { name } = candidate
    try {
      const failures = await this.deps.files.noteFailure({
        name,
        sizeBytes: candidate.size,
        mtimeMs: candidate.mtimeMs,
        error: message,
      })
      if (failures < MAX_FAILED_IMPORTS) {
        return {
          name,
          outcome: 'failed',
          reason:
            `could not be processed (${message}); it stays in the inbox for the next run, ` +
            'and is moved to rejected/ if it fails again',
        }
      }
      const fileError =
        `The import failed in ${failures} runs in a row (last: ${message}): the file was moved aside so it does ` +
        'not block later nights. Check it, then put it back in the inbox.'
      const outcome = await this.recordUnread(candidate, runId, fileError)
      await this.deps.files.clearFailures(name)
      return outcome
    } catch (error) {
      // The database itself is failing: nothing can be counted or recorded; the file stays.
      this.deps.logger?.warn({ err: error, file: name }, 'inbox failure could not be recorded')
      return { name, outcome: 'failed', reason: `could not be processed (${message}); it stays in the inbox` }
    }
  }

  /** The file's SHA-256 and length, read as a stream. */
  private async hashOf(name: string): Promise<{ contentHash: string; bytes: number }> {
    const hash = createHash('sha256')
    let bytes = 0
    for await (const chunk of createReadStream(this.inInbox(name))) {
      hash.update(chunk as Buffer)
      bytes += (chunk as Buffer).length
    }
    return { contentHash: hash.digest('hex'), bytes }
  }

  /**
   * Imports the file's rows batch by batch, each full batch in its own transaction; the last batch and the file's
   * record commit together, so the file is recorded (and then moved) only once every row is in. A run killed
   * mid-file leaves the file in the inbox, unrecorded: the next run reads it whole again, and the rows already
   * committed are found unchanged (deduplicated by natural key).
   */
  private async importNew(candidate: Candidate, contentHash: string, runId: number | null): Promise<InboxFileOutcome> {
    const { name } = candidate
    const receivedAt = new Date().toISOString()
    // Decided before the transaction, so the record names the folder the file will be found in.
    const destinations = {
      imported: await this.freeDestination(path.join(PROCESSED_FOLDER, this.deps.today()), name),
      rejected: await this.freeDestination(REJECTED_FOLDER, name),
    }
    const { beforeCommit, afterBatch } = this.deps
    let recorded: InboxFile | null = null
    let batches = 0
    let imported: Hash | null = null
    const open = () => {
      imported = createHash('sha256')
      return Readable.from(hashing(createReadStream(this.inInbox(name)), imported))
    }
    const result = await this.deps.importer.importInBatches('auto', open, {
      actor: inboxActor(name),
      source: 'council_inbox',
      fileLabel: name,
      recompute: false,
      batchSize: this.batchRows,
      commitBatch: async (write) => {
        await this.deps.files.inTransaction(write)
        await afterBatch?.(name, ++batches)
      },
      commit: async (write) => {
        const { written, file } = await this.deps.files.recordWith(
          async () => {
            const rows = await write()
            // The rows imported must be the content hashed: a file replaced mid-read is read again next run.
            const readHash = (imported as Hash | null)?.digest('hex')
            if (readHash !== contentHash) throw new Error('the file changed while it was read')
            return rows
          },
          (result) => {
            const status = statusOf(result)
            return {
              ...countsOf(result),
              contentHash,
              name,
              sizeBytes: candidate.size,
              receivedAt,
              status,
              duplicateOf: null,
              runId,
              movedTo: status === 'imported' ? destinations.imported : destinations.rejected,
            }
          },
          beforeCommit && (() => beforeCommit(name)),
        )
        recorded = file
        return written
      },
    })
    const file = recorded as InboxFile | null
    if (file === null) throw new Error('the import did not record the file')
    // The report beside the file lists every reject; the record keeps only the first few thousand.
    const moveError = await this.moveRecorded(file, result.rejects)
    this.deps.logger?.info(
      { file: name, status: file.status, kind: file.kind, rows: countsOf(result) },
      'inbox file imported',
    )
    return { name, outcome: 'recorded', file, touchedServiceIds: result.touchedServiceIds ?? [], moveError }
  }

  private async recordDuplicate(
    candidate: Candidate,
    contentHash: string,
    earlier: InboxFile,
    runId: number | null,
  ): Promise<InboxFileOutcome> {
    const file = await this.deps.files.record({
      contentHash,
      name: candidate.name,
      sizeBytes: candidate.size,
      kind: earlier.kind,
      receivedAt: new Date().toISOString(),
      rowsRead: 0,
      rowsImported: 0,
      rowsRejected: 0,
      rowsDuplicate: 0,
      status: 'duplicate',
      fileError: null,
      rejects: [],
      duplicateOf: earlier.id,
      runId,
      movedTo: await this.freeDestination(path.join(DUPLICATES_FOLDER, this.deps.today()), candidate.name),
    })
    const moveError = await this.moveRecorded(file)
    this.deps.logger?.info({ file: candidate.name, duplicateOf: earlier.name }, 'inbox file skipped as a duplicate')
    return { name: candidate.name, outcome: 'recorded', file, touchedServiceIds: [], moveError }
  }

  /**
   * A file refused before it was read (too large), or set aside after failing again: recorded without a hash and
   * moved to rejected/ with its reason.
   */
  private async recordUnread(candidate: Candidate, runId: number | null, fileError: string): Promise<InboxFileOutcome> {
    const file = await this.deps.files.record({
      contentHash: null,
      name: candidate.name,
      sizeBytes: candidate.size,
      kind: null,
      receivedAt: new Date().toISOString(),
      rowsRead: 0,
      rowsImported: 0,
      rowsRejected: 0,
      rowsDuplicate: 0,
      status: 'rejected',
      fileError,
      rejects: [],
      duplicateOf: null,
      runId,
      movedTo: await this.freeDestination(REJECTED_FOLDER, candidate.name),
    })
    const moveError = await this.moveRecorded(file)
    return { name: candidate.name, outcome: 'recorded', file, touchedServiceIds: [], moveError }
  }

  /**
   * Puts a recorded file where its record says, writing its reject report first when it goes to rejected/. Returns
   * the error when it could not (the record stays unmoved and the next run tries again).
   */
  private async moveRecorded(file: InboxFile, rejects: InboxFile['rejects'] = file.rejects): Promise<string | null> {
    if (file.movedTo === null) return null
    const target = this.inInbox(file.movedTo)
    try {
      await fs.mkdir(path.dirname(target), { recursive: true })
      if (file.status === 'rejected' || file.status === 'partly_rejected') {
        const listed = new Set(rejects.map((reject) => reject.rowNumber)).size
        // Only after a crash, when the full list went with the dead run: say how many rejected rows the report lacks.
        const untold =
          file.rowsRejected > listed
            ? `${file.rowsRejected} rows were rejected; the first ${listed} are listed here.`
            : undefined
        await fs.writeFile(reportPathFor(target), formatRejectCsv(rejects, file.fileError ?? untold))
      }
      await fs.rename(this.inInbox(file.name), target)
      await this.deps.files.markMoved(file.id)
      return null
    } catch (error) {
      this.deps.logger?.warn({ err: error, file: file.name, to: file.movedTo }, 'inbox file could not be moved')
      return (error as Error).message
    }
  }

  /** Records whose file reached its folder but whose run died before noting it. */
  private async markFilesAlreadyMoved(): Promise<void> {
    for (const file of await this.deps.files.listUnmoved()) {
      if (file.movedTo === null) continue
      const arrived = await exists(this.inInbox(file.movedTo))
      const stillHere = await exists(this.inInbox(file.name))
      if (arrived && !stillHere) await this.deps.files.markMoved(file.id)
    }
  }

  /**
   * `folder/name` relative to the inbox, or `folder/<stem>-2.csv`, `-3`... when a file of that name (or its reject
   * report) is already there: a later file of the same name never replaces an earlier one.
   */
  private async freeDestination(folder: string, name: string): Promise<string> {
    const extension = path.extname(name)
    const stem = name.slice(0, name.length - extension.length)
    for (let attempt = 1; ; attempt++) {
      const relative = path.join(folder, attempt === 1 ? name : `${stem}-${attempt}${extension}`)
      const target = this.inInbox(relative)
      if (!(await exists(target)) && !(await exists(reportPathFor(target)))) return relative
    }
  }

  private inInbox(relative: string): string {
    return path.join(this.deps.inboxDir, relative)
  }
}

/** Passes the chunks on, hashing them on the way. */
async function* hashing(chunks: AsyncIterable<Buffer>, hash: Hash): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    hash.update(chunk)
    yield chunk
  }
}

/** The reject report beside a rejected file: `intelligence.csv` → `intelligence.rejects.csv`. */
export function reportPathFor(filePath: string): string {
  const extension = path.extname(filePath)
  return `${filePath.slice(0, filePath.length - extension.length)}.rejects.csv`
}

function statusOf(result: ImportResult): Exclude<InboxFileStatus, 'duplicate'> {
  if (result.fileError !== null) return 'rejected'
  if (result.rejects.length === 0) return 'imported'
  return result.imported + result.duplicates > 0 ? 'partly_rejected' : 'rejected'
}

function countsOf(
  result: ImportResult,
): Pick<
  NewInboxFile,
  'kind' | 'rowsRead' | 'rowsImported' | 'rowsRejected' | 'rowsDuplicate' | 'fileError' | 'rejects'
> {
  return {
    kind: result.kind,
    rowsRead: result.rowsRead,
    rowsImported: result.imported,
    rowsRejected: new Set(result.rejects.map((reject) => reject.rowNumber)).size,
    rowsDuplicate: result.duplicates,
    fileError: result.fileError,
    rejects: result.rejects,
  }
}

function sizeText(bytes: number): string {
  const megabyte = 1024 * 1024
  if (bytes < megabyte) return `${Math.ceil(bytes / 1024).toLocaleString('en-GB')} KB`
  return `${(bytes / megabyte).toLocaleString('en-GB', { maximumFractionDigits: 1 })} MB`
}

async function exists(filePath: string): Promise<boolean> {
  return fs.access(filePath).then(
    () => true,
    () => false,
  )
}
