/**
 * npm run token -- create <name> --role <admin|compliance|assessor>   prints the token alone on the last line
 * npm run token -- list
 * npm run token -- revoke <id>
 */
import { parseArgs } from 'node:util'
import { z } from 'zod'
import { cliActor, EXIT_FAILED, EXIT_OK, openMigratedDatabase, runCli, UsageError } from '../src/auth/cli.js'
import { roleSchema } from '../src/auth/roles.js'
import { ApiTokensRepository, type ApiToken } from '../src/data/apiTokens.js'

const USAGE = `Usage:
  npm run token -- create <name> --role <admin|compliance|assessor>
  npm run token -- list
  npm run token -- revoke <id>

create prints the token alone on the last line of its output. Only its hash is stored: keep it now.
Scripts send it as the header "Authorization: Bearer <token>".`

const nameSchema = z.string().trim().min(1, 'Give the token a name').max(100, 'Name must be 100 characters or fewer')
const idSchema = z.coerce
  .number({ error: 'The token id must be a whole number' })
  .int('The token id must be a whole number')
  .positive('The token id must be a whole number')

function parse<T>(schema: z.ZodType<T, unknown>, value: unknown): T {
  const result = schema.safeParse(value)
  if (!result.success) throw new UsageError(result.error.issues.map((issue) => issue.message).join('; '))
  return result.data
}

function describe(token: ApiToken): string {
  const status = token.revokedAt === null ? 'active' : `revoked ${token.revokedAt}`
  return `#${token.id} ${token.name} (${token.role}) created ${token.createdAt} by ${token.createdBy}, last used ${token.lastUsedAt ?? 'never'}, ${status}`
}

function parseArguments(args: string[]) {
  try {
    return parseArgs({
      args,
      options: { role: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

async function main(): Promise<number> {
  const { positionals, values } = parseArguments(process.argv.slice(2))
  if (values.help) {
    console.log(USAGE)
    return EXIT_OK
  }
  const [command, argument, ...extra] = positionals
  if (command === undefined) throw new UsageError('No command given')
  if (command !== 'create' && command !== 'list' && command !== 'revoke') {
    throw new UsageError(`Unknown command "${command}"`)
  }
  if (command === 'list' ? argument !== undefined : argument === undefined || extra.length > 0) {
    throw new UsageError(command === 'list' ? 'list takes no arguments' : `${command} takes exactly one argument`)
  }
  if (command === 'create' && values.role === undefined) throw new UsageError('create needs --role')
  if (command !== 'create' && values.role !== undefined) throw new UsageError(`${command} does not take --role`)

  const name = command === 'create' ? parse(nameSchema, argument) : ''
  const role = command === 'create' ? parse(roleSchema, values.role) : undefined
  const id = command === 'revoke' ? parse(idSchema, argument) : 0

  const db = openMigratedDatabase()
  try {
    const tokens = new ApiTokensRepository(db)
    switch (command) {
      case 'create': {
        const { token, secret } = await tokens.create({ name, role: role! }, cliActor())
        console.log(`Created API token #${token.id} "${token.name}" with the role ${token.role}.`)
        console.log('It is shown only this once: store it now. Send it as "Authorization: Bearer <token>".')
        console.log(secret)
        return EXIT_OK
      }
      case 'list': {
        const all = await tokens.list()
        if (all.length === 0) console.log('No API tokens.')
        for (const token of all) console.log(describe(token))
        return EXIT_OK
      }
      case 'revoke': {
        const revoked = await tokens.revoke(id, cliActor())
        if (revoked === undefined) {
          console.error(`Error: no API token with id ${id}`)
          return EXIT_FAILED
        }
        console.log(`Revoked ${describe(revoked)}`)
        return EXIT_OK
      }
    }
  } finally {
    db.close()
  }
}

runCli(main, USAGE)
