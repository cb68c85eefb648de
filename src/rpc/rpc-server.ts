/**
 * The RPC server: listens on BitBake addresses, serves each connection with the service's
 * method table, caps open connections, and shuts down gracefully.
 */
import { DEFAULT_MAX_MESSAGE_BYTES } from '../protocol/chunking.js'
import { DEFAULT_MAX_HEADER_COUNT } from '../protocol/handshake.js'
import { DEFAULT_MAX_LINE_BYTES } from '../protocol/line-framer.js'
import type { Logger } from '../observability/logger.js'
import type { MessageChannel } from '../transport/channel.js'
import { openListeners } from '../transport/listeners.js'
import type { Listener } from '../transport/listeners.js'
import { RpcConnection } from './connection.js'
import { indexMethods } from './dispatcher.js'
import type { RpcService } from './method.js'
import { metricsForDataset, NO_METRICS } from '../observability/metrics.js'
import type { DatasetMetrics } from '../observability/metrics.js'

/** Default cap on open connections. */
export const DEFAULT_MAX_CONNECTIONS = 1000
/** Default time close() lets in-flight requests finish before cutting connections, in ms. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000

/** How to run a service. */
export interface RpcServerOptions<Session> {
  readonly service: RpcService<Session>
  /** Addresses in BitBake syntax: `host:port`, `[v6]:port`, `unix://path`, `ws://host:port`. */
  readonly listen: readonly string[]
  readonly logger: Logger
  /** Most open connections; one more is closed at once. Default DEFAULT_MAX_CONNECTIONS. */
  readonly maxConnections?: number
  /** Longest line on stream sockets, in bytes. Default DEFAULT_MAX_LINE_BYTES. */
  readonly maxLineBytes?: number
  /** Largest chunk-stream message or WebSocket message, in bytes. */
  readonly maxMessageBytes?: number
  /** Most handshake header lines. Default DEFAULT_MAX_HEADER_COUNT. */
  readonly maxHeaderCount?: number
  /** Grace period of close() for in-flight requests, in ms. */
  readonly closeTimeoutMs?: number
  /** Where requests and connections are counted; default none. */
  readonly metrics?: DatasetMetrics
}

/** A running server. */
export interface RpcServerHandle {
  /** Every listening address, in BitBake syntax, in the order of `listen`. */
  readonly addresses: readonly string[]
  /**
   * Stops accepting, closes the listeners (removing Unix socket files), lets in-flight requests
   * finish and closes every connection. Idempotent.
   */
  close(): Promise<void>
}

function waitWithTimeout(promise: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => {
      resolve(false)
    }, timeoutMs)
  })
  return Promise.race([promise.then(() => true), timeout]).finally(() => {
    clearTimeout(timer)
  })
}

/** Starts serving `service` on every address of `listen`; rejects if any cannot be bound. */
export async function startRpcServer<Session>(
  options: RpcServerOptions<Session>,
): Promise<RpcServerHandle> {
  const { service, logger } = options
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS
  const metrics = options.metrics ?? metricsForDataset(NO_METRICS, '')
  const connectionOptions = {
    service,
    methodIndex: indexMethods(service.methods),
    limits: {
      maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      maxHeaderCount: options.maxHeaderCount ?? DEFAULT_MAX_HEADER_COUNT,
    },
  }
  const running = new Map<RpcConnection<Session>, Promise<void>>()
  let nextConnId = 1
  let isClosing = false

  const onChannel = (channel: MessageChannel): void => {
    if (isClosing) {
      void channel.close()
      return
    }
    if (running.size >= maxConnections) {
      logger.warn(
        { peer: channel.peer, maxConnections },
        'connection refused: too many connections',
      )
      void channel.close()
      return
    }
    const log = logger.child({ connId: nextConnId++, peer: channel.peer })
    const connection = new RpcConnection(channel, { ...connectionOptions, log, metrics })
    running.set(
      connection,
      connection.run().finally(() => running.delete(connection)),
    )
  }

  const listenOptions = {
    onChannel,
    maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    maxMessageBytes: connectionOptions.limits.maxMessageBytes,
    log: logger,
  }
  const listeners: Listener[] = []
  try {
    for (const address of options.listen)
      listeners.push(...(await openListeners(address, listenOptions)))
  } catch (err: unknown) {
    await Promise.all(listeners.map((listener) => listener.close()))
    throw err
  }

  let closing: Promise<void> | null = null
  const closeServer = async (): Promise<void> => {
    isClosing = true
    const listenersClosed = Promise.all(listeners.map((listener) => listener.close()))
    for (const connection of running.keys()) connection.stop()
    const closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS
    const hasDrained = await waitWithTimeout(Promise.all(running.values()), closeTimeoutMs)
    if (!hasDrained) {
      logger.warn(
        { connections: running.size },
        'requests still running at shutdown; closing their connections',
      )
      await Promise.all([...running.keys()].map((connection) => connection.abort()))
    }
    await listenersClosed
  }
  return {
    addresses: listeners.map((listener) => listener.address),
    close: () => (closing ??= closeServer()),
  }
}
