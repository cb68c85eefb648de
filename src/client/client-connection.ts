/**
 * One client connection to an asyncrpc server: dial, send the handshake, then one request and
 * its reply at a time, with a timeout on every received frame (asyncrpc.md §10).
 */
import type { RpcAddress } from '../protocol/address.js'
import { ConnectionError, RemoteError } from '../protocol/errors.js'
import { formatClientHandshake } from '../protocol/handshake.js'
import type { MessageChannel } from '../transport/channel.js'
import { dialChannel } from '../transport/dial-channel.js'
import { MessageReader, sendEncodedMessage, sendFrames } from '../rpc/message-io.js'

/** Settings of one connection. */
export interface ClientConnectionOptions {
  readonly address: RpcAddress
  /** The address as the user wrote it, for error messages. */
  readonly addressText: string
  readonly protocolName: string
  readonly protocolVersion: string
  /** Time allowed for each received frame, in ms. */
  readonly timeoutMs: number
  /** Time allowed to connect, in ms. */
  readonly connectTimeoutMs: number
  readonly maxLineBytes?: number
  readonly maxMessageBytes: number
}

const INVOKE_ERROR_KEY = 'invoke-error'

function readInvokeError(reply: unknown): RemoteError | null {
  if (typeof reply !== 'object' || reply === null || !Object.hasOwn(reply, INVOKE_ERROR_KEY)) {
    return null
  }
  const detail: unknown = Reflect.get(reply, INVOKE_ERROR_KEY)
  const message: unknown =
    typeof detail === 'object' && detail !== null ? Reflect.get(detail, 'message') : undefined
  return new RemoteError(typeof message === 'string' ? message : JSON.stringify(detail))
}

/** An open, handshaken connection. Not safe for concurrent requests: the caller serialises. */
export class ClientConnection {
  readonly #channel: MessageChannel
  readonly #frames: AsyncIterator<string, unknown>
  readonly #reader: MessageReader
  readonly #options: ClientConnectionOptions
  #hasTimedOut = false

  private constructor(channel: MessageChannel, options: ClientConnectionOptions) {
    this.#channel = channel
    this.#options = options
    this.#frames = channel.frames()[Symbol.asyncIterator]()
    this.#reader = new MessageReader(() => this.#nextFrame(), channel.kind, options.maxMessageBytes)
  }

  /** Connects and sends the handshake (the server answers nothing, §5). */
  static async open(options: ClientConnectionOptions): Promise<ClientConnection> {
    const channel = await dialChannel(options.address, {
      addressText: options.addressText,
      connectTimeoutMs: options.connectTimeoutMs,
      maxMessageBytes: options.maxMessageBytes,
      ...(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes }),
    })
    try {
      await sendFrames(
        channel,
        formatClientHandshake(options.protocolName, options.protocolVersion),
      )
    } catch (err: unknown) {
      await channel.close()
      throw err
    }
    return new ClientConnection(channel, options)
  }

  /**
   * Sends one serialised message and reads its reply. Throws RemoteError for an `invoke-error` reply,
   * ConnectionError for EOF or a timeout, ProtocolError for a malformed reply.
   */
  async request(text: string): Promise<unknown> {
    await sendEncodedMessage(this.#channel, text)
    const read = await this.#reader.read()
    if (read.done) {
      const { addressText, timeoutMs } = this.#options
      throw new ConnectionError(
        this.#hasTimedOut
          ? `no reply from ${addressText} within ${timeoutMs} ms`
          : `connection closed by ${addressText}`,
      )
    }
    const remoteError = readInvokeError(read.message)
    if (remoteError !== null) throw remoteError
    return read.message
  }

  /** Closes the connection. Idempotent. */
  close(): Promise<void> {
    return this.#channel.close()
  }

  async #nextFrame(): Promise<string | undefined> {
    const timer = setTimeout(() => {
      this.#hasTimedOut = true
      void this.#channel.close()
    }, this.#options.timeoutMs)
    try {
      const result = await this.#frames.next()
      return result.done === true ? undefined : result.value
    } finally {
      clearTimeout(timer)
    }
  }
}
