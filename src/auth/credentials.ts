import { NO_PASSWORD, type User, type UsersRepository } from '../data/users.js'
import { verifyAgainstDummyHash, verifyPassword } from './passwords.js'

/**
 * The user for this email and password, or undefined. Unknown, disabled and wrong-password all look the
 * same to the caller and take about as long, so sign-in reveals nothing about which accounts exist.
 */
export async function checkCredentials(
  users: UsersRepository,
  email: string,
  password: string,
): Promise<User | undefined> {
  const credentials = await users.findCredentialsByEmail(email)
  // A single sign-on user has no password: refused, in the time a wrong password takes.
  if (credentials === undefined || credentials.passwordHash === NO_PASSWORD)
    return verifyAgainstDummyHash(password).then(() => undefined)
  const matches = await verifyPassword(credentials.passwordHash, password)
  if (!matches || credentials.disabled) return undefined
  const { passwordHash: _hash, ...user } = credentials
  return user
}
