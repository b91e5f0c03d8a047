import { closeSync, fstatSync, openSync, writeSync } from 'node:fs'

/**
 * Overwrites three page-sized regions of a database file (a quarter, half and three quarters of the way in) with
 * garbage, as a failing disk or a stray write would: the header page is left alone, so SQLite still opens the file
 * and only its checks find the damage. Close every connection first, so the file holds all the data (no -wal).
 */
export function damageDatabaseFile(file: string, pageSize = 4096): void {
  const fd = openSync(file, 'r+')
  try {
    const pages = Math.floor(fstatSync(fd).size / pageSize)
    if (pages < 4) throw new Error(`${file} is too small to damage meaningfully (${pages} pages)`)
    const garbage = Buffer.alloc(pageSize, 0)
    for (let i = 0; i < pageSize; i++) garbage[i] = (i * 131 + 7) % 251
    for (const fraction of [0.25, 0.5, 0.75]) {
      const page = Math.max(1, Math.floor(pages * fraction))
      writeSync(fd, garbage, 0, pageSize, page * pageSize)
    }
  } finally {
    closeSync(fd)
  }
}
