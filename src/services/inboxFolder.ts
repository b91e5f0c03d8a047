import type { Dirent } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { InboxSkipCode } from '../data/inboxFiles.js'
import { recogniseKind } from '../ingest/council/index.js'

/** The inbox's own folders, where files go once read: not entries to report. */
export const PROCESSED_FOLDER = 'processed'
export const REJECTED_FOLDER = 'rejected'
export const DUPLICATES_FOLDER = 'duplicates'
const OWN_FOLDERS = new Set([PROCESSED_FOLDER, REJECTED_FOLDER, DUPLICATES_FOLDER])

/** A clock a little ahead of ours (a file share's) is no reason to wait: only a time further ahead is. */
const FUTURE_SLACK_MS = 2_000

/** A CSV file the run will read. */
export interface InboxCandidate {
  name: string
  size: number
  mtimeMs: number
  registerFirst: boolean
}

/** An entry left alone this run: still being written (read by a later run), or never read as it is. */
export type LeftEntry =
  | { name: string; outcome: 'being_written'; reason: string }
  | { name: string; outcome: 'skipped'; code: Exclude<InboxSkipCode, 'being_written'>; reason: string }

export interface InboxListingOptions {
  maxBytes: number
  settleMs: number
  recheckMs: number
  sleep: (ms: number) => Promise<void>
}

/**
 * The inbox folder's entries, split into the CSV files ready to read and the entries left alone, each with its reason:
 * hidden names, Excel lock files, names not ending in .csv, symbolic links (never followed), pipes and other
 * non-regular files, folders, files dated in the future, and files still being written (modified in the last few
 * seconds, or whose size or modification time changes between two looks a moment apart). Register files (services)
 * go first, as the other kinds name services; then oldest first.
 */
export async function listInbox(
  inboxDir: string,
  options: InboxListingOptions,
): Promise<{ ready: InboxCandidate[]; left: LeftEntry[] }> {
  const left: LeftEntry[] = []
  const names: string[] = []
  for (const entry of await readEntries(inboxDir)) {
    const skipped = skipReason(entry)
    if (skipped === 'own_folder') continue
    if (skipped) left.push({ name: entry.name, outcome: 'skipped', ...skipped })
    else names.push(entry.name)
  }

  const first = await look(inboxDir, names)
  const now = Date.now()
  const settled = first.filter((candidate) => {
    if (candidate.mtimeMs > now + FUTURE_SLACK_MS) {
      const when = new Date(candidate.mtimeMs).toISOString()
      left.push({
        name: candidate.name,
        outcome: 'skipped',
        code: 'future_mtime',
        reason: `its modification time (${when}) is in the future: it waits until then (is the clock of the machine that wrote it right?)`,
      })
      return false
    }
    if (now - candidate.mtimeMs < options.settleMs) {
      left.push({ name: candidate.name, outcome: 'being_written', reason: 'it was modified moments ago' })
      return false
    }
    return true
  })
  if (settled.length > 0 && options.recheckMs > 0) await options.sleep(options.recheckMs)
  const second = new Map(
    (
      await look(
        inboxDir,
        settled.map((c) => c.name),
      )
    ).map((c) => [c.name, c]),
  )
  const ready: InboxCandidate[] = []
  for (const candidate of settled) {
    const again = second.get(candidate.name)
    if (!again) continue
    if (again.size !== candidate.size || again.mtimeMs !== candidate.mtimeMs) {
      left.push({ name: candidate.name, outcome: 'being_written', reason: 'its size changed between two looks' })
      continue
    }
    ready.push({ ...candidate, registerFirst: await looksLikeRegister(inboxDir, candidate, options.maxBytes) })
  }
  ready.sort(
    (a, b) =>
      Number(b.registerFirst) - Number(a.registerFirst) || a.mtimeMs - b.mtimeMs || a.name.localeCompare(b.name),
  )
  return { ready, left }
}

/** `*.csv` (any case), not hidden and not an Excel lock file; `x.csv.part` and other names are left alone. */
export function isInboxCsvName(name: string): boolean {
  return /\.csv$/i.test(name) && !name.startsWith('.') && !name.startsWith('~$')
}

async function readEntries(inboxDir: string): Promise<Dirent[]> {
  try {
    const entries = await fs.readdir(inboxDir, { withFileTypes: true })
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}

function skipReason(
  entry: Dirent,
): { code: Exclude<InboxSkipCode, 'being_written' | 'future_mtime'>; reason: string } | 'own_folder' | null {
  if (entry.isDirectory()) {
    if (OWN_FOLDERS.has(entry.name)) return 'own_folder'
    return { code: 'folder', reason: 'a folder: files in folders inside the inbox are not read' }
  }
  if (entry.name.startsWith('.')) {
    return { code: 'hidden', reason: 'a hidden name (it starts with a dot): not read; rename it to read it' }
  }
  if (entry.name.startsWith('~$')) {
    return { code: 'lock_file', reason: 'an Office lock file: the file is open in Excel somewhere; not read' }
  }
  if (entry.isSymbolicLink()) {
    return { code: 'symlink', reason: 'a symbolic link: links are not followed; copy the file itself into the inbox' }
  }
  if (!entry.isFile()) {
    return { code: 'not_regular', reason: 'not a regular file (a pipe, socket or device): not read' }
  }
  if (!isInboxCsvName(entry.name)) {
    return {
      code: 'not_csv',
      reason: 'its name does not end in .csv: not read (a file still being copied as .part is read once renamed)',
    }
  }
  return null
}

/** Size and time of each name that is still a regular file (lstat: a file swapped for a link is not followed). */
async function look(inboxDir: string, names: string[]): Promise<InboxCandidate[]> {
  const candidates: InboxCandidate[] = []
  for (const name of names) {
    const stat = await fs.lstat(path.join(inboxDir, name)).catch(() => null)
    if (stat?.isFile()) candidates.push({ name, size: stat.size, mtimeMs: stat.mtimeMs, registerFirst: false })
  }
  return candidates
}

/** Whether the header (first line) is the register's: a guess for ordering only, the import decides the kind. */
async function looksLikeRegister(inboxDir: string, candidate: InboxCandidate, maxBytes: number): Promise<boolean> {
  if (candidate.size > maxBytes) return false
  const handle = await fs.open(path.join(inboxDir, candidate.name), 'r').catch(() => null)
  if (!handle) return false
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4096), 0, 4096, 0)
    const firstLine =
      buffer
        .subarray(0, bytesRead)
        .toString('utf8')
        .replace(/^\uFEFF/, '')
        .split(/\r?\n/)[0] ?? ''
    const columns = firstLine.split(',').map((cell) => cell.trim().replace(/^"|"$/g, ''))
    return recogniseKind(columns).kind === 'services'
  } finally {
    await handle.close()
  }
}
