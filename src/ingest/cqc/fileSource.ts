import { createReadStream } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { parse } from 'csv-parse'
import { checkSourcePath, describeFsError, SourcePathError } from '../sourcePath.js'
import type { ConnectorRecord, ConnectorRequest, RejectedRecord, SourceObservation } from '../types.js'
import type { CqcLocationFacts } from './facts.js'
import { HEADER_SEARCH_ROWS, readCqcFile, type CqcFileResult } from './fileConnector.js'
import { Header, kindOf, looksLikeHeader, type CqcFileKind } from './fileHeader.js'

/**
 * CQC_FILE: one CQC file, or a folder of them. In a folder every .csv file is recognised by its header and the newest
 * of each kind is read: newest by the date in its name when every file of that kind has one (CQC names its downloads
 * "HSCA_Active_Locations_1_September_2026", "01_December_2021_Latest_ratings"...; ISO dates are read too), else by
 * modification time (a copy or re-save changes that, so names are preferred). The kinds' records are merged per
 * location: the Latest ratings sheet's observation (with key questions) wins over the same rating from another file,
 * and each fact comes from the first file that has it (HSCA Active Locations first).
 */
export interface CqcSourceRequest extends ConnectorRequest {
  path: string
  /** Names the setting in error messages. */
  variable?: string
}

export interface CqcSourceResult extends CqcFileResult {
  /** The files read, in merge order, with their kind. */
  files: Array<{ file: string; kind: CqcFileKind }>
}

/** Merge order: observations from the first kind win on equal natural keys; facts are filled in this order. */
const MERGE_ORDER: CqcFileKind[] = ['latest_ratings', 'hsca_active', 'deactivated', 'care_directory']
const FACT_ORDER: CqcFileKind[] = ['hsca_active', 'deactivated', 'care_directory', 'latest_ratings']

export async function readCqcSource(request: CqcSourceRequest): Promise<CqcSourceResult> {
  const variable = request.variable ?? 'CQC_FILE'
  const stats = await checkSourcePath(variable, request.path, 'file or folder')
  if (!stats.isDirectory()) {
    const result = await readCqcFile({ ...request, file: request.path })
    return { ...result, files: [{ file: request.path, kind: result.fileKind }] }
  }

  const { chosen, unreadable } = await newestOfEachKind(request.path, variable)
  const locationKinds = MERGE_ORDER.filter((kind) => chosen.has(kind))
  const warnings: string[] = []
  if (chosen.has('latest_ratings_providers')) {
    warnings.push(
      `${path.basename(chosen.get('latest_ratings_providers')!)}: the Latest ratings Providers sheet rates providers, ` +
        'not locations; not used',
    )
  }
  warnings.push(...unreadable.map((problem) => `could not read ${problem}`))
  if (locationKinds.length === 0) {
    throw new SourcePathError(
      variable,
      request.path,
      'the folder holds no CQC locations file (HSCA Active Locations, Latest ratings Locations sheet, care directory or ' +
        `Deactivated Locations, saved as CSV)${unreadable.length > 0 ? `; could not read ${unreadable.join('; ')}` : ''}`,
    )
  }
  const results: Array<{ file: string; result: CqcFileResult }> = []
  for (const kind of locationKinds) {
    const file = chosen.get(kind)!
    results.push({ file, result: await readCqcFile({ ...request, file }) })
  }
  return {
    ...mergeResults(results, request.ids, warnings),
    files: results.map(({ file, result }) => ({ file, kind: result.fileKind })),
  }
}

async function newestOfEachKind(
  folder: string,
  variable: string,
): Promise<{ chosen: Map<CqcFileKind, string>; unreadable: string[] }> {
  let names: string[]
  try {
    names = await readdir(folder)
  } catch (error) {
    throw new SourcePathError(variable, folder, describeFsError(error, 'folder'))
  }
  const candidates = new Map<CqcFileKind, Array<{ file: string; nameDate: string | null; modified: number }>>()
  const unreadable: string[] = []
  for (const name of names.filter((n) => n.toLowerCase().endsWith('.csv') && !n.startsWith('.')).sort()) {
    const file = path.join(folder, name)
    const sniffed = await sniffKind(file)
    if ('error' in sniffed) unreadable.push(`${name}: ${sniffed.error}`)
    if (!('kind' in sniffed) || sniffed.kind === null) continue
    const kind = sniffed.kind
    const fileStats = await stat(file)
    if (!fileStats.isFile()) continue
    const list = candidates.get(kind) ?? []
    list.push({ file, nameDate: dateInName(name), modified: fileStats.mtimeMs })
    candidates.set(kind, list)
  }
  const chosen = new Map<CqcFileKind, string>()
  for (const [kind, list] of candidates) {
    const byName = list.every((entry) => entry.nameDate !== null)
    const newest = list.reduce((best, entry) =>
      (byName ? entry.nameDate! > best.nameDate! : entry.modified > best.modified) ? entry : best,
    )
    chosen.set(kind, newest.file)
  }
  return { chosen, unreadable }
}

