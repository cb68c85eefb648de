// Closed-loop clients: each connection sends one request, awaits its reply, sends the next.
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { describeError } from './describe-error.js'
import type { LoadResult, PrepareCommand } from './load-protocol.js'
import { LoadStats } from './load-stats.js'
import { WindowCpuMeter } from './process-cpu.js'
import { isExpectedReply } from './pr-requests.js'
import { createRequestSource, type BenchRequest } from './scenarios.js'
import { WireConnection } from './wire-connection.js'

const CONNECT_TIMEOUT_MS = 5_000
const RECONNECT_DELAY_MS = 100
const WATCHDOG_INTERVAL_MS = 500

interface ClientState {
  connection: WireConnection
  readonly nextRequest: () => BenchRequest
}

/** Connections opened for one run; `run` plays the scenario until the window ends. */
export class LoadLoop {
  readonly #command: PrepareCommand
  readonly #clients: ClientState[]

  private constructor(command: PrepareCommand, clients: ClientState[]) {
    this.#command = command
    this.#clients = clients
  }

  /** Opens (and hand-shakes) every connection this process owns. */
  static async prepare(command: PrepareCommand): Promise<LoadLoop> {
    const clients = await Promise.all(
      command.connectionIndexes.map(async (connectionIndex) => ({
        connection: await WireConnection.open(command.host, command.port, CONNECT_TIMEOUT_MS),
        // 16 random hex digits per connection keep allocation checksums unique across runs.
        nextRequest: createRequestSource(
          command.spec,
          connectionIndex,
          randomBytes(8).toString('hex'),
        ),
      })),
    )
    return new LoadLoop(command, clients)
  }

  /** Runs until `measureEndMs` (performance.now() scale), then waits for replies in flight. */
  async run(warmupEndMs: number, measureEndMs: number): Promise<LoadResult> {
    const stats = new LoadStats(warmupEndMs, measureEndMs)
    const watchdog = setInterval(() => {
      this.#abortOverdueRequests()
    }, WATCHDOG_INTERVAL_MS)
    const cpu = new WindowCpuMeter(warmupEndMs, measureEndMs)
    try {
      await Promise.all(this.#clients.map((client) => this.#runClient(client, stats, measureEndMs)))
    } finally {
      clearInterval(watchdog)
      cpu.close()
    }
    return stats.toResult(cpu.cpuMs)
  }

  async close(): Promise<void> {
    await Promise.all(this.#clients.map((client) => client.connection.close()))
  }

  async #runClient(client: ClientState, stats: LoadStats, measureEndMs: number): Promise<void> {
    for (;;) {
      const sentMs = performance.now()
      if (sentMs >= measureEndMs) return
      const request = client.nextRequest()
      try {
        const line = await client.connection.request(request.line)
        const doneMs = performance.now()
        if (isExpectedReply(request.kind, parseJsonLine(line))) {
          stats.recordSuccess(request.kind === 'alloc', sentMs, doneMs)
        } else {
          stats.recordError(`unexpected reply to ${request.kind}: ${line.slice(0, 200)}`)
        }
      } catch (error: unknown) {
        stats.recordError(`${request.kind}: ${describeError(error)}`)
        await this.#reconnect(client, stats, measureEndMs)
      }
    }
  }

  async #reconnect(client: ClientState, stats: LoadStats, measureEndMs: number): Promise<void> {
    await client.connection.close()
    while (performance.now() < measureEndMs) {
      try {
        const { host, port } = this.#command
        client.connection = await WireConnection.open(host, port, CONNECT_TIMEOUT_MS)
        return
      } catch (error: unknown) {
        stats.recordError(`reconnect: ${describeError(error)}`)
        await sleep(RECONNECT_DELAY_MS)
      }
    }
  }

  #abortOverdueRequests(): void {
    const nowMs = performance.now()
    for (const { connection } of this.#clients) {
      const sinceMs = connection.inFlightSinceMs
      if (sinceMs !== null && nowMs - sinceMs > this.#command.requestTimeoutMs) {
        connection.abort(`no reply within ${this.#command.requestTimeoutMs} ms`)
      }
    }
  }
}

/** Parses a reply line; an unparsable line yields undefined, which no check accepts. */
function parseJsonLine(line: string): unknown {
  try {
    return JSON.parse(line)
  } catch (error: unknown) {
    // A malformed reply is counted as an error by the caller's reply check.
    if (error instanceof SyntaxError) return undefined
    throw error
  }
}
