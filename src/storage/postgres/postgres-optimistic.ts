/**
 * What a store remembers for one-statement allocation (prserv_apply_guarded): the last
 * maximum it saw for recently used packages, committed by itself or read under the package
 * locks. It is only a guess of the state a batch decides on, never trusted:
 * prserv_apply_guarded compares it with the database under the locks, and a wrong guess costs
 * a second statement, not a wrong answer.
 */
import type { Logger } from '../../observability/logger.js'

/** Default most packages remembered (about 100 bytes each). */
export const DEFAULT_REMEMBERED_PACKAGES = 65_536

export class OptimisticAllocation {
  readonly #capacity: number
  readonly #maxima = new Map<string, string>()
  readonly #logger: Logger
  #isEnabled = true

  constructor(logger: Logger, capacity = DEFAULT_REMEMBERED_PACKAGES) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`)
    }
    this.#capacity = capacity
    this.#logger = logger
  }

  /** False once the database refused it (see `disable`): batches then always lock first. */
  get isEnabled(): boolean {
    return this.#isEnabled
  }

  /** The package's last known maximum, or null (none, or forgotten). */
  maxOf(packageId: string): string | null {
    return this.#maxima.get(packageId) ?? null
  }

  /** Records the package's maximum as of a commit or a locked read; forgets the oldest. */
  remember(packageId: string, max: string | null): void {
    this.#maxima.delete(packageId)
    if (max === null) return
    this.#maxima.set(packageId, max)
    if (this.#maxima.size <= this.#capacity) return
    const oldest = this.#maxima.keys().next()
    if (oldest.done !== true) this.#maxima.delete(oldest.value)
  }

  /**
   * Turns one-statement allocation off for good, when the database runs statements outside
   * READ COMMITTED (a `default_transaction_isolation` setting): the locked transaction sets
   * its isolation itself.
   */
  disable(reason: Error): void {
    if (!this.#isEnabled) return
    this.#isEnabled = false
    this.#logger.warn(
      { reason: reason.message },
      'postgres: default isolation is not READ COMMITTED, allocation batches now lock first',
    )
  }
}
