import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Services } from '../../src/services/container.js'
import { openServices, seedPublishedRegister, tempDatabasePath } from '../jobs/refreshChild.js'

/**
 * Readers never see a mixture of two runs (SPEC §6): the dashboard makes its queries inside one read transaction
 * (`Store.read`), so a refresh in another process that publishes between two of them changes neither.
 */
let database: ReturnType<typeof tempDatabasePath>
let reader: Services
let writer: Services

beforeEach(async () => {
  database = tempDatabasePath()
  ;(await seedPublishedRegister(database.file, 4)).db.close()
  reader = openServices(database.file)
  writer = openServices(database.file)
})
afterEach(() => {
  reader.db.close()
  writer.db.close()
  database.cleanUp()
})

/** Another process publishing: every service turns red. */
async function publishElsewhere() {
  writer.db.exec(`UPDATE current_snapshots SET rag = 'red'`)
}

describe('Store.read', () => {
  it('keeps every query of the read on the same committed state', async () => {
    const [before, after] = await reader.store.read(async ({ runs }) => {
      const first = await runs.ragCounts()
      await publishElsewhere()
      return [first, await runs.ragCounts()]
    })
    expect(after).toEqual(before)
    expect(before).toMatchObject({ green: 4, red: 0 })
    // The next read sees the new state.
    expect(await reader.runs.ragCounts()).toMatchObject({ red: 4, green: 0 })
  })

  it('without it, two queries can straddle a commit (what the dashboard must not do)', async () => {
    const first = await reader.runs.ragCounts()
    await publishElsewhere()
    expect(await reader.runs.ragCounts()).not.toEqual(first)
  })

  it('the dashboard reads its counts and its list in one transaction, and closes it', async () => {
    const view = await reader.dashboard.dashboard({ limit: 50 })
    expect(view.counts).toMatchObject({ green: 4, total: 4 })
    expect(view.listing.rows.every((row) => row.rag === 'green')).toBe(true)
    expect(reader.db.inTransaction).toBe(false)
  })
})
