import { readdirSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { damageDatabaseFile } from '../helpers/damageFile.js'
import { SourceServer } from '../helpers/sourceServer.js'
import { cqcLocationId, inspect, seedPublishedRegister, startRefreshChild, tempDatabasePath } from './refreshChild.js'

/** The refresh checks the database before it writes, and takes a verified backup before its first write. */
const SERVICES = 20
let server: SourceServer
let database: ReturnType<typeof tempDatabasePath>

beforeEach(async () => {
  server = await SourceServer.start()
  for (let i = 0; i < SERVICES; i++) {
    server.cqcRatings.set(cqcLocationId(i), { rating: 'Inadequate', reportDate: '2026-10-01' })
  }
  database = tempDatabasePath()
  ;(await seedPublishedRegister(database.file, SERVICES)).db.close()
})

afterEach(async () => {
  await server.close()
  database.cleanUp()
})

const cqcOnly = () => ({ CQC_API_BASE: server.env().CQC_API_BASE!, CQC_API_KEY: 'test' })
const backupsOf = () =>
  readdirSync(path.join(path.dirname(database.file), 'backups')).filter((name) => name.endsWith('.sqlite'))

describe('the refresh and the state of the database', () => {
  it(
    'takes a backup of the database as it was before its first write, keeping BACKUP_KEEP copies',
    { timeout: 90_000 },
    async () => {
      const before = inspect(database.file)
      for (let run = 0; run < 3; run++) {
        const child = startRefreshChild(database.file, { ...cqcOnly(), BACKUP_KEEP: '2' })
        const { code } = await child.exited
        expect(code, child.output()).toBe(0)
        expect(child.output()).toMatch(/Backup before the run: .*backups.*\.sqlite/)
      }
      const copies = backupsOf().sort()
      expect(copies).toHaveLength(2)
      // The oldest copy kept is from before the third run: two runs published, the register then Red.
      const oldest = inspect(path.join(path.dirname(database.file), 'backups', copies[0]!))
      expect(oldest.integrity).toBe('ok')
      expect(oldest.runs.length).toBe(before.runs.length + 1)
    },
  )

  it(
    'refuses to run on a damaged database, naming npm run restore, writing nothing and printing no stack',
    { timeout: 60_000 },
    async () => {
      damageDatabaseFile(database.file)
      const child = startRefreshChild(database.file, cqcOnly())
      const { code } = await child.exited
      expect(code).not.toBe(0)
      expect(child.output()).toContain('is damaged')
      expect(child.output()).toContain('npm run restore')
      expect(child.output()).not.toMatch(/\n\s+at /)
      expect(server.requests.length).toBe(0)
    },
  )
})
