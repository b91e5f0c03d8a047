import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { RequestHandler } from 'express'
import { pinoHttp } from 'pino-http'
import type { Logger } from './logger.js'

export const REQUEST_ID_HEADER = 'X-Request-Id'

/** An id a proxy or a caller may send: short, and only characters that are safe in a header and a log line. */
const SANE_REQUEST_ID = /^[\w.:+/=@-]{1,128}$/

/** The request's incoming `X-Request-Id` when it is sane, else a new random one. */
export function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id']
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID()
}

export interface RequestLogOptions {
  /** Log a line for each request at `info` (off in tests). */
  logRequests: boolean
}

/**
 * Gives every request an id, answered in `X-Request-Id`, and `req.log`: a logger whose every line carries it as
 * `reqId`. Mount first, so every later middleware and the error handler can use `req.log`.
 *
 * When request lines are logged (at `info`), pino-http binds the request to a child logger: that serialises the
 * request's headers on every request, a tenth of a kept dashboard page's CPU. Below `info` nothing of that is written,
 * so `req.log` is instead a child made only when a route first logs: a request that logs nothing creates no logger.
 */
export function setUpRequestLog(logger: Logger, options: RequestLogOptions): RequestHandler {
  const requestLine =
    options.logRequests && logger.isLevelEnabled('info')
      ? pinoHttp({ logger, genReqId: requestIdOf, quietReqLogger: true })
      : null
  return (req, res, next) => {
    const id = requestIdOf(req)
    req.id = id
    res.setHeader(REQUEST_ID_HEADER, id)
    if (requestLine) return requestLine(req, res, next)
    let log: Logger | undefined
    Object.defineProperty(req, 'log', {
      configurable: true,
      get: () => (log ??= logger.child({ reqId: id })),
      set: (value: Logger) => {
        log = value
      },
    })
    next()
  }
}
