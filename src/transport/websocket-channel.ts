/**
 * MessageChannel over a WebSocket (package `ws`): a frame is one text message, without newline
 * (asyncrpc.md §5.3, §8.6). Message size is capped by the socket's `maxPayload`.
 */
import { isUtf8 } from 'node:buffer'
import WebSocket from 'ws'
import type { RawData } from 'ws'
import { ConnectionError, ProtocolError } from '../protocol/errors.js'
import type { ChannelKind, MessageChannel } from './channel.js'
import { FrameQueue } from './frame-queue.js'
import { DEFAULT_CLOSE_LINGER_MS } from './stream-channel.js'

/** Buffered outgoing bytes above which sendFrame waits until the data is written. */
export const WEBSOCKET_HIGH_WATER_BYTES = 64 * 1024
/** Close code for a normal close. */
const NORMAL_CLOSURE = 1000

/** Options of a WebSocketChannel. */
export interface WebSocketChannelOptions {
  /** The peer's address for logs. */
  readonly peer: string
  /** How long close() waits for the closing handshake before terminating, in ms. */
  readonly closeLingerMs?: number
}

const RESOLVED = Promise.resolve()

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)
}

/** A message-framed channel over an open WebSocket. */
export class WebSocketChannel implements MessageChannel {
  readonly kind: ChannelKind = 'websocket'
  readonly peer: string
  readonly #socket: WebSocket
  readonly #queue: FrameQueue
  readonly #closeLingerMs: number
  readonly #closed: Promise<void>
  #closing: Promise<void> | null = null

  constructor(socket: WebSocket, options: WebSocketChannelOptions) {
    this.#socket = socket
    this.peer = options.peer
    this.#closeLingerMs = options.closeLingerMs ?? DEFAULT_CLOSE_LINGER_MS
    this.#queue = new FrameQueue({
      pause: () => {
        socket.pause()
      },
      resume: () => {
        socket.resume()
      },
    })
    this.#closed = new Promise((resolve) =>
      socket.once('close', () => {
        resolve()
      }),
    )
    socket.on('message', this.#socketOnMessage)
    socket.on('error', this.#socketOnError)
    socket.on('close', this.#socketOnClose)
  }

  frames(): AsyncIterable<string> {
    return this.#queue
  }

  sendFrame(text: string): Promise<void> {
    const socket = this.#socket
    if (this.#closing !== null || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new ConnectionError(`connection with ${this.peer} is closed`))
    }
    if (socket.bufferedAmount < WEBSOCKET_HIGH_WATER_BYTES) {
      socket.send(text)
      return RESOLVED
    }
    return new Promise((resolve, reject) => {
      socket.send(text, (err) => {
        if (err instanceof Error) {
          reject(new ConnectionError(`sending to ${this.peer} failed`, { cause: err }))
        } else {
          resolve()
        }
      })
    })
  }

  close(): Promise<void> {
    this.#closing ??= this.#closeSocket()
    return this.#closing
  }

  async #closeSocket(): Promise<void> {
    this.#queue.discard()
    const socket = this.#socket
    if (socket.readyState === WebSocket.CLOSED) return
    if (socket.isPaused) socket.resume()
    socket.close(NORMAL_CLOSURE)
    const timer = setTimeout(() => {
      socket.terminate()
    }, this.#closeLingerMs)
    await this.#closed
    clearTimeout(timer)
  }

  readonly #socketOnMessage = (data: RawData, isBinary: boolean): void => {
    if (this.#queue.isEnded) return
    const bytes = toBuffer(data)
    // Text messages were validated by ws; binary ones are accepted when they are UTF-8 text.
    if (isBinary && !isUtf8(bytes)) {
      this.#queue.fail(new ProtocolError('binary WebSocket message is not UTF-8 text'))
      return
    }
    this.#queue.push(bytes.toString('utf8'))
  }

  readonly #socketOnError = (err: Error): void => {
    // ws reports protocol violations (oversized or malformed frames) here, then closes.
    this.#queue.fail(new ProtocolError(`WebSocket error: ${err.message}`, { cause: err }))
  }

  readonly #socketOnClose = (): void => {
    this.#queue.end()
  }
}
