/**
 * The receive side shared by the channels: an async iterator over received frames that asks
 * its transport to pause reading while too much is queued (backpressure towards the peer).
 */

/** How a FrameQueue throttles its source. */
export interface FlowControl {
  /** Stop reading from the peer. */
  pause(): void
  /** Read again. */
  resume(): void
}

/** Default amount of queued text, in characters, at which reading pauses. */
export const DEFAULT_HIGH_WATER_CHARS = 256 * 1024

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined }
/** Drop consumed slots once this many have piled up at the head of the array. */
const COMPACT_AFTER_FRAMES = 1024

interface Waiter {
  readonly resolve: (result: IteratorResult<string, undefined>) => void
  readonly reject: (err: Error) => void
}

/**
 * Frames in arrival order, then the end or a failure. Supports one pending `next()` at a time;
 * queued frames are delivered before a failure is thrown.
 */
export class FrameQueue implements AsyncIterableIterator<string, undefined> {
  readonly #flow: FlowControl
  readonly #highWaterChars: number
  #frames: string[] = []
  #head = 0
  #queuedChars = 0
  #waiter: Waiter | null = null
  #isEnded = false
  #failure: Error | null = null
  #isPaused = false

  constructor(flow: FlowControl, highWaterChars = DEFAULT_HIGH_WATER_CHARS) {
    this.#flow = flow
    this.#highWaterChars = highWaterChars
  }

  /** Whether no more frames will arrive. */
  get isEnded(): boolean {
    return this.#isEnded
  }

  /** Adds a received frame (ignored after the end). */
  push(frame: string): void {
    if (this.#isEnded) return
    const waiter = this.#waiter
    if (waiter !== null) {
      this.#waiter = null
      waiter.resolve({ done: false, value: frame })
      return
    }
    this.#frames.push(frame)
    this.#queuedChars += frame.length
    if (!this.#isPaused && this.#queuedChars >= this.#highWaterChars) {
      this.#isPaused = true
      this.#flow.pause()
    }
  }

  /** Marks the end of the frames; queued frames are still delivered. Idempotent. */
  end(): void {
    if (this.#isEnded) return
    this.#isEnded = true
    this.#settleWaiter()
  }

  /** Ends the frames with an error, thrown after the queued frames. Ignored once ended. */
  fail(err: Error): void {
    if (this.#isEnded) return
    this.#failure = err
    this.end()
  }

  /** Ends at once, dropping queued frames (the consumer is going away). */
  discard(): void {
    this.#frames = []
    this.#head = 0
    this.#queuedChars = 0
    this.#failure = null
    this.end()
  }

  next(): Promise<IteratorResult<string, undefined>> {
    if (this.#head < this.#frames.length) return Promise.resolve(this.#take())
    if (this.#isEnded) return this.#finalResult()
    if (this.#isPaused) {
      this.#isPaused = false
      this.#flow.resume()
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject }
    })
  }

  return(): Promise<IteratorResult<string, undefined>> {
    this.discard()
    return Promise.resolve(DONE)
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  #take(): IteratorResult<string, undefined> {
    const frame = this.#frames[this.#head] ?? ''
    this.#head++
    this.#queuedChars -= frame.length
    if (this.#head === this.#frames.length) {
      this.#frames = []
      this.#head = 0
    } else if (this.#head >= COMPACT_AFTER_FRAMES) {
      this.#frames = this.#frames.slice(this.#head)
      this.#head = 0
    }
    return { done: false, value: frame }
  }

  #finalResult(): Promise<IteratorResult<string, undefined>> {
    const failure = this.#failure
    if (failure === null) return Promise.resolve(DONE)
    // Throw the failure once; afterwards the iterator is simply done.
    this.#failure = null
    return Promise.reject(failure)
  }

  #settleWaiter(): void {
    const waiter = this.#waiter
    if (waiter === null) return
    this.#waiter = null
    const failure = this.#failure
    if (failure === null) {
      waiter.resolve(DONE)
    } else {
      this.#failure = null
      waiter.reject(failure)
    }
  }
}
