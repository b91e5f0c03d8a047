import { normaliseColumnName } from './csvReader.js'
import { COUNCIL_IMPORT_KINDS, KIND_COLUMNS, SERVICE_NAMING_COLUMNS, type CouncilImportKind } from './schemas.js'

export type KindRecognition = { kind: CouncilImportKind } | { kind: null; reason: string }

/** Required columns of `kind` that the header lacks, naming column included ("service_ref (or cqc_location_id)"). */
export function missingColumns(kind: CouncilImportKind, headerColumns: readonly string[]): string[] {
  const present = new Set(headerColumns.map(normaliseColumnName))
  const missing = KIND_COLUMNS[kind].required.filter((column) => !present.has(column))
  if (!SERVICE_NAMING_COLUMNS.some((column) => present.has(column))) {
    missing.unshift(`${SERVICE_NAMING_COLUMNS[0]} (or ${SERVICE_NAMING_COLUMNS[1]})`)
  }
  return missing
}

/**
 * Which kind of council file a header belongs to (for the inbox, SPEC §6): the one kind whose required columns are
 * all present. Otherwise null, with a reason naming the closest kind's missing columns.
 */
export function recogniseKind(headerColumns: readonly string[]): KindRecognition {
  const present = new Set(headerColumns.map(normaliseColumnName))
  const complete = COUNCIL_IMPORT_KINDS.filter((kind) => missingColumns(kind, headerColumns).length === 0)
  if (complete.length === 1) return { kind: complete[0] as CouncilImportKind }
  if (complete.length > 1) {
    return { kind: null, reason: `The header fits more than one kind of file (${complete.join(', ')}).` }
  }

  const closest = COUNCIL_IMPORT_KINDS.map((kind) => ({
    kind,
    found:
      KIND_COLUMNS[kind].required.filter((column) => present.has(column)).length / KIND_COLUMNS[kind].required.length,
  })).sort((a, b) => b.found - a.found)[0]
  if (closest !== undefined && closest.found > 0) {
    const missing = missingColumns(closest.kind, headerColumns)
    return {
      kind: null,
      reason: `The header looks like ${closest.kind} but lacks ${plural(missing.length, 'column')}: ${missing.join(', ')}.`,
    }
  }
  const expected = COUNCIL_IMPORT_KINDS.map((kind) => `${kind} (${KIND_COLUMNS[kind].required.join(', ')})`)
  return {
    kind: null,
    reason: `The header is not one of the council files: expected the columns of ${expected.join('; ')}.`,
  }
}

export function plural(count: number, noun: string): string {
  return count === 1 ? noun : `${noun}s`
}
