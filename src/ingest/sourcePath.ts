import { constants, type Stats } from 'node:fs'
import { access, stat } from 'node:fs/promises'

/**
 * The configured path of a file source (CQC_FILE, FHRS_XML_DIR), checked before any stream opens it, so a missing,
 * unreadable or wrong kind of path fails that source with a reason a person can act on instead of a raw errno (or, for a
 * stream's unhandled 'error' event, the whole process).
 */
export class SourcePathError extends Error {
  constructor(
    readonly variable: string,
    readonly target: string,
    readonly problem: string,
  ) {
    super(`${variable} ${target}: ${problem}`)
    this.name = 'SourcePathError'
  }
}

export type SourcePathKind = 'file' | 'folder' | 'file or folder'

/** The path's stats once it is known to exist, be readable and be of the wanted kind; else a SourcePathError. */
export async function checkSourcePath(variable: string, target: string, wanted: SourcePathKind): Promise<Stats> {
  let stats: Stats
  try {
    stats = await stat(target)
  } catch (error) {
    throw new SourcePathError(variable, target, describeFsError(error, wanted))
  }
  const isFolder = stats.isDirectory()
  if (!isFolder && !stats.isFile()) throw new SourcePathError(variable, target, `neither a file nor a folder`)
  if (wanted === 'folder' && !isFolder) throw new SourcePathError(variable, target, 'a file, not a folder')
  if (wanted === 'file' && isFolder) throw new SourcePathError(variable, target, 'a folder, not a file')
  try {
    await access(target, isFolder ? constants.R_OK | constants.X_OK : constants.R_OK)
  } catch (error) {
    throw new SourcePathError(variable, target, describeFsError(error, isFolder ? 'folder' : 'file'))
  }
  return stats
}

/** A readable sentence for a file-system error code (ENOENT, EACCES...), the raw message otherwise. */
export function describeFsError(error: unknown, what: SourcePathKind): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  switch (code) {
    case 'ENOENT':
      return `no such ${what}`
    case 'ENOTDIR':
      return `no such ${what} (a part of the path is a file)`
    case 'EACCES':
    case 'EPERM':
      return `permission denied: the refresh cannot read this ${what}`
    case 'EISDIR':
      return 'a folder, not a file'
    case 'ELOOP':
      return 'a symbolic link that points back to itself'
    default:
      return (error as Error | undefined)?.message ?? String(error)
  }
}
