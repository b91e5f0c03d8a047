export interface NavigationItem {
  text: string
  href: string
  active: boolean
}

interface NavigationEntry {
  text: string
  href: string
  roles: ReadonlyArray<string>
  /** Paths under these prefixes also mark the item active (a service page belongs to the dashboard). */
  prefixes?: ReadonlyArray<string>
}

/** The service navigation, by role: assessors never see links to pages they cannot use. */
const ENTRIES: NavigationEntry[] = [
  { text: 'Dashboard', href: '/', roles: ['admin', 'compliance', 'assessor'], prefixes: ['/services/'] },
  { text: 'My morning', href: '/morning', roles: ['admin', 'compliance'] },
  { text: 'Actions', href: '/actions', roles: ['admin', 'compliance'] },
  { text: 'Assessments due', href: '/assessments/due', roles: ['admin', 'compliance'], prefixes: ['/assessments'] },
  { text: 'Providers', href: '/providers', roles: ['admin', 'compliance', 'assessor'], prefixes: ['/providers'] },
  { text: 'DPS', href: '/dps', roles: ['admin', 'compliance', 'assessor'], prefixes: ['/dps'] },
  { text: 'Market', href: '/market', roles: ['admin', 'compliance', 'assessor'], prefixes: ['/market'] },
  { text: 'Import', href: '/import', roles: ['admin', 'compliance'], prefixes: ['/import'] },
  { text: 'Admin', href: '/admin', roles: ['admin'], prefixes: ['/admin'] },
]

export function navigationFor(role: string | undefined, path: string): NavigationItem[] {
  if (!role) return []
  return ENTRIES.filter((entry) => entry.roles.includes(role)).map((entry) => ({
    text: entry.text,
    href: entry.href,
    active: path === entry.href || (entry.prefixes ?? []).some((prefix) => path.startsWith(prefix)),
  }))
}
