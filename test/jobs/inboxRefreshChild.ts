/**
 * A refresh with only the inbox step, run as a child process by inboxKill.test.ts (DATABASE_PATH and INBOX_DIR from
 * the environment). With INBOX_TEST_PAUSE=1 it stops with a file's rows written but not committed, says "PAUSED" and
 * waits to be killed; with INBOX_TEST_BATCH_ROWS=n and INBOX_TEST_PAUSE_AFTER_BATCH=k it reads files n rows a batch and
 * stops the same way once batch k is committed.
 */
import { loadConfig, resolvePath } from '../../src/config.js'
import { InboxFileRepository } from '../../src/data/inboxFiles.js'
import { migrate, openDatabase } from '../../src/data/database.js'
import { createLogger } from '../../src/logger.js'
import { createServices } from '../../src/services/container.js'
import { InboxService } from '../../src/services/inboxService.js'
import { RefreshService } from '../../src/services/refreshService.js'
import { inboxStep } from '../../src/services/sources/inbox.js'

const config = loadConfig()
const db = openDatabase(config.DATABASE_PATH)
migrate(db)
const services = createServices(db, config, createLogger('silent'))
const pause = process.env.INBOX_TEST_PAUSE === '1'
const pauseAfterBatch = Number(process.env.INBOX_TEST_PAUSE_AFTER_BATCH ?? 0)
const waitToBeKilled = (what: string) => {
  process.stdout.write(`PAUSED ${what}\n`)
  return new Promise<void>(() => setInterval(() => undefined, 1000))
}
const inbox = new InboxService({
  importer: services.importer,
  files: new InboxFileRepository(db),
  inboxDir: resolvePath(config.INBOX_DIR),
  today: services.clock.today,
  settleMs: 0,
  recheckMs: 0,
  batchRows: process.env.INBOX_TEST_BATCH_ROWS ? Number(process.env.INBOX_TEST_BATCH_ROWS) : undefined,
  beforeCommit: pause ? (name) => waitToBeKilled(name) : undefined,
  afterBatch: pauseAfterBatch
    ? async (name, batch) => {
        if (batch === pauseAfterBatch) await waitToBeKilled(`${name} after batch ${batch}`)
      }
    : undefined,
})
const summary = await new RefreshService(services, [inboxStep(inbox)]).run({ trigger: 'inbox kill test' })
process.stdout.write(`DONE ${JSON.stringify(summary.sources[0]?.result)}\n`)
db.close()
