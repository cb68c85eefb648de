/**
 * A bounded in-memory cache of final `get-pr` answers (those that store nothing), so that a
 * lookup of a known checksum costs no SQLite call.
 */
import type { PrKey } from '../../services/prserv/pr-store.js'

/** Default number of answers kept; the oldest is dropped beyond it (about 200 bytes each). */
export const DEFAULT_MAX_CACHED_ANSWERS = 65_536

/**
 * Final `get-pr` answers by (version, pkgarch, checksum, history).
 *
 * Why this is safe: such an answer is a pure function of the committed rows (the package's
 * maximum and the checksum's values), so it stays right until a commit changes the rows. The
 * owner clears the cache (1) when a batch of our writer thread has committed, before any
 * promise of that batch resolves, and (2) when another connection has committed, seen through
 * PRAGMA data_version when a turn's read snapshot starts. Entries are only added from reads of
 * the current snapshot, so every answer of a turn comes from one committed state, at most one
 * event-loop turn old for commits of other processes. Allocation never trusts the cache: new
 * values are always decided again by the writer inside its BEGIN IMMEDIATE transaction.
 */
export class GetPrAnswerCache {
  readonly #maxEntries: number
  readonly #answers = new Map<string, string>()

  constructor(maxEntries: number = DEFAULT_MAX_CACHED_ANSWERS) {
    this.#maxEntries = maxEntries
  }

  /** Number of cached answers. */
  get size(): number {
    return this.#answers.size
  }

  /** The cached answer, or undefined. */
  get(key: PrKey, history: boolean): string | undefined {
    return this.#answers.get(cacheKey(key, history))
  }

  /** Records a final answer, dropping the oldest entry when full. */
  set(key: PrKey, history: boolean, answer: string): void {
    if (this.#maxEntries <= 0) return
    if (this.#answers.size >= this.#maxEntries) {
      const oldest = this.#answers.keys().next()
      if (oldest.done !== true) this.#answers.delete(oldest.value)
    }
    this.#answers.set(cacheKey(key, history), answer)
  }

  /** Forgets every answer. */
  clear(): void {
    this.#answers.clear()
  }
}

/** Unambiguous for any strings: each field but the last is prefixed with its length. */
function cacheKey(key: PrKey, history: boolean): string {
  const { version, pkgarch, checksum } = key
  return `${history ? 'h' : 'n'}${version.length}:${version}${pkgarch.length}:${pkgarch}${checksum}`
}
