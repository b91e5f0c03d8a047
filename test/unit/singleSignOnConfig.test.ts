import { describe, expect, it } from 'vitest'
import { roleFromClaims, parseRoleMap } from '../../src/auth/oidcRoles.js'
import { ConfigError, loadConfig } from '../../src/config.js'

/** Issue 18: the single sign-on settings, validated at start. */

const SSO = {
  OIDC_ISSUER: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0',
  OIDC_CLIENT_ID: 'client',
  OIDC_CLIENT_SECRET: 'secret',
  PUBLIC_URL: 'https://risk.council.gov.uk',
}

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as Error).message
  }
  throw new Error('The configuration was accepted')
}

describe('single sign-on settings', () => {
  it('defaults: off, local sign-in on, roles from `roles`, no mapping', () => {
    const config = loadConfig({})
    expect(config.OIDC_ISSUER).toBeUndefined()
    expect(config.LOCAL_SIGN_IN).toBe(true)
    expect(config.OIDC_ROLES_CLAIM).toBe('roles')
    expect(config.OIDC_ROLE_MAP.size).toBe(0)
  })

  it('accepts a complete Entra ID configuration, with a role map and local sign-in off', () => {
    const config = loadConfig({ ...SSO, LOCAL_SIGN_IN: 'false', OIDC_ROLE_MAP: 'g-1=admin, g-2 = assessor' })
    expect(config.LOCAL_SIGN_IN).toBe(false)
    expect([...config.OIDC_ROLE_MAP]).toEqual([
      ['g-1', 'admin'],
      ['g-2', 'assessor'],
    ])
  })

  it('needs the client id, the secret and PUBLIC_URL with an issuer', () => {
    const message = configError({ OIDC_ISSUER: SSO.OIDC_ISSUER })
    for (const name of ['OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'PUBLIC_URL']) expect(message).toContain(`${name}:`)
  })

  it('refuses a client id without an issuer, and LOCAL_SIGN_IN=false without single sign-on', () => {
    expect(configError({ OIDC_CLIENT_ID: 'client' })).toContain('OIDC_CLIENT_ID: is set but OIDC_ISSUER is not')
    expect(configError({ LOCAL_SIGN_IN: 'false' })).toContain('LOCAL_SIGN_IN:')
    expect(configError({ LOCAL_SIGN_IN: 'no' })).toContain('LOCAL_SIGN_IN:')
  })

  it('allows plain http only to a provider on this machine', () => {
    expect(configError({ ...SSO, OIDC_ISSUER: 'http://login.example.org' })).toContain('OIDC_ISSUER: must be an https')
    expect(loadConfig({ ...SSO, OIDC_ISSUER: 'http://127.0.0.1:4000' }).OIDC_ISSUER).toBe('http://127.0.0.1:4000')
  })

  it('refuses a malformed role map, naming the entry', () => {
    expect(configError({ ...SSO, OIDC_ROLE_MAP: 'g-1=owner' })).toContain('"owner" in "g-1=owner"')
    expect(configError({ ...SSO, OIDC_ROLE_MAP: 'g-1' })).toContain('"g-1" is not value=role')
  })
})

describe('roles from the ID token', () => {
  const map = parseRoleMap('group-a=compliance') as ReadonlyMap<string, 'compliance'>

  it('reads role names and mapped values, the strongest role winning', () => {
    expect(roleFromClaims({ roles: ['assessor'] }, 'roles', map)).toBe('assessor')
    expect(roleFromClaims({ roles: ['assessor', 'admin'] }, 'roles', map)).toBe('admin')
    expect(roleFromClaims({ roles: ['group-a', 'assessor'] }, 'roles', map)).toBe('compliance')
    expect(roleFromClaims({ roles: 'compliance' }, 'roles', map)).toBe('compliance')
  })

  it('gives no role for no claim, unknown values, or values that are not strings', () => {
    expect(roleFromClaims({}, 'roles', map)).toBeUndefined()
    expect(roleFromClaims({ roles: ['Admin', 'owner', 42, null] }, 'roles', map)).toBeUndefined()
    expect(roleFromClaims({ groups: ['group-a'] }, 'roles', map)).toBeUndefined()
  })
})
