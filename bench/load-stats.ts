// Counters and latency samples of one load process, and percentiles over merged samples.
import type { LoadResult } from './load-protocol.js'

const MAX_ERROR_SAMPLES = 5
const INITIAL_SAMPLE_CAPACITY = 64 * 1024

/** Records request outcomes; only completions inside [warmupEndMs, measureEndMs) are measured. */
export class LoadStats {
  readonly #warmupEndMs: number
  readonly #measureEndMs: number
  #latenciesMs = new Float64Array(INITIAL_SAMPLE_CAPACITY)
  #measuredCount = 0
  #errorCount = 0
  #allocOkCount = 0
  readonly #errorSamples: string[] = []

  /** Times are performance.now() milliseconds. */
  constructor(warmupEndMs: number, measureEndMs: number) {
    this.#warmupEndMs = warmupEndMs
    this.#measureEndMs = measureEndMs
  }

  recordSuccess(isAllocation: boolean, sentMs: number, doneMs: number): void {
    if (isAllocation) this.#allocOkCount += 1
    if (doneMs < this.#warmupEndMs || doneMs >= this.#measureEndMs) return
    if (this.#measuredCount === this.#latenciesMs.length) this.#grow()
    this.#latenciesMs[this.#measuredCount] = doneMs - sentMs
    this.#measuredCount += 1
  }

  recordError(message: string): void {
    this.#errorCount += 1
    if (this.#errorSamples.length < MAX_ERROR_SAMPLES) this.#errorSamples.push(message)
  }

  toResult(cpuMs: number): LoadResult {
    return {
      cpuMs,
      measuredCount: this.#measuredCount,
      latenciesMs: this.#latenciesMs.slice(0, this.#measuredCount),
      errorCount: this.#errorCount,
      allocOkCount: this.#allocOkCount,
      errorSamples: [...this.#errorSamples],
    }
  }

  #grow(): void {
    const larger = new Float64Array(this.#latenciesMs.length * 2)
    larger.set(this.#latenciesMs)
    this.#latenciesMs = larger
  }
}

/** Latency summary in milliseconds; NaN when there are no samples. */
export interface LatencySummary {
  readonly p50Ms: number
  readonly p99Ms: number
}

/** Nearest-rank percentiles over the samples of every load process. */
export function summarizeLatencies(parts: readonly Float64Array[]): LatencySummary {
  const total = parts.reduce((sum, part) => sum + part.length, 0)
  const merged = new Float64Array(total)
  let offset = 0
  for (const part of parts) {
    merged.set(part, offset)
    offset += part.length
  }
  merged.sort()
  return { p50Ms: percentile(merged, 0.5), p99Ms: percentile(merged, 0.99) }
}

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.max(Math.ceil(fraction * sorted.length) - 1, 0)
  return sorted[rank] ?? Number.NaN
}
