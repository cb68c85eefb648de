/**
 * The main-thread side of the SQLite writer: a bounded queue of write operations feeding one
 * worker thread, with group commit. A batch is posted when the worker is idle; operations
 * arriving while a commit is in flight wait for the next batch.
 */
import type { Worker } from 'node:worker_threads'
import { StorageError } from '../../protocol/errors.js'
import { writeOpIdentity } from './sqlite-write-ops.js'
import type { WriteOp, WriteOpOutput } from './sqlite-write-ops.js'
import { acquireWriterThread, releaseWriterThread } from './sqlite-writer-pool.js'
import { isWriterReply } from './sqlite-writer-protocol.js'
import type {
  WriteOpResult,
  WriterInit,
  WriterReply,
  WriterStartup,
} from './sqlite-writer-protocol.js'

/** Settings of the writer thread and its queue. */
export interface WriterClientOptions extends WriterInit {
  /** Operations that may wait for a batch; one more is refused with "server overloaded". */
  readonly maxPendingWrites: number
  /** Largest batch (one transaction). */
  readonly maxBatchOps: number
  /** Called once if the writer thread dies or misbehaves. */
  readonly onFailure: (error: StorageError) => void
}

interface PendingWrite {
  readonly op: WriteOp
  readonly resolve: (output: WriteOpOutput) => void
  readonly reject: (error: Error) => void
}

/** Opens the database on a writer thread and waits until it is prepared. */
export async function startSqliteWriter(
  options: WriterClientOptions,
): Promise<{ readonly writer: SqliteWriterClient; readonly startup: WriterStartup }> {
  const worker = acquireWriterThread()
  const opened = await openOnThread(worker, {
    path: options.path,
    busyTimeoutMs: options.busyTimeoutMs,
  })
  if (!opened.ok) {
    if (opened.isThreadHealthy) releaseWriterThread(worker)
    else await worker.terminate()
    throw opened.error
  }
  return { writer: new SqliteWriterClient(worker, options), startup: opened.startup }
}

type OpenOutcome =
  | { readonly ok: true; readonly startup: WriterStartup }
  | { readonly ok: false; readonly error: StorageError; readonly isThreadHealthy: boolean }

function openOnThread(worker: Worker, init: WriterInit): Promise<OpenOutcome> {
  return new Promise((resolve) => {
    worker.once('exit', () => {
      const error = new StorageError('sqlite writer exited during start-up')
      resolve({ ok: false, error, isThreadHealthy: false })
    })
    worker.once('error', (cause: Error) => {
      const error = new StorageError('sqlite writer crashed during start-up', { cause })
      resolve({ ok: false, error, isThreadHealthy: false })
    })
    worker.once('message', (message: unknown) => {
      worker.removeAllListeners()
      if (isWriterReply(message) && message.type === 'ready') {
        resolve({ ok: true, startup: message.startup })
      } else if (isWriterReply(message) && message.type === 'open-failed') {
        resolve({ ok: false, error: new StorageError(message.message), isThreadHealthy: true })
      } else {
        const error = new StorageError('sqlite writer failed to start')
        resolve({ ok: false, error, isThreadHealthy: false })
      }
    })
    worker.postMessage({ type: 'open', ...init })
  })
}

/** Queues write operations for the writer thread. Use `startSqliteWriter` to create one. */
export class SqliteWriterClient {
  readonly #worker: Worker
  readonly #options: WriterClientOptions
  readonly #queue: PendingWrite[] = []
  #batches = 0
  #batchedWrites = 0
  /** Unanswered operations by `writeOpIdentity`: an identical operation joins, not queues. */
  readonly #unanswered = new Map<string, Promise<WriteOpOutput>>()
  #inFlight: { readonly batchId: number; readonly writes: readonly PendingWrite[] } | null = null
  #nextBatchId = 1
  #isFlushScheduled = false
  #isClosing = false
  #closed: Promise<void> | null = null
  #failure: StorageError | null = null
  #idleWaiters: (() => void)[] = []
  /** Resolves `close`'s wait: true on the thread's `closed` reply, false if it failed. */
  #closedWaiter: ((isClean: boolean) => void) | null = null
  #batchSettledListener: (() => void) | null = null

  constructor(worker: Worker, options: WriterClientOptions) {
    this.#worker = worker
    this.#options = options
    worker.on('message', (message: unknown) => {
      this.#workerOnMessage(message)
    })
    worker.on('error', (error: Error) => {
      this.#fail(new StorageError('sqlite writer crashed', { cause: error }))
    })
    worker.on('exit', (code: number) => {
      this.#fail(new StorageError(`sqlite writer exited unexpectedly (code ${code})`))
    })
  }

  /**
   * Sets the function called whenever a batch's outcome arrives (committed or not), before
   * any of its operations settles: readers use it to drop what the commit may have changed.
   */
  setBatchSettledListener(listener: (() => void) | null): void {
    this.#batchSettledListener = listener
  }

  /** Set once the writer thread has failed; every later write is refused with it. */
  /** Writes waiting for a batch, and the batches (and their writes) that ended so far. */
  get counts(): { queued: number; batches: number; batchedWrites: number } {
    return {
      queued: this.#queue.length,
      batches: this.#batches,
      batchedWrites: this.#batchedWrites,
    }
  }

