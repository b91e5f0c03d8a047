import { ROLES, isRole, type Role } from './roles.js'

/** Claim values (e.g. Entra ID group ids) that give a role, besides the role names themselves. */
export type RoleMap = ReadonlyMap<string, Role>

/** Parses OIDC_ROLE_MAP (`value=role,value=role`); an error message instead when it is malformed. */
export function parseRoleMap(text: string): RoleMap | string {
  const map = new Map<string, Role>()
  for (const entry of text.split(',')) {
    if (entry.trim() === '') continue
    const separator = entry.lastIndexOf('=')
    const value = entry.slice(0, Math.max(separator, 0)).trim()
    const role = entry.slice(separator + 1).trim()
    if (separator < 0 || value === '') return `"${entry.trim()}" is not value=role`
    if (!isRole(role)) return `"${role}" in "${entry.trim()}" is not one of the roles ${ROLES.join(', ')}`
    map.set(value, role)
  }
  return map
}

/** Most powerful first: a person with several roles gets the strongest. */
const PRECEDENCE: readonly Role[] = ['admin', 'compliance', 'assessor']

/**
 * The role a person's ID token gives: the claim's values (an array, or one string) that are role names or mapped
 * values; the most powerful when there are several; undefined when none is (the person is refused).
 */
export function roleFromClaims(claims: Record<string, unknown>, claimName: string, roleMap: RoleMap): Role | undefined {
  const raw = claims[claimName]
  const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]
  const granted = new Set<Role>()
  for (const value of values) {
    if (typeof value !== 'string') continue
    const role = isRole(value) ? value : roleMap.get(value)
    if (role !== undefined) granted.add(role)
  }
  return PRECEDENCE.find((role) => granted.has(role))
}
