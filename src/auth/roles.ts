import { z } from 'zod'

/** SPEC §1: the three roles. Every route checks one of them on the server. */
export const ROLES = ['admin', 'compliance', 'assessor'] as const
export type Role = (typeof ROLES)[number]

export const roleSchema = z.enum(ROLES, { error: `Role must be one of ${ROLES.join(', ')}` })

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value)
}
