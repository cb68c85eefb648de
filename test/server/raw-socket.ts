/**
 * A raw byte-level peer for server tests: writes exact bytes and records everything received,
 * with waits bounded by AbortSignal.timeout. Not a test file itself.
 */
import { EventEmitter, once } from 'node:events'
import { connect, createServer } from 'node:net'
import type { Socket } from 'node:net'
import type { TestContext } from 'node:test'
import { parseAddress } from '../../src/protocol/address.js'
import { withShortUnixPath } from '../../src/transport/unix-path.js'

/** Default bound on every wait, in ms. */
export const WAIT_MS = 5_000

/** A connected raw socket. */
export class RawSocket {
  readonly socket: Socket
  readonly #received: Buffer[] = []
  readonly #events = new EventEmitter()
  #isClosed = false
  #error: Error | null = null

  private constructor(socket: Socket) {
    this.socket = socket
    socket.on('data', (chunk: Buffer) => {
      this.#received.push(chunk)
      this.#events.emit('update')
    })
    socket.on('error', (err) => {
      this.#error = err
    })
    socket.on('close', () => {
      this.#isClosed = true
      this.#events.emit('update')
    })
  }

  /** Connects to a server address in BitBake syntax (TCP or Unix) and closes after the test. */
  static async connect(t: TestContext, address: string): Promise<RawSocket> {
    const parsed = parseAddress(address)
    const open = async (
      options: { host: string; port: number } | { path: string },
    ): Promise<Socket> => {
      const socket = connect(options)
      await once(socket, 'connect', { signal: AbortSignal.timeout(WAIT_MS) })
      return socket
    }
    let socket: Socket
    if (parsed.kind === 'tcp') socket = await open({ host: parsed.host, port: parsed.port })
    else if (parsed.kind === 'unix')
      socket = await withShortUnixPath(parsed.path, (path) => open({ path }))
    else throw new Error(`not a stream address: ${address}`)
    const raw = new RawSocket(socket)
    t.after(() => socket.destroy())
    return raw
  }

  /** Everything received so far, as text. */
  get text(): string {
    return Buffer.concat(this.#received).toString('utf8')
  }

  get isClosed(): boolean {
    return this.#isClosed
  }

  /** The socket error seen, if any (e.g. ECONNRESET). */
  get error(): Error | null {
    return this.#error
  }

  write(data: string | Buffer): void {
    this.socket.write(data)
  }

  /** Half-closes: the server still answers what it received, then closes. */
  end(data?: string): void {
    if (data === undefined) this.socket.end()
    else this.socket.end(data)
  }

  /** Waits until the received text satisfies `isReady`; returns the text. */
  async waitFor(isReady: (text: string) => boolean, waitMs = WAIT_MS): Promise<string> {
    const signal = AbortSignal.timeout(waitMs)
    while (!isReady(this.text)) {
      if (this.#isClosed)
        throw new Error(
          `closed before expected data; got ${JSON.stringify(this.text.slice(0, 200))}`,
        )
      await once(this.#events, 'update', { signal })
    }
    return this.text
  }

  /** Waits for at least `count` complete lines; returns all complete lines received. */
  async readLines(count: number, waitMs = WAIT_MS): Promise<string[]> {
    const text = await this.waitFor((t) => t.split('\n').length - 1 >= count, waitMs)
    return text.split('\n').slice(0, -1)
  }

  /** Waits until the server closed the connection; returns everything received. */
  async waitForClose(waitMs = WAIT_MS): Promise<string> {
    const signal = AbortSignal.timeout(waitMs)
    while (!this.#isClosed) await once(this.#events, 'update', { signal })
    return this.text
  }
}

/** Connects, sends `bytes`, half-closes, and returns all bytes received until the close. */
export async function exchange(
  t: TestContext,
  address: string,
  bytes: string | Buffer,
): Promise<string> {
  const raw = await RawSocket.connect(t, address)
  raw.write(bytes)
  raw.end()
  return raw.waitForClose()
}

/** The TESTSERVICE handshake, as BitBake clients send it. */
export const HANDSHAKE = 'TESTSERVICE 1.0\nneeds-headers: false\n\n'

/** Whether this machine can listen on the IPv6 loopback (IPv6 tests skip otherwise). */
export async function hasIpv6Loopback(): Promise<boolean> {
  const probe = createServer()
  try {
    probe.listen(0, '::1')
    await once(probe, 'listening')
    return true
  } catch {
    // EADDRNOTAVAIL and friends: no IPv6 loopback here.
    return false
  } finally {
    probe.close()
  }
}
