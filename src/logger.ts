import pino from 'pino'

export type Logger = pino.Logger

export function createLogger(level: string = 'info'): Logger {
  return pino({
    level,
    redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
  })
}
