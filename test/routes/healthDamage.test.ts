import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { damageDatabaseFile } from '../helpers/damageFile.js'
import { appWithAllRoutes } from '../helpers/appHarness.js'
import { openServices, seedPublishedRegister, tempDatabasePath } from '../jobs/refreshChild.js'

/** `/health` answers 503 when the database file is damaged, though the server's connection still reads its cache. */
let database: ReturnType<typeof tempDatabasePath>

beforeEach(async () => {
  database = tempDatabasePath()
  ;(await seedPublishedRegister(database.file, 30)).db.close()
})

afterEach(() => {
  vi.useRealTimers()
  database.cleanUp()
})

describe('GET /health on a damaged database', () => {
  it('is UP on the sound file and 503 DOWN once regions of it are overwritten', async () => {
    const sound = openServices(database.file)
    try {
      const response = await request(appWithAllRoutes(sound)).get('/health')
      expect(response.status).toBe(200)
      expect(response.body).toMatchObject({ status: 'UP', database: 'UP' })
    } finally {
      sound.db.close()
    }

    damageDatabaseFile(database.file)
    // The check reruns when the file has changed, at most every few seconds.
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 10_000)
    const damaged = openServices(database.file)
    try {
      // The ordinary probe still reads: only the check finds the damage.
      expect(damaged.db.prepare('SELECT 1 AS one').get()).toEqual({ one: 1 })
      const response = await request(appWithAllRoutes(damaged)).get('/health')
      expect(response.status).toBe(503)
      expect(response.body).toEqual({ status: 'DOWN', database: 'DOWN' })
      expect(response.headers['cache-control']).toBe('no-store')
    } finally {
      damaged.db.close()
    }
  })
})
