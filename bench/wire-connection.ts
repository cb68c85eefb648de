// One client connection speaking BitBake's PR protocol over TCP: handshake, then one request
// line in flight at a time (as BitBake's client does), replies split on LF by a minimal parser.
import { Socket } from 'node:net'

/** Exactly what BitBake >= 2.9 sends first (asyncrpc.md §5.1). */
export const PR_HANDSHAKE = 'PRSERVICE 1.0\nneeds-headers: false\n\n'

/** A reply line longer than this is a protocol error (replies in this bench are tiny). */
const MAX_REPLY_BYTES = 1024 * 1024

export class WireConnectionError extends Error {
  override name = 'WireConnectionError'
}

interface PendingRequest {
  readonly resolve: (line: string) => void
  readonly reject: (error: Error) => void
}

export class WireConnection {
  readonly #socket: Socket
  #buffer = ''
  #pending: PendingRequest | null = null
  #closeError: Error | null = null
  /** performance.now() when the request in flight was sent, or null when idle. */
  inFlightSinceMs: number | null = null

  private constructor(socket: Socket) {
    this.#socket = socket
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      this.#socketOnData(chunk)
    })
    socket.on('error', (error: Error) => {
      this.#fail(error)
    })
    socket.on('close', () => {
      this.#fail(new WireConnectionError('connection closed by the server'))
    })
  }

  /** Connects and sends the handshake; rejects after `connectTimeoutMs`. */
  static async open(host: string, port: number, connectTimeoutMs: number): Promise<WireConnection> {
    const socket = new Socket()
    socket.setNoDelay(true)
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy()
        reject(new WireConnectionError(`connect to ${host}:${port} timed out`))
      }, connectTimeoutMs)
      socket.once('error', (error: Error) => {
        clearTimeout(timer)
        reject(error)
      })
      socket.connect(port, host, () => {
        clearTimeout(timer)
        socket.removeAllListeners('error')
        resolve()
      })
    })
    const connection = new WireConnection(socket)
    socket.write(PR_HANDSHAKE)
    return connection
  }

  /** Sends one request line (no LF) and resolves with the reply line. */
  request(line: string): Promise<string> {
    if (this.#closeError !== null) return Promise.reject(this.#closeError)
    if (this.#pending !== null) {
      return Promise.reject(new WireConnectionError('a request is already in flight'))
    }
    return new Promise<string>((resolve, reject) => {
      this.#pending = { resolve, reject }
      this.inFlightSinceMs = performance.now()
      this.#socket.write(line + '\n')
    })
  }

  /** Fails the request in flight (used by the request-timeout watchdog) and closes. */
  abort(reason: string): void {
    this.#fail(new WireConnectionError(reason))
    this.#socket.destroy()
  }

  close(): Promise<void> {
    if (this.#socket.destroyed) return Promise.resolve()
    return new Promise((resolve) => {
      this.#socket.once('close', () => {
        resolve()
      })
      // `null` ends the session without a reply (asyncrpc.md §6.3), then we close our side.
      this.#socket.end('null\n')
      setTimeout(() => this.#socket.destroy(), 1000).unref()
    })
  }

  #socketOnData(chunk: string): void {
    this.#buffer += chunk
    let newlineIndex = this.#buffer.indexOf('\n')
    while (newlineIndex !== -1) {
      const line = this.#buffer.slice(0, newlineIndex)
      this.#buffer = this.#buffer.slice(newlineIndex + 1)
      const pending = this.#pending
      if (pending === null) {
        this.abort('reply received with no request in flight')
        return
      }
      this.#pending = null
      this.inFlightSinceMs = null
      pending.resolve(line)
      newlineIndex = this.#buffer.indexOf('\n')
    }
    if (this.#buffer.length > MAX_REPLY_BYTES) this.abort('reply line too long')
  }

  #fail(error: Error): void {
    this.#closeError ??= error
    const pending = this.#pending
    this.#pending = null
    this.inFlightSinceMs = null
    pending?.reject(error)
  }
}
