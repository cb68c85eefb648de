// The coordinator's side of the load processes: forks them once, hands each run its share of the
// connections, starts every share at one instant and merges the results.
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { isLoadEvent, type LoadCommand, type LoadEvent, type LoadResult } from './load-protocol.js'
import type { RunSpec } from './scenarios.js'

const PREPARE_TIMEOUT_MS = 30_000
/** Slack on top of warm-up, window and request timeout before a load process is presumed hung. */
const RESULT_SLACK_MS = 15_000

/** One measured run as the coordinator sees it. */
export interface LoadRunRequest {
  readonly host: string
  readonly port: number
  readonly spec: RunSpec
  readonly connectionCount: number
  readonly warmupMs: number
  readonly durationMs: number
  readonly requestTimeoutMs: number
  /** Called once the window is fixed (epoch milliseconds), e.g. to sample server CPU. */
  readonly onWindow?: (warmupEndEpochMs: number, measureEndEpochMs: number) => void
}

class LoadWorker {
  readonly #child: ChildProcess
  readonly #events: LoadEvent[] = []
  #waiter: ((event: LoadEvent) => void) | null = null

  constructor(child: ChildProcess) {
    this.#child = child
    child.on('message', (message: unknown) => {
      if (isLoadEvent(message)) this.#push(message)
    })
    child.on('exit', (code: number | null) => {
      this.#push({ type: 'failed', message: `load process exited (code ${String(code)})` })
    })
  }

  /** Drops events left over from a failed run. */
  discardEvents(): void {
    this.#events.length = 0
  }

  send(command: LoadCommand): void {
    this.#child.send(command)
  }

  /** The next event, or a `failed` event after `timeoutMs`. */
  async nextEvent(timeoutMs: number): Promise<LoadEvent> {
    const queued = this.#events.shift()
    if (queued !== undefined) return queued
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiter = null
        resolve({ type: 'failed', message: `load process silent for ${timeoutMs} ms` })
      }, timeoutMs)
      this.#waiter = (event) => {
        clearTimeout(timer)
        resolve(event)
      }
    })
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null || !this.#child.connected) return
    const exited = new Promise((resolve) => this.#child.once('exit', resolve))
    this.send({ type: 'exit' })
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
  }

  #push(event: LoadEvent): void {
    const waiter = this.#waiter
    this.#waiter = null
    if (waiter === null) this.#events.push(event)
    else waiter(event)
  }
}

export class LoadPool {
  readonly #workers: readonly LoadWorker[]

  private constructor(workers: readonly LoadWorker[]) {
    this.#workers = workers
  }

  /** Forks `processCount` load processes running load-process.ts through the tsx loader. */
  static start(processCount: number): LoadPool {
    const entry = fileURLToPath(new URL('./load-process.ts', import.meta.url))
    const workers = Array.from({ length: processCount }, () => {
      const child = fork(entry, [], {
        execArgv: ['--import', import.meta.resolve('tsx')],
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
      return new LoadWorker(child)
    })
    return new LoadPool(workers)
  }

  /** Plays one scenario at one connection count; connection i goes to process i mod N. */
  async run(request: LoadRunRequest): Promise<LoadResult[]> {
    const shares = this.#workers
      .map((worker, workerIndex) => ({
        worker,
        connectionIndexes: Array.from({ length: request.connectionCount }, (_, i) => i).filter(
          (i) => i % this.#workers.length === workerIndex,
        ),
      }))
      .filter((share) => share.connectionIndexes.length > 0)
    for (const { worker, connectionIndexes } of shares) {
      worker.discardEvents()
      const { host, port, spec, requestTimeoutMs } = request
      worker.send({ type: 'prepare', host, port, spec, connectionIndexes, requestTimeoutMs })
    }
    for (const { worker } of shares) expectEvent(await worker.nextEvent(PREPARE_TIMEOUT_MS))
    const warmupEndEpochMs = Date.now() + request.warmupMs
    const measureEndEpochMs = warmupEndEpochMs + request.durationMs
    for (const { worker } of shares) {
      worker.send({ type: 'start', warmupEndEpochMs, measureEndEpochMs })
    }
    request.onWindow?.(warmupEndEpochMs, measureEndEpochMs)
    const resultTimeoutMs =
      request.warmupMs + request.durationMs + request.requestTimeoutMs + RESULT_SLACK_MS
    const results: LoadResult[] = []
    for (const { worker } of shares) {
      const event = expectEvent(await worker.nextEvent(resultTimeoutMs))
      if (event.type === 'result') results.push(event.result)
    }
    return results
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.close()))
  }
}

export class LoadProcessError extends Error {
  override name = 'LoadProcessError'
}

function expectEvent(event: LoadEvent): LoadEvent {
  if (event.type === 'failed') throw new LoadProcessError(event.message)
  return event
}
