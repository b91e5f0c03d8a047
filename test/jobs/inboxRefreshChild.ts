/**
 * A refresh with only the inbox step, run as a child process by inboxKill.test.ts (DATABASE_PATH and INBOX_DIR from
 * the environment). With INBOX_TEST_PAUSE=1 it stops with a file's rows written but not committed, says "PAUSED" and
 * waits to be killed.
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
const inbox = new InboxService({
  importer: services.importer,
  files: new InboxFileRepository(db),
  inboxDir: resolvePath(config.INBOX_DIR),
  today: services.clock.today,
  settleMs: 0,
  recheckMs: 0,
  beforeCommit: pause
    ? async (name) => {
        process.stdout.write(`PAUSED ${name}\n`)
        await new Promise(() => setInterval(() => undefined, 1000))
      }
    : undefined,
})
const summary = await new RefreshService(services, [inboxStep(inbox)]).run({ trigger: 'inbox kill test' })
process.stdout.write(`DONE ${JSON.stringify(summary.sources[0]?.result)}\n`)
db.close()
