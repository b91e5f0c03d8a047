/**
 * The dashboard server the bench loads, in its own process as in production: the real createApp over the real
 * container, plus a bare Express app on a second port that sends a pre-rendered page (the ceiling for a page of that
 * size). Reports its ports, and on request the longest event-loop stall, over IPC.
 *
 *   node --import tsx bench/server.ts   (DATABASE_PATH and the rest from the environment; forked by bench/run.ts)
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import express from 'express'
import { createApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { openDatabase } from '../src/data/database.js'
import { createLogger } from '../src/logger.js'
import { createServices } from '../src/services/container.js'

export type ServerMessage =
  | { type: 'ready'; port: number; barePort: number }
  | { type: 'stalls'; maxMs: number; p99Ms: number; intervalMaxMs: number }
export type ParentMessage = { type: 'bare-page'; body: string } | { type: 'reset-stalls' } | { type: 'read-stalls' }

function listen(app: express.Express): Promise<Server> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server))
  })
}

async function main(): Promise<void> {
  const config = loadConfig()
  const logger = createLogger(config.LOG_LEVEL)
  const db = openDatabase(config.DATABASE_PATH)
  const services = createServices(db, config, logger)
  const server = await listen(createApp(services))
  server.keepAliveTimeout = 60_000

  let barePage = Buffer.from('')
  const bare = express()
  bare.disable('x-powered-by')
  bare.set('etag', false) // as the app (its pages are no-store): the bare route is the ceiling for sending the bytes
  bare.get('/', (_req, res) => {
    res.type('html').send(barePage)
  })
  const bareServer = await listen(bare)
  bareServer.keepAliveTimeout = 60_000

  // Two views of the loop: the histogram of timer delays, and a 10 ms interval's worst lateness.
  const histogram = monitorEventLoopDelay({ resolution: 10 })
  histogram.enable()
  let intervalMaxMs = 0
  let last = performance.now()
  setInterval(() => {
    const now = performance.now()
    intervalMaxMs = Math.max(intervalMaxMs, now - last - 10)
    last = now
  }, 10).unref()

  process.on('message', (message: ParentMessage) => {
    if (message.type === 'bare-page') barePage = Buffer.from(message.body)
    if (message.type === 'reset-stalls') {
      histogram.reset()
      intervalMaxMs = 0
    }
    if (message.type === 'read-stalls') {
      const reply: ServerMessage = {
        type: 'stalls',
        maxMs: histogram.max / 1e6,
        p99Ms: histogram.percentile(99) / 1e6,
        intervalMaxMs,
      }
      process.send?.(reply)
    }
  })
  process.on('disconnect', () => process.exit(0))
  const ready: ServerMessage = {
    type: 'ready',
    port: (server.address() as AddressInfo).port,
    barePort: (bareServer.address() as AddressInfo).port,
  }
  process.send?.(ready)
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
