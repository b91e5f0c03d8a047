import type { Db } from './database.js'

export type InboxFileStatus = 'imported' | 'partly_rejected' | 'rejected' | 'duplicate'

/** One problem in a file, by spreadsheet row number (the header is row 1), as the reject report lists it. */
export interface InboxFileReject {
  rowNumber: number
  column?: string
  reason: string
}

/** A council file read from the inbox, as recorded when the run decided what to do with it. */
export interface NewInboxFile {
  /** SHA-256 (hex) of the file's bytes; null when it was refused unread (too large). */
  contentHash: string | null
  name: string
  sizeBytes: number
  /** The kind its header showed; null when it could not be told. */
  kind: string | null
  receivedAt: string
  rowsRead: number
  rowsImported: number
  /** Distinct rows with at least one problem. */
  rowsRejected: number
  /** Good rows that were already known. */
  rowsDuplicate: number
  status: InboxFileStatus
  fileError: string | null
  rejects: InboxFileReject[]
  /** For a duplicate: the earlier file with the same content. */
  duplicateOf: number | null
  runId: number | null
  /** Where the file goes, relative to the inbox folder (e.g. processed/2026-11-23/intelligence.csv). */
  movedTo: string | null
}

/** Why an entry of the inbox folder was left alone (see migration 018). */
export type InboxSkipCode =
  | 'being_written'
  | 'future_mtime'
  | 'hidden'
  | 'lock_file'
  | 'not_csv'
  | 'symlink'
  | 'not_regular'
  | 'folder'

export interface InboxSkippedEntry {
  name: string
  code: InboxSkipCode
  reason: string
}

export interface InboxFile extends NewInboxFile {
  id: number
  /** When the file reached movedTo; null while it is still in the inbox. */
  movedAt: string | null
  /** For a duplicate: the name of the earlier file with the same content. */
  duplicateOfName: string | null
}

interface InboxFileRow {
  id: number
  content_hash: string | null
  name: string
  size_bytes: number
  kind: string | null
  received_at: string
  rows_read: number
  rows_imported: number
  rows_rejected: number
  rows_duplicate: number
  status: InboxFileStatus
  file_error: string | null
  rejects: string
  duplicate_of: number | null
  duplicate_of_name: string | null
  run_id: number | null
  moved_to: string | null
  moved_at: string | null
}

/** The reject report kept with the record, enough to write it again; a file of junk has few rejects, not millions. */
const MAX_STORED_REJECTS = 5000

const SELECT = `SELECT f.*, earlier.name AS duplicate_of_name FROM inbox_files f
  LEFT JOIN inbox_files earlier ON earlier.id = f.duplicate_of`

function toInboxFile(row: InboxFileRow): InboxFile {
  return {
    id: row.id,
    contentHash: row.content_hash,
    name: row.name,
    sizeBytes: row.size_bytes,
    kind: row.kind,
    receivedAt: row.received_at,
    rowsRead: row.rows_read,
    rowsImported: row.rows_imported,
    rowsRejected: row.rows_rejected,
    rowsDuplicate: row.rows_duplicate,
    status: row.status,
    fileError: row.file_error,
    rejects: JSON.parse(row.rejects) as InboxFileReject[],
    duplicateOf: row.duplicate_of,
    duplicateOfName: row.duplicate_of_name,
    runId: row.run_id,
    movedTo: row.moved_to,
    movedAt: row.moved_at,
  }
}

/** The inbox's record of every council file it has read: what was in it, what became of it, where it went. */
export class InboxFileRepository {
  private readonly statements

  constructor(private readonly db: Db) {
    this.statements = {
      insert: db.prepare(
        `INSERT INTO inbox_files (content_hash, name, size_bytes, kind, received_at, rows_read, rows_imported,
           rows_rejected, rows_duplicate, status, file_error, rejects, duplicate_of, run_id, moved_to)
         VALUES (@contentHash, @name, @sizeBytes, @kind, @receivedAt, @rowsRead, @rowsImported, @rowsRejected,
           @rowsDuplicate, @status, @fileError, @rejects, @duplicateOf, @runId, @movedTo)`,
      ),
      byId: db.prepare<[number], InboxFileRow>(`${SELECT} WHERE f.id = ?`),
      markMoved: db.prepare<[string, number]>('UPDATE inbox_files SET moved_at = ? WHERE id = ? AND moved_at IS NULL'),
      unmovedByHash: db.prepare<[string], InboxFileRow>(
        `${SELECT} WHERE f.content_hash = ? AND f.moved_at IS NULL AND f.moved_to IS NOT NULL ORDER BY f.id DESC LIMIT 1`,
      ),
      importedByHash: db.prepare<[string], InboxFileRow>(
        `${SELECT} WHERE f.content_hash = ? AND f.status = 'imported' ORDER BY f.id LIMIT 1`,
      ),
      unmoved: db.prepare<[], InboxFileRow>(
        `${SELECT} WHERE f.moved_at IS NULL AND f.moved_to IS NOT NULL ORDER BY f.id`,
      ),
      recent: db.prepare<[number], InboxFileRow>(`${SELECT} ORDER BY f.received_at DESC, f.id DESC LIMIT ?`),
      forRun: db.prepare<[number], InboxFileRow>(`${SELECT} WHERE f.run_id = ? ORDER BY f.id`),
      insertSkipped: db.prepare<[number | null, string, string, string, string]>(
        'INSERT INTO inbox_skipped (run_id, name, code, reason, seen_at) VALUES (?, ?, ?, ?, ?)',
      ),
      skippedForRun: db.prepare<[number], InboxSkippedEntry>(
        'SELECT name, code, reason FROM inbox_skipped WHERE run_id = ? ORDER BY id',
      ),
      failureOf: db.prepare<[string], { size_bytes: number; mtime_ms: number; failures: number }>(
        'SELECT size_bytes, mtime_ms, failures FROM inbox_failures WHERE name = ?',
      ),
      upsertFailure: db.prepare(
        `INSERT INTO inbox_failures (name, size_bytes, mtime_ms, failures, last_error, last_failed_at)
         VALUES (@name, @sizeBytes, @mtimeMs, @failures, @error, @at)
         ON CONFLICT (name) DO UPDATE SET size_bytes = excluded.size_bytes, mtime_ms = excluded.mtime_ms,
           failures = excluded.failures, last_error = excluded.last_error, last_failed_at = excluded.last_failed_at`,
      ),
      clearFailures: db.prepare<[string]>('DELETE FROM inbox_failures WHERE name = ?'),
    }
  }

