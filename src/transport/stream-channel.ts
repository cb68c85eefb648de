/**
 * MessageChannel over a TCP or Unix stream socket: a frame is one line. Writes are held back
 * until the end of the event-loop iteration (cork) and honour backpressure; reading pauses while
 * the consumer lags behind.
 */
import type { Socket } from 'node:net'
import { ConnectionError, ProtocolError } from '../protocol/errors.js'
import { formatTcpAddress } from '../protocol/address.js'
import { LineFramer } from '../protocol/line-framer.js'
import type { ChannelKind, MessageChannel } from './channel.js'
import { FrameQueue } from './frame-queue.js'

/** TCP keepalive idle time, as BitBake's server sets it (asyncrpc.md §3). */
export const KEEPALIVE_INITIAL_DELAY_MS = 30_000
/** Default time close() waits for the peer to close its side before destroying the socket. */
export const DEFAULT_CLOSE_LINGER_MS = 2_000

/** Options of a StreamChannel. */
export interface StreamChannelOptions {
  /** The peer's address for logs; default derived from the socket. */
  readonly peer?: string
  /** Longest accepted line in bytes (see LineFramer). */
  readonly maxLineBytes?: number
  /** How long close() waits for the peer's FIN before destroying, in ms. */
  readonly closeLingerMs?: number
}

const RESOLVED = Promise.resolve()

/** Channels written to in this event-loop iteration, to uncork once its I/O is handled. */
let corkedChannels: (() => void)[] = []

function uncorkAll(): void {
  const uncorks = corkedChannels
  corkedChannels = []
  for (const uncork of uncorks) uncork()
}

/**
 * Defers `uncork` to the check phase of this loop iteration, after every socket that was ready
 * has been read and answered. Replies then leave in one burst per iteration instead of one
 * write between each two reads: every frame written in the iteration goes out in one system
 * call per socket, and a client process with many connections is woken once for many replies
 * rather than once per reply (bench/RESULTS.md, 2026-11-23: 1.4x `ping`, 1.8x `lookup`).
 */
function uncorkAtEndOfIteration(uncork: () => void): void {
  if (corkedChannels.length === 0) setImmediate(uncorkAll)
  corkedChannels.push(uncork)
}

/** The framer only throws ProtocolError; anything else is wrapped defensively. */
function asError(err: unknown): Error {
  return err instanceof Error ? err : new ProtocolError('framing failed', { cause: err })
}

/** The peer of a socket for logs: `host:port`, `[v6]:port`, or `unix` for Unix sockets. */
export function describeSocketPeer(socket: Socket): string {
  const { remoteAddress, remotePort } = socket
  if (remoteAddress === undefined || remotePort === undefined) return 'unix'
  return formatTcpAddress(remoteAddress, remotePort)
}

/** A line-framed channel over a connected net.Socket. */
export class StreamChannel implements MessageChannel {
  readonly kind: ChannelKind = 'stream'
  readonly peer: string
  readonly #socket: Socket
  readonly #framer: LineFramer
  readonly #queue: FrameQueue
  readonly #closeLingerMs: number
  readonly #closed: Promise<void>
  #isCorked = false
  #isSocketClosed = false
  #isClosing = false
  #drain: { promise: Promise<void>; resolve: () => void; reject: (err: unknown) => void } | null =
    null
  #closing: Promise<void> | null = null

  constructor(socket: Socket, options: StreamChannelOptions = {}) {
    this.#socket = socket
    this.peer = options.peer ?? describeSocketPeer(socket)
    this.#framer = new LineFramer(
      options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes },
    )
    this.#closeLingerMs = options.closeLingerMs ?? DEFAULT_CLOSE_LINGER_MS
    this.#queue = new FrameQueue({ pause: () => socket.pause(), resume: () => socket.resume() })
    this.#closed = new Promise((resolve) => socket.once('close', resolve))
    socket.setNoDelay(true)
    socket.setKeepAlive(true, KEEPALIVE_INITIAL_DELAY_MS)
    socket.on('data', this.#socketOnData)
    socket.on('end', this.#socketOnEnd)
    socket.on('error', this.#socketOnError)
    socket.on('drain', this.#socketOnDrain)
    socket.on('close', this.#socketOnClose)
  }

  frames(): AsyncIterable<string> {
    return this.#queue
  }

  sendFrame(text: string): Promise<void> {
    const socket = this.#socket
    if (this.#isClosing || this.#isSocketClosed || !socket.writable) {
      return Promise.reject(new ConnectionError(`connection with ${this.peer} is closed`))
    }
    if (!this.#isCorked) {
      this.#isCorked = true
      socket.cork()
      uncorkAtEndOfIteration(this.#uncork)
    }
    if (socket.write(text + '\n')) return RESOLVED
    return this.#waitForDrain()
  }

  close(): Promise<void> {
    this.#closing ??= this.#closeSocket()
    return this.#closing
  }

  async #closeSocket(): Promise<void> {
    this.#isClosing = true
    this.#queue.discard()
    if (this.#isSocketClosed) return
    const socket = this.#socket
    // Keep reading (and dropping) so unread input cannot turn our FIN into a reset that
    // destroys replies still in flight to the peer.
    socket.resume()
    socket.end()
    const timer = setTimeout(() => socket.destroy(), this.#closeLingerMs)
    await this.#closed
    clearTimeout(timer)
  }

  #waitForDrain(): Promise<void> {
    if (this.#drain === null) {
      let resolve: () => void = () => undefined
      let reject: (err: unknown) => void = () => undefined
      const promise = new Promise<void>((onResolve, onReject) => {
        resolve = onResolve
        reject = onReject
      })
      this.#drain = { promise, resolve, reject }
    }
    return this.#drain.promise
  }

  #settleDrain(err: unknown): void {
    const drain = this.#drain
    if (drain === null) return
    this.#drain = null
    if (err === undefined) drain.resolve()
    else drain.reject(err)
  }

  readonly #uncork = (): void => {
    this.#isCorked = false
    this.#socket.uncork()
  }

  readonly #pushLine = (line: string): void => {
    this.#queue.push(line)
  }

  readonly #socketOnData = (chunk: Buffer): void => {
    if (this.#queue.isEnded) return
    try {
      this.#framer.push(chunk, this.#pushLine)
    } catch (err: unknown) {
      this.#queue.fail(asError(err))
      // Drop further input rather than buffering it; the consumer will close.
      this.#socket.resume()
    }
  }

  readonly #socketOnEnd = (): void => {
    if (this.#queue.isEnded) return
    try {
      this.#framer.finish()
      this.#queue.end()
    } catch (err: unknown) {
      this.#queue.fail(asError(err))
    }
  }

  readonly #socketOnError = (err: Error): void => {
    const failure = new ConnectionError(`connection with ${this.peer} failed: ${err.message}`, {
      cause: err,
    })
    this.#queue.fail(failure)
    this.#settleDrain(failure)
  }

  readonly #socketOnDrain = (): void => {
    this.#settleDrain(undefined)
  }

  readonly #socketOnClose = (): void => {
    this.#isSocketClosed = true
    this.#queue.end()
    this.#settleDrain(new ConnectionError(`connection with ${this.peer} is closed`))
  }
}
