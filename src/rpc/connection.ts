/**
 * One client connection: picks the dialect from the first frame, runs it, and always ends by
 * closing the channel. Nothing a client sends can make it throw; failures are logged here.
 */
import { RpcError } from '../protocol/errors.js'
import type { Logger } from '../observability/logger.js'
import type { DatasetMetrics } from '../observability/metrics.js'
import type { MessageChannel } from '../transport/channel.js'
import { serveBitbakeDialect } from './bitbake-dialect.js'
import type { ConnectionIo, ConnectionLimits } from './connection-io.js'
import { logRequestFailure, toWireError } from './dispatcher.js'
import { serveJsonRpcDialect } from './json-rpc-dialect.js'
import type { MethodDefinition, RpcService } from './method.js'

/** What a connection serves, and how. */
export interface RpcConnectionOptions<Session> {
  readonly service: RpcService<Session>
  /** The service's methods by name (for the JSON-RPC style dialect). */
  readonly methodIndex: ReadonlyMap<string, MethodDefinition<Session>>
  readonly limits: ConnectionLimits
  /** Child logger bound to this connection. */
  readonly log: Logger
  /** The dataset's metrics (requests and connections). */
  readonly metrics: DatasetMetrics
}

const NO_FRAME = Promise.resolve(undefined)

function toFrame(result: IteratorResult<string, unknown>): string | undefined {
  return result.done === true ? undefined : result.value
}

/** A served connection. `run()` once; `stop()` ends it gracefully after the current reply. */
export class RpcConnection<Session> implements ConnectionIo {
  readonly channel: MessageChannel
  readonly log: Logger
  readonly metrics: DatasetMetrics
  readonly #options: RpcConnectionOptions<Session>
  readonly #frames: AsyncIterator<string, unknown>
  #isStopping = false
  #isBusy = false

  constructor(channel: MessageChannel, options: RpcConnectionOptions<Session>) {
    this.channel = channel
    this.log = options.log
    this.metrics = options.metrics
    this.#options = options
    this.#frames = channel.frames()[Symbol.asyncIterator]()
  }

  get isStopping(): boolean {
    return this.#isStopping
  }

  nextFrame(): Promise<string | undefined> {
    if (this.#isStopping) return NO_FRAME
    return this.#frames.next().then(toFrame)
  }

  setBusy(isBusy: boolean): void {
    this.#isBusy = isBusy
  }

  /** Serves the connection until it ends; never rejects. */
  async run(): Promise<void> {
    const { service, methodIndex, limits } = this.#options
    this.log.debug('connection opened')
    this.metrics.recordConnection(1)
    try {
      const ctx = {
        peer: this.channel.peer,
        log: this.log,
        session: service.createSession(this.channel.peer),
      }
      const first = await this.nextFrame()
      if (first === undefined) return
      if (first.startsWith('{')) await serveJsonRpcDialect(this, methodIndex, ctx, first)
      else await serveBitbakeDialect(this, service, ctx, first, limits)
    } catch (err: unknown) {
      this.#logFailure(err)
    } finally {
      await this.channel.close()
      this.metrics.recordConnection(-1)
      this.log.debug('connection closed')
    }
  }

  /** Asks the connection to end: at once when idle, else right after the current reply. */
  stop(): void {
    if (this.#isStopping) return
    this.#isStopping = true
    // An idle connection is waiting for a frame; closing the channel ends that wait.
    if (!this.#isBusy) void this.channel.close()
  }

  /** Closes the channel now, whatever is in flight (shutdown after its grace period). */
  abort(): Promise<void> {
    this.#isStopping = true
    return this.channel.close()
  }

  #logFailure(err: unknown): void {
    if (err instanceof RpcError && err.code === 'connection_error') {
      this.log.debug({ reason: err.message }, 'connection lost')
      return
    }
    const wire = toWireError(err)
    if (wire.code === 'protocol_error') {
      this.log.debug({ reason: wire.message }, 'protocol error; closing without reply')
      return
    }
    logRequestFailure(this.log, err, wire)
  }
}
