/**
 * npm run import -- <kind> <file.csv>   (kind: services, assessments, intelligence, safeguarding_counts)
 *
 * Validates every row, imports the good ones in one transaction, recomputes the services they touch, prints a summary
 * and the reject report. Exit 0: every row imported; 1: some row was rejected or the file failed; 2: usage error.
 */
import fs from 'node:fs'
import path from 'node:path'
import { cliActor, EXIT_FAILED, EXIT_OK, openMigratedDatabase, runCli, UsageError } from '../src/auth/cli.js'
import { loadConfig } from '../src/config.js'
import { AuditLog } from '../src/data/audit.js'
import { COUNCIL_IMPORT_KINDS, formatRejectReport, isCouncilImportKind } from '../src/ingest/council/index.js'
import { createLogger } from '../src/logger.js'
import { createServices } from '../src/services/container.js'
import { ImportService, type ImportResult } from '../src/services/importService.js'

const USAGE = `Usage:
  npm run import -- <kind> <file.csv>

kind is one of: ${COUNCIL_IMPORT_KINDS.join(', ')}.
The file is CSV (UTF-8, comma-separated, header row); see the README for the columns of each kind.`

function plural(count: number, word: string): string {
  return `${count.toLocaleString('en-GB')} ${word}${count === 1 ? '' : 's'}`
}

function describeImport(result: ImportResult, fileLabel: string): string {
  const rejectedRows = new Set(result.rejects.map((reject) => reject.rowNumber)).size
  const lines = [
    `${fileLabel} (${result.kind ?? 'unrecognised'}): ${plural(result.rowsRead, 'row')} read, ` +
      `${result.imported.toLocaleString('en-GB')} imported, ${result.duplicates.toLocaleString('en-GB')} already known, ` +
      `${rejectedRows.toLocaleString('en-GB')} rejected.`,
  ]
  if (result.runId !== null) lines.push(`Risk recomputed for the services touched (run ${result.runId}).`)
  if (result.fileError !== null) lines.push('Nothing was imported from this file.')
  const report = formatRejectReport(result.rejects, result.fileError ?? undefined)
  return `${lines.join('\n')}\n${report ? `\n${report}` : ''}`
}

async function main(): Promise<number> {
  const args = process.argv.slice(2).filter((arg) => arg !== '--')
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`)
    return EXIT_OK
  }
  const [kind, file, ...extra] = args
  if (kind === undefined || file === undefined) throw new UsageError('Give the kind of file and the file to import')
  if (extra.length > 0) throw new UsageError(`Unexpected arguments: ${extra.join(' ')}`)
  if (!isCouncilImportKind(kind)) throw new UsageError(`Unknown kind "${kind}"`)
  const stat = fs.statSync(file, { throwIfNoEntry: false })
  if (!stat) throw new UsageError(`No such file: ${file}`)
  if (!stat.isFile()) throw new UsageError(`Not a file: ${file}`)

  const config = loadConfig()
  const db = openMigratedDatabase(config)
  try {
    const services = createServices(db, config, createLogger('warn'))
    const auditLog = new AuditLog(db)
    const importer = new ImportService({
      services: services.serviceRepository,
      observations: services.observations,
      risk: services.risk,
      today: services.clock.today,
      audit: async (entry) => {
        await auditLog.record(entry)
      },
    })
    const fileLabel = path.basename(file)
    const result = await importer.importFile(kind, fs.createReadStream(file), {
      actor: cliActor(),
      source: 'council_csv',
      fileLabel,
    })
    process.stdout.write(describeImport(result, fileLabel))
    return result.fileError !== null || result.rejects.length > 0 ? EXIT_FAILED : EXIT_OK
  } finally {
    db.close()
  }
}

runCli(main, USAGE)
