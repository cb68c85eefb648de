/**
 * A raw WebSocket peer for server tests: sends exact text messages and records those received.
 * Not a test file itself.
 */
import { EventEmitter, once } from 'node:events'
import type { TestContext } from 'node:test'
import WebSocket from 'ws'
import { WAIT_MS } from './raw-socket.js'

/** An open WebSocket with everything it received. */
export class WebSocketPeer {
  readonly socket: WebSocket
  readonly messages: string[] = []
  readonly #events = new EventEmitter()
  #closeCode: number | null = null

  private constructor(socket: WebSocket) {
    this.socket = socket
    socket.on('message', (data: WebSocket.RawData) => {
      const bytes = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data)
      this.messages.push(bytes.toString('utf8'))
      this.#events.emit('update')
    })
    socket.on('close', (code: number) => {
      this.#closeCode = code
      this.#events.emit('update')
    })
    socket.on('error', () => undefined)
  }

  /** Opens `url` and closes the socket after the test. */
  static async open(t: TestContext, url: string): Promise<WebSocketPeer> {
    const socket = new WebSocket(url)
    const peer = new WebSocketPeer(socket)
    t.after(() => {
      socket.terminate()
    })
    await once(socket, 'open', { signal: AbortSignal.timeout(WAIT_MS) })
    return peer
  }

  /** Sends each text as one message. */
  send(...texts: string[]): void {
    for (const text of texts) this.socket.send(text)
  }

  /** Waits for at least `count` messages; returns all received. */
  async readMessages(count: number): Promise<string[]> {
    const signal = AbortSignal.timeout(WAIT_MS)
    while (this.messages.length < count) {
      if (this.#closeCode !== null) throw new Error(`closed after ${JSON.stringify(this.messages)}`)
      await once(this.#events, 'update', { signal })
    }
    return this.messages
  }

  /** Waits until the server closed; returns the close code. */
  async waitForClose(): Promise<number> {
    const signal = AbortSignal.timeout(WAIT_MS)
    while (this.#closeCode === null) await once(this.#events, 'update', { signal })
    return this.#closeCode
  }
}
