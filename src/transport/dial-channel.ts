/**
 * Opens a client MessageChannel to a parsed address: TCP, Unix socket (long paths too) or
 * WebSocket, failing promptly with a ConnectionError that names the address.
 */
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import WebSocket from 'ws'
import type { RpcAddress } from '../protocol/address.js'
import { ConnectionError } from '../protocol/errors.js'
import type { MessageChannel } from './channel.js'
import { KEEPALIVE_INITIAL_DELAY_MS, StreamChannel } from './stream-channel.js'
import { withShortUnixPath } from './unix-path.js'
import { WebSocketChannel } from './websocket-channel.js'

/** How to open a client channel. */
export interface DialOptions {
  /** The address as the user wrote it, for messages and logs. */
  readonly addressText: string
  /** Time allowed to establish the connection (and the WebSocket upgrade), in ms. */
  readonly connectTimeoutMs: number
  /** Longest accepted reply line on stream sockets, in bytes. */
  readonly maxLineBytes?: number
  /** Largest accepted WebSocket message, in bytes. */
  readonly maxMessageBytes: number
}

/**
 * A client closes when it expects nothing more (done, timed out or failed), so it does not wait
 * for the server's side of the close: a stuck server must not delay the next attempt.
 */
const CLIENT_CLOSE_LINGER_MS = 0

function describeFailure(err: unknown): string {
  if (err instanceof Error)
    return 'code' in err && typeof err.code === 'string' ? err.code : err.message
  return String(err)
}

function connectSocket(
  target: { readonly host: string; readonly port: number } | { readonly path: string },
  options: DialOptions,
): Promise<MessageChannel> {
  const { addressText, connectTimeoutMs } = options
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({
      ...target,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: KEEPALIVE_INITIAL_DELAY_MS,
    })
    const timer = setTimeout(() => {
      socket.destroy()
      reject(
        new ConnectionError(`connecting to ${addressText} timed out after ${connectTimeoutMs} ms`),
      )
    }, connectTimeoutMs)
    const socketOnError = (err: Error): void => {
      clearTimeout(timer)
      reject(
        new ConnectionError(`cannot connect to ${addressText}: ${describeFailure(err)}`, {
          cause: err,
        }),
      )
    }
    socket.on('error', socketOnError)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.off('error', socketOnError)
      const maxLineBytes = options.maxLineBytes
      resolve(
        new StreamChannel(socket, {
          peer: addressText,
          closeLingerMs: CLIENT_CLOSE_LINGER_MS,
          ...(maxLineBytes === undefined ? {} : { maxLineBytes }),
        }),
      )
    })
  })
}

function connectWebSocket(url: string, options: DialOptions): Promise<MessageChannel> {
  const { addressText, connectTimeoutMs } = options
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, {
      perMessageDeflate: false,
      maxPayload: options.maxMessageBytes,
      handshakeTimeout: connectTimeoutMs,
    })
    const socketOnError = (err: Error): void => {
      reject(
        new ConnectionError(`cannot connect to ${addressText}: ${err.message}`, { cause: err }),
      )
    }
    socket.on('error', socketOnError)
    socket.once('open', () => {
      socket.off('error', socketOnError)
      resolve(
        new WebSocketChannel(socket, { peer: addressText, closeLingerMs: CLIENT_CLOSE_LINGER_MS }),
      )
    })
  })
}

/** Connects to `address`; rejects with ConnectionError (refused, unreachable, timed out). */
export async function dialChannel(
  address: RpcAddress,
  options: DialOptions,
): Promise<MessageChannel> {
  switch (address.kind) {
    case 'tcp':
      return connectSocket(
        { host: address.host === '' ? 'localhost' : address.host, port: address.port },
        options,
      )
    case 'unix':
      return withShortUnixPath(address.path, (path) => connectSocket({ path }, options))
    case 'websocket':
      return connectWebSocket(address.url, options)
  }
}
