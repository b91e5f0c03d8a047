import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SourceServer } from '../helpers/sourceServer.js'
import { inspect, openServices, seedPublishedRegister, startRefreshChild, tempDatabasePath } from './refreshChild.js'

/**
 * `npm run refresh` (jobs/refresh.ts in its own process, as a council runs it by hand): exit 0 when the run completed,
 * even with a failed source, a per-source summary table at the end, and non-zero when it could not run at all.
 */
let server: SourceServer
let database: ReturnType<typeof tempDatabasePath>

beforeEach(async () => {
  server = await SourceServer.start()
  database = tempDatabasePath()
  const services = await seedPublishedRegister(database.file, 3)
  // Give the register food hygiene and company identifiers too, so every source has work.
  services.db.exec(`UPDATE services SET fhrs_id = CAST(5000 + id AS TEXT)`)
  services.db.exec(`UPDATE providers SET companies_house_number = printf('%08d', 7000 + id)`)
  services.db.close()
})

afterEach(async () => {
  await server.close()
  database.cleanUp()
})

/** The summary table's row for a source: its cells, trimmed. */
function summaryRow(output: string, label: string): string[] {
  const line = output.split('\n').find((l) => l.includes(`'${label}'`))
  if (!line) throw new Error(`no summary row for ${label} in:\n${output}`)
  return line
    .split('│')
    .map((cell) => cell.trim().replace(/^'|'$/g, ''))
    .filter((cell) => cell !== '')
}

describe('npm run refresh', () => {
  it('refreshes every source and prints a summary table per source', { timeout: 30_000 }, async () => {
    const child = startRefreshChild(database.file, server.env())
    const { code } = await child.exited
    const output = child.output()
    expect(code, output).toBe(0)
    expect(output).toMatch(/│ \(index\) │ source +│ status +│ read │ matched │ changed │ unchanged │ rejected │/)
    // index, source, status, read, matched, changed, unchanged, rejected, seconds
    expect(summaryRow(output, 'CQC').slice(1, 8)).toEqual(['CQC', 'succeeded', '3', '3', '3', '0', '0'])
    expect(summaryRow(output, 'Food hygiene (FSA)').slice(1, 8)).toEqual([
      'Food hygiene (FSA)',
      'succeeded',
      '3',
      '3',
      '3',
      '0',
      '0',
    ])
    expect(summaryRow(output, 'Companies House').slice(1, 4)).toEqual(['Companies House', 'succeeded', '3'])
    expect(output).toMatch(/Services computed: 3;/)
    expect(inspect(database.file).runs.at(-1)).toMatchObject({ status: 'completed' })
  })

  it('recomputes only the due services by default, and every one with --all', { timeout: 30_000 }, async () => {
    const nightly = startRefreshChild(database.file, server.env())
    expect((await nightly.exited).code, nightly.output()).toBe(0)
    // The sources changed all three services' records since the baseline run: all three are due.
    expect(nightly.output()).toMatch(
      /^Services computed: 3; judgements changed: \d+; RAG changes: \d+; took [\d.]+ s$/m,
    )
    expect(nightly.output()).toMatch(/^Recomputed 3 due services of 3 \(new observations 3\); 0 skipped as unchanged$/m)
    const forced = startRefreshChild(database.file, server.env(), ['--all'])
    expect((await forced.exited).code, forced.output()).toBe(0)
    expect(forced.output()).toMatch(/^Recomputed every service \(3\)$/m)
    expect(inspect(database.file).runs.at(-1)).toMatchObject({ status: 'completed' })
  })

  it('exits 0 with a failed source, naming it and where its errors are', { timeout: 30_000 }, async () => {
    server.fail('/fhrs', 500)
    const child = startRefreshChild(database.file, server.env())
    const { code } = await child.exited
    const output = child.output()
    expect(code, output).toBe(0)
    expect(summaryRow(output, 'Food hygiene (FSA)')).toContain('failed')
    expect(output).toMatch(/FSA food hygiene API: GET \/Establishments\/\d+ failed after 3 attempts: HTTP 500/)
    expect(output).toMatch(/Failed sources \(their last good data is kept\): Food hygiene \(FSA\)/)
    const runId = inspect(database.file).runs.at(-1)!.id
    expect(output).toContain(`Errors and rejected rows: /admin/runs/${runId}`)
    expect(summaryRow(output, 'CQC')).toContain('succeeded')
  })

  it('exits non-zero, saying why, when another refresh is still running', { timeout: 30_000 }, async () => {
    const services = openServices(database.file)
    try {
      // A live run from another process: this test process holds its run lock until it ends.
      await services.runs.startRun('full', { trigger: 'other' })
    } finally {
      services.db.close()
    }
    const child = startRefreshChild(database.file, server.env())
    const { code } = await child.exited
    expect(code).not.toBe(0)
    expect(child.output()).toMatch(/Refresh run \d+ is still running/)
  })
})
