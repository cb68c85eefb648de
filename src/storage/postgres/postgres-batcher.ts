/**
 * Batched allocation, the PostgreSQL analogue of group commit: allocations queue here and run
 * in batches (one guarded statement, hence one commit, per batch). Operations on one package
 * run in arrival order and never in two batches at once; batches for different packages may
 * run concurrently, up to a limit.
 */
import { StorageError } from '../../protocol/errors.js'
import type { AllocationOp, AllocationOutput } from './postgres-batch-plan.js'
import { opIdentity, packageId } from './postgres-batch-plan.js'
import { asError, timeoutError } from './postgres-errors.js'

/** An allocation waiting for, or part of, a batch. */
export interface BatchEntry {
  readonly op: AllocationOp
  /** The audit-trail peer of the row the operation may store. */
  readonly peer: string
  /** Whether the caller has its answer or error already; later outcomes are ignored. */
  readonly isSettled: boolean
  settle(output: AllocationOutput): void
  fail(error: Error): void
}

/** Limits of the batcher; durations in milliseconds. */
export interface BatcherOptions {
  /** Most operations in one batch. */
  readonly maxBatchOps: number
  /** Most distinct packages (hence package locks) in one batch. */
  readonly maxBatchPackages: number
  /** Most batches running at once. */
  readonly maxInFlightBatches: number
  /**
   * While a batch is running, another starts only once this many operations wait (1: at
   * once); with none running, one starts at once. A batch costs the database a fixed amount of
   * work whatever its size, so under load fewer, larger batches serve more requests; a waiting
   * operation goes at the latest when the running batches have ended.
   */
  readonly minBatchOpsWhileBusy: number
  /**
   * Once no batch has started for this long while operations wait beside running ones (a
   * batch held up, say by a package lock another replica holds), the waiting ones get a batch
   * whatever `minBatchOpsWhileBusy` says, so one slow batch does not hold up other packages.
   */
  readonly stalledBatchMs: number
  /** Most operations waiting; beyond it new ones fail at once ("database overloaded"). */
  readonly maxQueuedOps: number
  /** An operation without an answer this long after submission fails. */
  readonly operationTimeoutMs: number
  /**
   * Runs one batch: settles each entry it answers (in any order); the batcher fails those it
   * leaves unsettled with the error it rejects with.
   */
  readonly runBatch: (entries: readonly BatchEntry[]) => Promise<void>
}

class Entry implements BatchEntry {
  readonly op: AllocationOp
  readonly peer: string
  readonly packageId: string
  isSettled = false
  readonly #identity: string
  /** The batcher's unanswered operations by identity: this one leaves it when answered. */
  readonly #unanswered: Map<string, Promise<AllocationOutput>>
  readonly #resolve: (output: AllocationOutput) => void
  readonly #reject: (error: Error) => void
  readonly #timer: NodeJS.Timeout

  constructor(
    op: AllocationOp,
    peer: string,
    identity: string,
    unanswered: Map<string, Promise<AllocationOutput>>,
    timeoutMs: number,
    resolve: (output: AllocationOutput) => void,
    reject: (error: Error) => void,
  ) {
    this.op = op
    this.peer = peer
    this.packageId = packageId(op.key)
    this.#identity = identity
    this.#unanswered = unanswered
    this.#resolve = resolve
    this.#reject = reject
    this.#timer = setTimeout(() => {
      this.fail(timeoutError(op.kind, timeoutMs))
    }, timeoutMs)
  }

  settle(output: AllocationOutput): void {
    if (this.isSettled) return
    this.#end()
    this.#resolve(output)
  }

  fail(error: Error): void {
    if (this.isSettled) return
    this.#end()
    this.#reject(error)
  }

  #end(): void {
    this.isSettled = true
    clearTimeout(this.#timer)
    this.#unanswered.delete(this.#identity)
  }
}

/**
 * Queues allocations and runs them in batches. Safe for any number of concurrent `submit`
 * calls; within one package, operations are decided in submission order.
 */
export class AllocationBatcher {
  readonly #options: BatcherOptions
  #queue: Entry[] = []
  readonly #busyPackages = new Set<string>()
  #inFlight = 0
  #isClosed = false
  #closing: Promise<void> | null = null
  #onIdle: (() => void) | null = null
  #isPumpScheduled = false
  /** When the latest batch started (performance.now()). */
  #lastBatchStart = 0
  /** Pumps once running batches have stalled (see BatcherOptions.stalledBatchMs). */
  #stallTimer: NodeJS.Timeout | null = null
  #batches = 0
  #batchedOps = 0
  readonly #unanswered = new Map<string, Promise<AllocationOutput>>()

  constructor(options: BatcherOptions) {
    this.#options = options
  }

  /** Operations waiting for a batch (answered ones excluded). */
  get queuedOps(): number {
    return this.#queue.reduce((count, entry) => count + (entry.isSettled ? 0 : 1), 0)
  }

