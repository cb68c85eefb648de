/**
 * PrUpstream over the wire: a small pool of PR clients to the upstream server, so concurrent
 * requests do not queue behind one connection, with prompt failures mapped to UpstreamError.
 */
import { UpstreamError } from '../protocol/errors.js'
import type { PackageKey, PrKey } from '../services/prserv/pr-store.js'
import type { PrUpstream } from '../services/prserv/pr-upstream.js'
import { PrClient } from './pr-client.js'

/** Default number of connections kept to the upstream. */
export const DEFAULT_UPSTREAM_POOL_SIZE = 8
/** Default time to open an upstream connection: well under BitBake's 30 s client timeout. */
export const DEFAULT_UPSTREAM_CONNECT_TIMEOUT_MS = 3000
/** Default time to wait for one upstream reply. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 10000

/** Settings of the upstream pool. */
export interface PrUpstreamClientOptions {
  readonly address: string
  readonly poolSize?: number
  readonly connectTimeoutMs?: number
  readonly timeoutMs?: number
}

/** An upstream PR server reached through a pool of PrClients. */
export class PrUpstreamClient implements PrUpstream {
  readonly #address: string
  readonly #idle: PrClient[] = []
  readonly #all: PrClient[] = []
  readonly #waiters: ((client: PrClient) => void)[] = []
  readonly #poolSize: number
  readonly #clientOptions: ConstructorParameters<typeof PrClient>[0]
  #isClosed = false

  constructor(options: PrUpstreamClientOptions) {
    this.#address = options.address
    this.#poolSize = options.poolSize ?? DEFAULT_UPSTREAM_POOL_SIZE
    this.#clientOptions = {
      address: options.address,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_UPSTREAM_CONNECT_TIMEOUT_MS,
      timeoutMs: options.timeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
      // One retry covers a connection the upstream closed while idle; more would delay errors.
      maxAttempts: 2,
    }
  }

  async maxPackagePr(pkg: PackageKey): Promise<string | null> {
    return this.#withClient('max-package-pr', (client) => client.maxPackagePr(pkg))
  }

  async testPr(key: PrKey): Promise<string | null> {
    return this.#withClient('test-pr', (client) => client.testPr(key, false))
  }

  async close(): Promise<void> {
    if (this.#isClosed) return
    this.#isClosed = true
    await Promise.all(this.#all.map((client) => client.close()))
  }

  async #withClient<T>(command: string, run: (client: PrClient) => Promise<T>): Promise<T> {
    if (this.#isClosed) throw new UpstreamError('upstream client is closed')
    const client = await this.#acquire()
    try {
      return await run(client)
    } catch (err: unknown) {
      const reason = err instanceof Error ? err.message : String(err)
      throw new UpstreamError(`upstream PR server ${this.#address} failed ${command}: ${reason}`, {
        cause: err,
      })
    } finally {
      this.#release(client)
    }
  }

  async #acquire(): Promise<PrClient> {
    const idle = this.#idle.pop()
    if (idle !== undefined) return idle
    if (this.#all.length < this.#poolSize) {
      const client = new PrClient(this.#clientOptions)
      this.#all.push(client)
      return client
    }
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  #release(client: PrClient): void {
    const waiter = this.#waiters.shift()
    if (waiter === undefined) this.#idle.push(client)
    else waiter(client)
  }
}
