import pino from 'pino'

export type Logger = pino.Logger

/** JSON lines to stdout, or to `destination` (tests). Credentials a request sent are never written. */
export function createLogger(level: string = 'info', destination?: pino.DestinationStream): Logger {
  const options = { level, redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'] }
  return destination ? pino(options, destination) : pino(options)
}