  /** Batches that ended (answered or failed), and the operations they carried. */
  get batchCounts(): { batches: number; ops: number } {
    return { batches: this.#batches, ops: this.#batchedOps }
  }

  /**
   * Queues `op`; resolves once its batch has committed (or it needed no write). An identical
   * operation (`opIdentity`) still unanswered is joined instead, so concurrent calls for one
   * key get one answer.
   */
  submit(op: AllocationOp, peer: string): Promise<AllocationOutput> {
    const identity = opIdentity(op)
    const unanswered = this.#unanswered.get(identity)
    if (unanswered !== undefined) return unanswered
    if (this.#isClosed) return Promise.reject(new StorageError(`store closed during ${op.kind}`))
    if (this.#queue.length >= this.#options.maxQueuedOps) this.#dropSettled()
    if (this.#queue.length >= this.#options.maxQueuedOps) {
      const limit = this.#options.maxQueuedOps
      return Promise.reject(new StorageError(`database overloaded: ${limit} allocations queued`))
    }
    const { operationTimeoutMs } = this.#options
    const answer = new Promise<AllocationOutput>((resolve, reject) => {
      const entry = new Entry(
        op,
        peer,
        identity,
        this.#unanswered,
        operationTimeoutMs,
        resolve,
        reject,
      )
      this.#queue.push(entry)
      this.#schedulePump()
    })
    // Set after the entry exists, and deleted by it when answered (never before: an entry is
    // answered in a later turn at the earliest).
    this.#unanswered.set(identity, answer)
    return answer
  }

  /** Stops accepting work and waits until queued and running batches are done. Idempotent. */
  close(): Promise<void> {
    this.#isClosed = true
    this.#closing ??= this.#isIdle()
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          this.#onIdle = resolve
        })
    return this.#closing
  }

  #schedulePump(): void {
    if (this.#isPumpScheduled) return
    this.#isPumpScheduled = true
    // One macrotask of delay gathers requests that arrive together into one batch.
    setImmediate(() => {
      this.#isPumpScheduled = false
      this.#pump()
    })
  }

  #pump(): void {
    const { maxInFlightBatches, minBatchOpsWhileBusy, stalledBatchMs } = this.#options
    while (this.#inFlight < maxInFlightBatches) {
      if (this.#inFlight > 0 && this.#queue.length < minBatchOpsWhileBusy) {
        const waited = performance.now() - this.#lastBatchStart
        if (waited < stalledBatchMs) {
          if (this.#queue.length > 0) this.#wakeAfter(stalledBatchMs - waited)
          break
        }
      }
      const batch = this.#takeBatch()
      if (batch.length === 0) break
      this.#inFlight++
      this.#lastBatchStart = performance.now()
      for (const entry of batch) this.#busyPackages.add(entry.packageId)
      void this.#run(batch)
    }
    if (this.#isIdle()) this.#onIdle?.()
  }

  /** Pumps again in `delayMs` (unless a wake-up is already set). */
  #wakeAfter(delayMs: number): void {
    if (this.#stallTimer !== null) return
    this.#stallTimer = setTimeout(() => {
      this.#stallTimer = null
      this.#pump()
    }, delayMs)
    // Only useful while batches run, and each of those keeps the process alive.
    this.#stallTimer.unref()
  }

  /** The oldest runnable entries: packages not in a running batch, in queue order. */
  #takeBatch(): Entry[] {
    const { maxBatchOps, maxBatchPackages } = this.#options
    const batch: Entry[] = []
    const packages = new Set<string>()
    const blocked = new Set<string>()
    const remaining: Entry[] = []
    for (const entry of this.#queue) {
      if (entry.isSettled) continue
      const id = entry.packageId
      const hasRoom = packages.has(id) || packages.size < maxBatchPackages
      const isFree = !this.#busyPackages.has(id) && !blocked.has(id)
      if (batch.length < maxBatchOps && hasRoom && isFree) {
        batch.push(entry)
        packages.add(id)
      } else {
        // Later entries of this package must wait too, to keep its order.
        blocked.add(id)
        remaining.push(entry)
      }
    }
    this.#queue = remaining
    return batch
  }

  async #run(batch: readonly Entry[]): Promise<void> {
    try {
      await this.#options.runBatch(batch)
      // Only for entries left unanswered: an Error (and its stack) per request costs.
      for (const entry of batch) {
        if (entry.isSettled) continue
        entry.fail(new StorageError(`allocation was not answered during ${entry.op.kind}`))
      }
    } catch (error: unknown) {
      const failure = asError(error, 'allocation batch failed')
      for (const entry of batch) entry.fail(failure)
    } finally {
      this.#batches += 1
      this.#batchedOps += batch.length
      this.#inFlight--
      for (const entry of batch) this.#busyPackages.delete(entry.packageId)
      this.#pump()
    }
  }

  #dropSettled(): void {
    this.#queue = this.#queue.filter((entry) => !entry.isSettled)
  }

  #isIdle(): boolean {
    return this.#inFlight === 0 && this.#queue.every((entry) => entry.isSettled)
  }
}
