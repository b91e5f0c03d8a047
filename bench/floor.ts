/**
 * The floor for a refresh from files: stream-parse the same files with the same parsers (csv-parse, saxes) and insert
 * every raw row into one table, in one transaction, with one prepared statement. Nothing else.
 *
 *   node --import tsx bench/floor.ts <database> <cqc-dir or file> <fhrs-dir>   -> prints one JSON line
 *
 * As the refresh does with a CQC_FILE folder, every .csv file in the CQC folder is parsed (HSCA Active Locations and
 * the Latest ratings Locations sheet).
 */
import { createReadStream, statSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import Database from 'better-sqlite3'
import { parse } from 'csv-parse'
import { SaxesParser } from 'saxes'

async function main(): Promise<void> {
  const [databasePath, cqcPath, fhrsDir] = process.argv.slice(2)
  if (!databasePath || !cqcPath || !fhrsDir) throw new Error('usage: floor.ts <database> <cqc-dir> <fhrs-dir>')
  const cqcFiles = statSync(cqcPath).isDirectory()
    ? (await readdir(cqcPath))
        .filter((name) => name.endsWith('.csv'))
        .sort()
        .map((name) => path.join(cqcPath, name))
    : [cqcPath]
  const started = performance.now()
  const db = new Database(databasePath)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec('CREATE TABLE raw_rows (id INTEGER PRIMARY KEY, source TEXT NOT NULL, row TEXT NOT NULL)')
  const insert = db.prepare('INSERT INTO raw_rows (source, row) VALUES (?, ?)')
  let rows = 0
  let insertMs = 0
  const add = (source: string, row: unknown) => {
    const t = performance.now()
    insert.run(source, JSON.stringify(row))
    insertMs += performance.now() - t
    rows++
  }
  db.exec('BEGIN')

  for (const cqcFile of cqcFiles) {
    const parser = createReadStream(cqcFile).pipe(parse({ bom: true, relax_column_count: true, relax_quotes: true }))
    for await (const record of parser as AsyncIterable<string[]>) {
      add('cqc', record)
    }
  }

  const files = (await readdir(fhrsDir)).filter((name) => name.endsWith('.xml')).sort()
  for (const name of files) {
    await new Promise<void>((resolve, reject) => {
      const sax = new SaxesParser()
      let current: Record<string, string> | null = null
      let text = ''
      sax.on('opentag', (tag) => {
        text = ''
        if (tag.name === 'EstablishmentDetail') current = {}
      })
      sax.on('text', (chunk) => {
        text += chunk
      })
      sax.on('closetag', (tag) => {
        if (tag.name === 'EstablishmentDetail' && current) {
          add('fhrs', current)
          current = null
        } else if (current) current[tag.name] = text.trim()
        text = ''
      })
      const input = createReadStream(path.join(fhrsDir, name), { encoding: 'utf8' })
      input.on('data', (chunk) => {
        try {
          sax.write(chunk as string)
        } catch (error) {
          input.destroy()
          reject(error as Error)
        }
      })
      input.on('error', reject)
      input.on('end', () => {
        sax.close()
        resolve()
      })
    })
  }
  const commitStarted = performance.now()
  db.exec('COMMIT')
  insertMs += performance.now() - commitStarted
  db.close()
  const seconds = (performance.now() - started) / 1000
  // The insert alone (stringify, run, commit) against the parse: which of the two bounds the floor.
  const insertSeconds = insertMs / 1000
  process.stdout.write(
    `${JSON.stringify({ rows, seconds, insertSeconds, insertRowsPerSecond: rows / insertSeconds, parseSeconds: seconds - insertSeconds })}\n`,
  )
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
