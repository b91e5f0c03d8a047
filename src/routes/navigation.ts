export interface NavigationItem {
  text: string
  href: string
  active: boolean
}

interface NavigationEntry {
  text: string
  href: string
  roles: ReadonlyArray<string>
  /** Paths under this prefix mark the item active. */
  prefix?: string
}

/** The service navigation, by role: assessors never see links to pages they cannot use. */
const ENTRIES: NavigationEntry[] = [
  { text: 'Dashboard', href: '/', roles: ['admin', 'compliance', 'assessor'] },
  { text: 'My morning', href: '/morning', roles: ['admin', 'compliance'] },
  { text: 'DPS', href: '/dps', roles: ['admin', 'compliance', 'assessor'], prefix: '/dps' },
  { text: 'Market', href: '/market', roles: ['admin', 'compliance', 'assessor'], prefix: '/market' },
  { text: 'Import', href: '/import', roles: ['admin', 'compliance'], prefix: '/import' },
  { text: 'Admin', href: '/admin', roles: ['admin'], prefix: '/admin' },
]

export function navigationFor(role: string | undefined, path: string): NavigationItem[] {
  if (!role) return []
  return ENTRIES.filter((entry) => entry.roles.includes(role)).map((entry) => ({
    text: entry.text,
    href: entry.href,
    active: entry.prefix ? path.startsWith(entry.prefix) : path === entry.href || path.startsWith('/services/'),
  }))
}
