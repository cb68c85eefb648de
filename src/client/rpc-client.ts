/**
 * A generic asyncrpc client that behaves like BitBake's (asyncrpc.md §10): lazy connection,
 * one request in flight per client (others queue), and reconnect-and-retry on connection errors.
 */
import { parseAddress } from '../protocol/address.js'
import { DEFAULT_MAX_MESSAGE_BYTES } from '../protocol/chunking.js'
import { encodeJson } from '../protocol/codec.js'
import { ConnectionError, MessageTooLargeError, RpcError } from '../protocol/errors.js'
import type { Logger } from '../observability/logger.js'
import { ClientConnection } from './client-connection.js'
import type { ClientConnectionOptions } from './client-connection.js'

/** Default time to wait for each reply line, in ms (BitBake: 30 s). */
export const DEFAULT_CLIENT_TIMEOUT_MS = 30_000
/** Default time to open a connection, in ms: an unreachable server fails promptly. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000
/** Default attempts per request on connection errors (BitBake: 1 + 3 retries). */
export const DEFAULT_MAX_ATTEMPTS = 4

/** Settings of an RpcClient. */
export interface RpcClientOptions {
  /** Server address in BitBake syntax: `host:port`, `[v6]:port`, `unix://path`, `ws(s)://…`. */
  readonly address: string
  /** Handshake protocol name, e.g. 'PRSERVICE'. */
  readonly protocolName: string
  /** Handshake version text, e.g. '1.0'. */
  readonly protocolVersion: string
  /** Time allowed for each received line or message, in ms. */
  readonly timeoutMs?: number
  /** Time allowed to connect, in ms. */
  readonly connectTimeoutMs?: number
  /** Attempts per request on connection errors; an invoke-error is never retried. */
  readonly maxAttempts?: number
  /** Longest accepted reply line, in bytes. */
  readonly maxLineBytes?: number
  /** Largest accepted reply (chunk stream or WebSocket message), in bytes. */
  readonly maxMessageBytes?: number
  /** Receives a warning for every failed attempt that is retried. */
  readonly logger?: Logger
}

/** A client of one asyncrpc server. */
export interface RpcClient {
  /** The server address as given. */
  readonly address: string
  /**
   * Sends `{command: body}` and resolves with the reply message. Rejects with RemoteError for
   * an `invoke-error` reply, ConnectionError once every attempt failed or after close().
   */
  call(command: string, body: unknown): Promise<unknown>
  /** Closes the connection; later and pending calls fail. Idempotent. */
  close(): Promise<void>
}

/**
 * Whether a failed attempt is worth a fresh connection (EOF, reset, timeout, bad reply); a
 * reply over a size cap would be as large again.
 */
function isRetryable(err: unknown): boolean {
  if (err instanceof MessageTooLargeError) return false
  return (
    err instanceof RpcError && (err.code === 'connection_error' || err.code === 'protocol_error')
  )
}

class ReconnectingRpcClient implements RpcClient {
  readonly address: string
  readonly #connectionOptions: ClientConnectionOptions
  readonly #logger: Logger | undefined
  readonly #maxAttempts: number
  #connection: ClientConnection | null = null
  #queue: Promise<unknown> = Promise.resolve()
  #isClosed = false

  constructor(options: RpcClientOptions) {
    this.address = options.address
    this.#connectionOptions = {
      address: parseAddress(options.address),
      addressText: options.address,
      protocolName: options.protocolName,
      protocolVersion: options.protocolVersion,
      timeoutMs: options.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      ...(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes }),
    }
    this.#logger = options.logger
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS)
  }

  call(command: string, body: unknown): Promise<unknown> {
    const text = encodeJson({ [command]: body ?? null })
    const result = this.#queue.then(() => this.#callWithRetries(command, text))
    // The queue only orders calls; each caller sees its own outcome.
    this.#queue = result.catch(() => undefined)
    return result
  }

  async close(): Promise<void> {
    this.#isClosed = true
    await this.#dropConnection()
  }

  async #callWithRetries(command: string, text: string): Promise<unknown> {
    let lastError: unknown
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      if (this.#isClosed) throw new ConnectionError(`client of ${this.address} is closed`)
      try {
        this.#connection ??= await ClientConnection.open(this.#connectionOptions)
        return await this.#connection.request(text)
      } catch (err: unknown) {
        await this.#dropConnection()
        if (!isRetryable(err)) throw err
        lastError = err
        this.#logger?.warn({ err, address: this.address, command, attempt }, 'request failed')
      }
    }
    const reason = lastError instanceof Error ? lastError.message : String(lastError)
    const attempts = this.#maxAttempts === 1 ? '1 attempt' : `${this.#maxAttempts} attempts`
    throw new ConnectionError(`${command} failed after ${attempts}: ${reason}`, {
      cause: lastError,
    })
  }

  async #dropConnection(): Promise<void> {
    const connection = this.#connection
    this.#connection = null
    await connection?.close()
  }
}

/**
 * Creates a client; nothing is opened until the first call (like BitBake's clients). Throws
 * ConfigError at once for an address that does not parse.
 */
export function connectRpcClient(options: RpcClientOptions): RpcClient {
  return new ReconnectingRpcClient(options)
}