  get failure(): StorageError | null {
    return this.#failure
  }

  /**
   * Queues `op`; resolves with its output once its batch has committed. An identical
   * operation still unanswered is joined instead, so concurrent calls get one answer.
   */
  submit(op: WriteOp): Promise<WriteOpOutput> {
    const identity = writeOpIdentity(op)
    if (identity === null) return this.#enqueue(op)
    const unanswered = this.#unanswered.get(identity)
    if (unanswered !== undefined) return unanswered
    const answer = this.#enqueue(op)
    this.#unanswered.set(identity, answer)
    const forget = (): void => {
      this.#unanswered.delete(identity)
    }
    void answer.then(forget, forget)
    return answer
  }

  #enqueue(op: WriteOp): Promise<WriteOpOutput> {
    if (this.#failure !== null) return Promise.reject(this.#failure)
    if (this.#isClosing) return Promise.reject(new StorageError('sqlite store is closed'))
    if (this.#queue.length >= this.#options.maxPendingWrites) {
      return Promise.reject(new StorageError('server overloaded: too many pending writes'))
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ op, resolve, reject })
      this.#scheduleFlush()
    })
  }

  /** Waits for queued writes, then closes the database and stops the thread. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.#shutdown()
    return this.#closed
  }

  /** Resolves once no write is queued or in flight. */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve()
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve)
    })
  }

  async #shutdown(): Promise<void> {
    this.#isClosing = true
    await this.whenIdle()
    if (this.#failure !== null) {
      await this.#worker.terminate()
      return
    }
    const isClean = await new Promise<boolean>((resolve) => {
      this.#closedWaiter = resolve
      this.#worker.postMessage({ type: 'close' })
    })
    if (isClean) releaseWriterThread(this.#worker)
    else await this.#worker.terminate()
  }

  #isIdle(): boolean {
    return this.#inFlight === null && this.#queue.length === 0
  }

  #scheduleFlush(): void {
    if (this.#inFlight !== null || this.#isFlushScheduled) return
    this.#isFlushScheduled = true
    // One macrotask of delay gathers requests that arrive together into the first batch.
    setImmediate(() => {
      this.#isFlushScheduled = false
      this.#flush()
    })
  }

  #flush(): void {
    if (this.#inFlight !== null || this.#queue.length === 0 || this.#failure !== null) return
    const writes = this.#queue.splice(0, this.#options.maxBatchOps)
    const batchId = this.#nextBatchId++
    this.#inFlight = { batchId, writes }
    try {
      this.#worker.postMessage({ type: 'batch', batchId, ops: writes.map((write) => write.op) })
    } catch (error: unknown) {
      // Only a value that cannot be cloned gets here; the thread never saw the batch.
      this.#inFlight = null
      const failure = new StorageError('sqlite write could not be sent to the writer', {
        cause: error,
      })
      for (const write of writes) write.reject(failure)
      this.#flush()
      this.#notifyIfIdle()
    }
  }

  #workerOnMessage(message: unknown): void {
    if (!isWriterReply(message)) {
      this.#fail(new StorageError('sqlite writer sent an unexpected message'))
      return
    }
    if (message.type === 'closed' && this.#closedWaiter !== null) {
      this.#closedWaiter(true)
      return
    }
    const inFlight = this.#inFlight
    if (inFlight === null || !isBatchReply(message) || message.batchId !== inFlight.batchId) {
      this.#fail(new StorageError(`sqlite writer sent an unexpected '${message.type}'`))
      return
    }
    this.#inFlight = null
    this.#batches += 1
    this.#batchedWrites += inFlight.writes.length
    this.#batchSettledListener?.()
    if (message.type === 'batch-done') {
      inFlight.writes.forEach((write, index) => {
        settleWrite(write, message.results[index])
      })
    } else {
      const error = new StorageError(`sqlite write transaction failed: ${message.message}`)
      for (const write of inFlight.writes) write.reject(error)
    }
    // Group commit: everything that queued up during that commit goes out now as one batch.
    this.#flush()
    this.#notifyIfIdle()
  }

  #fail(error: StorageError): void {
    if (this.#failure !== null) return
    this.#failure = error
    const writes = [...(this.#inFlight?.writes ?? []), ...this.#queue.splice(0)]
    // The batch in flight may have committed before the thread died.
    if (this.#inFlight !== null) this.#batchSettledListener?.()
    this.#inFlight = null
    for (const write of writes) write.reject(error)
    this.#options.onFailure(error)
    this.#notifyIfIdle()
    this.#closedWaiter?.(false)
  }

  #notifyIfIdle(): void {
    if (!this.#isIdle()) return
    for (const resolve of this.#idleWaiters.splice(0)) resolve()
  }
}

function isBatchReply(
  message: WriterReply,
): message is Extract<WriterReply, { type: 'batch-done' | 'batch-failed' }> {
  return message.type === 'batch-done' || message.type === 'batch-failed'
}

function settleWrite(write: PendingWrite, result: WriteOpResult | undefined): void {
  if (result === undefined) {
    write.reject(new StorageError('sqlite writer returned no result for a write'))
  } else if (result.ok) {
    write.resolve(result.output)
  } else {
    write.reject(new StorageError(`sqlite write failed: ${result.message}`))
  }
}
