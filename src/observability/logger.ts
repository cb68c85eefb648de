/** Creates the root structured (JSON) logger; everything else receives a child of it. */
import { pino } from 'pino'
import type { DestinationStream, Logger as PinoLogger } from 'pino'

/** The logger type passed through the code base. */
export type Logger = PinoLogger

/** Log levels accepted by `--log-level`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** Root logger writing JSON lines to `destination` (stderr by default). */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { pid: process.pid },
    redact: { paths: ['config.database', '*.password'], censor: '[redacted]' },
  }
  return destination === undefined ? pino(options, pino.destination(2)) : pino(options, destination)
}
