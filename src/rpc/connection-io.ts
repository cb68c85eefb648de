/** What a dialect loop (BitBake or JSON-RPC style) needs from the connection it runs on. */
import type { Logger } from '../observability/logger.js'
import type { DatasetMetrics } from '../observability/metrics.js'
import type { MessageChannel } from '../transport/channel.js'

/** Caps applied to one connection's input. */
export interface ConnectionLimits {
  /** Largest reassembled chunk-stream message, in bytes. */
  readonly maxMessageBytes: number
  /** Most handshake header lines. */
  readonly maxHeaderCount: number
}

/** A connection as seen by a dialect loop. */
export interface ConnectionIo {
  readonly channel: MessageChannel
  /** Child logger bound to the connection (`connId`, `peer`). */
  readonly log: Logger
  /** Where dispatched requests are counted and timed. */
  readonly metrics: DatasetMetrics
  /** The next received frame; undefined at the end of input or once a stop was requested. */
  nextFrame(): Promise<string | undefined>
  /** Whether the server asked this connection to stop; loops check it after every reply. */
  readonly isStopping: boolean
  /** Marks a request in flight (a stop then waits for its reply) or finished. */
  setBusy(isBusy: boolean): void
}