/** The kind of CQC file a CSV's header announces (null: not a CQC file), or why it cannot be read. */
export async function sniffKind(file: string): Promise<{ kind: CqcFileKind | null } | { error: string }> {
  const input = createReadStream(file)
  const parser = parse({ bom: true, relax_column_count: true, relax_quotes: true, to_line: HEADER_SEARCH_ROWS })
  input.on('error', (error) => parser.destroy(error))
  try {
    for await (const record of input.pipe(parser) as AsyncIterable<string[]>) {
      if (looksLikeHeader(record)) return { kind: kindOf(new Header(record)) }
    }
    return { kind: null }
  } catch (error) {
    return { error: describeFsError(error, 'file') }
  } finally {
    input.destroy()
  }
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']

/** "1_September_2026", "01 December 2021", "September_2026" (the 1st), "2026-09-01" or "20260901" in a file name. */
export function dateInName(name: string): string | null {
  const iso = /(20\d\d)[-_]?(0[1-9]|1[0-2])[-_]?(0[1-9]|[12]\d|3[01])/.exec(name)
  if (iso) return `${iso[1]}-${iso[2]}-${iso[3]}`
  const named = /(?:(\d{1,2})[\s_-]*)?(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*[\s_-]*(20\d\d)/i.exec(
    name,
  )
  if (!named) return null
  const month = MONTHS.indexOf((named[2] as string).toLowerCase()) + 1
  const day = Number(named[1] ?? '1')
  if (day < 1 || day > 31) return null
  return `${named[3]}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`
}

function mergeResults(
  results: Array<{ file: string; result: CqcFileResult }>,
  ids: Iterable<string>,
  warnings: string[],
): Omit<CqcSourceResult, 'files'> {
  const byLocation = new Map<
    string,
    { observations: SourceObservation[]; keys: Set<string>; facts: Array<{ rank: number; facts: CqcLocationFacts }> }
  >()
  const rejects: RejectedRecord[] = []
  let read = 0
  for (const { file, result } of results) {
    const name = path.basename(file)
    read += result.counts.read
    rejects.push(...result.rejects.map((reject) => ({ ...reject, reason: `${name}: ${reject.reason}` })))
    warnings.push(...result.warnings.map((warning) => `${name}: ${warning}`))
    for (const record of result.records) {
      const entry = byLocation.get(record.match.id) ?? { observations: [], keys: new Set<string>(), facts: [] }
      byLocation.set(record.match.id, entry)
      for (const observation of record.observations) {
        if (entry.keys.has(observation.naturalKey)) continue
        entry.keys.add(observation.naturalKey)
        entry.observations.push(observation)
      }
      if (record.facts) entry.facts.push({ rank: FACT_ORDER.indexOf(result.fileKind), facts: record.facts })
    }
  }
  const records: ConnectorRecord<CqcLocationFacts>[] = []
  for (const [id, entry] of byLocation) {
    const facts = [...entry.facts].sort((a, b) => a.rank - b.rank).map((entry) => entry.facts)
    records.push({
      match: { kind: 'cqc_location', id },
      observations: entry.observations,
      ...(facts.length > 0 ? { facts: mergeFacts(facts) } : {}),
    })
  }
  const notFound = [...new Set([...ids].map((id) => id.trim()).filter((id) => id !== ''))].filter(
    (id) => !byLocation.has(id),
  )
  return {
    source: 'cqc_file',
    records,
    rejects,
    notFound,
    warnings,
    counts: {
      read,
      matched: records.length,
      rejected: new Set(rejects.map((reject) => reject.record)).size,
      notFound: notFound.length,
    },
    fileKind: results[0]!.result.fileKind,
  }
}

/** Each field from the first facts that have it (null, empty lists and absent providers give way). */
function mergeFacts(facts: CqcLocationFacts[]): CqcLocationFacts {
  const merged: Record<string, unknown> = { ...facts[0] }
  for (const next of facts.slice(1)) {
    for (const [key, value] of Object.entries(next)) {
      const current = merged[key]
      if (current === null || current === undefined || (Array.isArray(current) && current.length === 0)) {
        merged[key] = value
      }
    }
  }
  return merged as unknown as CqcLocationFacts
}
