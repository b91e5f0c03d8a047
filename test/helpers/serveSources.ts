/**
 * Serves the recorded real payloads of CQC, the FSA and Companies House on 127.0.0.1 (see SourceServer), for trying
 * the overnight refresh by hand without the internet:
 *
 *   npx tsx test/helpers/serveSources.ts                 # prints the environment to use, then serves until Ctrl-C
 *   export CQC_API_BASE=... FHRS_API_BASE=... COMPANIES_HOUSE_API_BASE=...   (as printed)
 *   npm run refresh
 *
 * Every identifier answers with the recorded payload re-labelled (a CQC location rated Outstanding in 2019, a food
 * hygiene 5 of 2016, an active company). Options change what one identifier says, so a demo service visibly changes:
 *   --cqc <locationId>=<rating>@<YYYY-MM-DD>   --fhrs <fhrsId>=<value>@<YYYY-MM-DD>   --company <number>=<status>
 *   --fail <cqc|fhrs|ch>=<HTTP status>         --port <port>
 */
import { SourceServer } from './sourceServer.js'

function options(argv: string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = []
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i] ?? ''
    const value = argv[i + 1]
    if (!name.startsWith('--') || value === undefined) throw new Error(`expected --option value, got "${name}"`)
    pairs.push([name.slice(2), value])
  }
  return pairs
}

async function main() {
  const args = options(process.argv.slice(2))
  const port = Number(args.find(([name]) => name === 'port')?.[1] ?? 0)
  const server = await SourceServer.start(port)
  for (const [name, value] of args) {
    const [id, setting] = value.split('=') as [string, string | undefined]
    if (setting === undefined && name !== 'port') throw new Error(`--${name} takes <id>=<value>`)
    const [what, date] = (setting ?? '').split('@') as [string, string | undefined]
    if (name === 'cqc')
      server.cqcRatings.set(id, { rating: what, reportDate: date ?? new Date().toISOString().slice(0, 10) })
    else if (name === 'fhrs')
      server.fhrsRatings.set(id, { value: what, date: date ?? new Date().toISOString().slice(0, 10) })
    else if (name === 'company') server.companyStatuses.set(id, what)
    else if (name === 'fail') server.fail(`/${id}`, Number(what))
    else if (name !== 'port') throw new Error(`unknown option --${name}`)
  }
  process.stdout.write(`Recorded sources on ${server.baseUrl}\n`)
  for (const [name, value] of Object.entries(server.env())) process.stdout.write(`export ${name}=${value}\n`)
  const stop = () => void server.close().then(() => process.exit(0))
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`)
  process.exit(1)
})