  async record(file: NewInboxFile): Promise<InboxFile> {
    return this.recordNow(file)
  }

  /**
   * Runs `write` (an import's row writes) and records the file in ONE transaction, so a crash leaves either both or
   * neither: the next run then finds the file's hash recorded and only has to move it.
   *
   * A manual BEGIN rather than `db.transaction(fn)`, because the repositories `write` calls are async in signature
   * (the seam for another database); on this connection they do their work synchronously, so nothing else runs
   * inside the transaction. `beforeCommit` is a test seam: it runs with the rows written but not yet committed.
   */
  async recordWith<T>(
    write: () => Promise<T>,
    describe: (written: T) => NewInboxFile,
    beforeCommit?: () => Promise<void>,
  ): Promise<{ written: T; file: InboxFile }> {
    if (this.db.inTransaction) throw new Error('recordWith must open its own transaction')
    this.db.exec('BEGIN IMMEDIATE')
    try {
      const written = await write()
      const file = this.recordNow(describe(written))
      await beforeCommit?.()
      this.db.exec('COMMIT')
      return { written, file }
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK')
      throw error
    }
  }

  /** Runs `work` (database writes, done synchronously on this connection) in a transaction of its own. */
  async inTransaction<T>(work: () => Promise<T>): Promise<T> {
    if (this.db.inTransaction) throw new Error('inTransaction must open its own transaction')
    this.db.exec('BEGIN IMMEDIATE')
    try {
      const result = await work()
      this.db.exec('COMMIT')
      return result
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK')
      throw error
    }
  }

  private recordNow(file: NewInboxFile): InboxFile {
    const info = this.statements.insert.run({
      ...file,
      rejects: JSON.stringify(file.rejects.slice(0, MAX_STORED_REJECTS)),
    })
    return toInboxFile(this.statements.byId.get(Number(info.lastInsertRowid)) as InboxFileRow)
  }

  async markMoved(id: number, movedAt: string = new Date().toISOString()): Promise<void> {
    this.statements.markMoved.run(movedAt, id)
  }

  /** A file with this content that was recorded but never reached its folder (the run died in between). */
  async findUnmovedByHash(contentHash: string): Promise<InboxFile | null> {
    const row = this.statements.unmovedByHash.get(contentHash)
    return row ? toInboxFile(row) : null
  }

  /** The first file with this content whose every row was imported: the same content again is a duplicate. */
  async findImportedByHash(contentHash: string): Promise<InboxFile | null> {
    const row = this.statements.importedByHash.get(contentHash)
    return row ? toInboxFile(row) : null
  }

  async listUnmoved(): Promise<InboxFile[]> {
    return this.statements.unmoved.all().map(toInboxFile)
  }

  /** Newest first. */
  async listRecent(limit = 20): Promise<InboxFile[]> {
    return this.statements.recent.all(limit).map(toInboxFile)
  }

  async listForRun(runId: number): Promise<InboxFile[]> {
    return this.statements.forRun.all(runId).map(toInboxFile)
  }

  /** The entries a run left in the inbox folder unread, and why. */
  async recordSkipped(runId: number | null, entries: readonly InboxSkippedEntry[]): Promise<void> {
    const seenAt = new Date().toISOString()
    this.db.transaction(() => {
      for (const entry of entries) this.statements.insertSkipped.run(runId, entry.name, entry.code, entry.reason, seenAt)
    })()
  }

  async skippedForRun(runId: number): Promise<InboxSkippedEntry[]> {
    return this.statements.skippedForRun.all(runId)
  }

  /**
   * Counts a failed import of the file: how many times in a row this file (the same name, size and modification
   * time) has now failed. Another file under the same name starts again from one.
   */
  async noteFailure(file: { name: string; sizeBytes: number; mtimeMs: number; error: string }): Promise<number> {
    const earlier = this.statements.failureOf.get(file.name)
    const same = earlier !== undefined && earlier.size_bytes === file.sizeBytes && earlier.mtime_ms === file.mtimeMs
    const failures = same ? earlier.failures + 1 : 1
    this.statements.upsertFailure.run({ ...file, failures, at: new Date().toISOString() })
    return failures
  }

  async clearFailures(name: string): Promise<void> {
    this.statements.clearFailures.run(name)
  }

  async lastReceived(): Promise<InboxFile | null> {
    return (await this.listRecent(1))[0] ?? null
  }
}
