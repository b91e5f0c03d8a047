/**
 * npm run user -- add <email> --role <admin|compliance|assessor>   (password from stdin if piped, else prompted)
 * npm run user -- list
 * npm run user -- set-password <email>
 * npm run user -- disable <email> | enable <email>
 * npm run user -- set-role <email> --role <role>
 */
import { parseArgs } from 'node:util'
import { z } from 'zod'
import {
  cliActor,
  EXIT_FAILED,
  EXIT_OK,
  openMigratedDatabase,
  readNewPassword,
  runCli,
  UsageError,
} from '../src/auth/cli.js'
import { hashPassword, passwordSchema } from '../src/auth/passwords.js'
import { roleSchema } from '../src/auth/roles.js'
import { DuplicateEmailError, LastActiveAdminError, UsersRepository, type User } from '../src/data/users.js'

const USAGE = `Usage:
  npm run user -- add <email> --role <admin|compliance|assessor>
  npm run user -- list
  npm run user -- set-password <email>
  npm run user -- set-role <email> --role <admin|compliance|assessor>
  npm run user -- disable <email>
  npm run user -- enable <email>

The password is read from stdin when it is piped (first line), otherwise prompted without echo.
Passwords have at least 12 characters.`

const COMMANDS = ['add', 'list', 'set-password', 'set-role', 'disable', 'enable']

const emailSchema = z.string().trim().toLowerCase().pipe(z.email('Enter a valid email address, like name@example.org'))

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value)
  if (!result.success) throw new UsageError(result.error.issues.map((issue) => issue.message).join('; '))
  return result.data
}

function describe(user: User): string {
  return `${user.email} (${user.role}${user.disabled ? ', disabled' : ''})`
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
  const [command, emailArg, ...extra] = positionals
  if (values.help) {
    console.log(USAGE)
    return EXIT_OK
  }
  if (command === undefined) throw new UsageError('No command given')
  if (!COMMANDS.includes(command)) throw new UsageError(`Unknown command "${command}"`)
  if (command === 'list') {
    if (emailArg !== undefined) throw new UsageError('list takes no arguments')
  } else if (emailArg === undefined || extra.length > 0) {
    throw new UsageError(`${command} takes exactly one email address`)
  }
  const needsRole = command === 'add' || command === 'set-role'
  if (needsRole && values.role === undefined) throw new UsageError(`${command} needs --role`)
  if (!needsRole && values.role !== undefined) throw new UsageError(`${command} does not take --role`)

  const email = command === 'list' ? '' : parse(emailSchema, emailArg)
  const role = needsRole ? parse(roleSchema, values.role) : undefined

  const db = openMigratedDatabase()
  try {
    const users = new UsersRepository(db)
    const actor = cliActor()
    if (command === 'list') {
      const all = await users.list()
      if (all.length === 0) console.log('No users.')
      for (const user of all) console.log(`${describe(user)}  last signed in: ${user.lastSignInAt ?? 'never'}`)
      return EXIT_OK
    }
    if (command === 'add') {
      const password = parse(passwordSchema, await readNewPassword())
      const created = await users.create({ email, role: role!, passwordHash: await hashPassword(password) }, actor)
      console.log(`Created user ${describe(created)}`)
      return EXIT_OK
    }

    const user = await users.findByEmail(email)
    if (user === undefined) {
      console.error(`Error: no user with the email address ${email}`)
      return EXIT_FAILED
    }
    switch (command) {
      case 'set-password': {
        const password = parse(passwordSchema, await readNewPassword())
        await users.setPasswordHash(user.id, await hashPassword(password), actor)
        console.log(`Changed the password of ${user.email}`)
        return EXIT_OK
      }
      case 'set-role':
        console.log(`Changed ${describe(await users.setRole(user.id, role!, actor))}`)
        return EXIT_OK
      case 'disable':
        console.log(`Disabled ${describe(await users.setDisabled(user.id, true, actor))}`)
        return EXIT_OK
      case 'enable':
        console.log(`Enabled ${describe(await users.setDisabled(user.id, false, actor))}`)
        return EXIT_OK
      default:
        throw new UsageError(`Unknown command "${command}"`)
    }
  } catch (error) {
    if (error instanceof DuplicateEmailError || error instanceof LastActiveAdminError) {
      console.error(`Error: ${error.message}`)
      return EXIT_FAILED
    }
    throw error
  } finally {
    db.close()
  }
}

runCli(main, USAGE)
