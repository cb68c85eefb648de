// Messages between the bench coordinator and its load processes (Node IPC, structured clone).
import type { RunSpec } from './scenarios.js'

/** Coordinator → load process: open these connections and wait. */
export interface PrepareCommand {
  readonly type: 'prepare'
  readonly host: string
  readonly port: number
  readonly spec: RunSpec
  /** Global indexes (0..connections-1) of the connections this process owns. */
  readonly connectionIndexes: readonly number[]
  readonly requestTimeoutMs: number
}

/** Coordinator → load process: run the closed loops; times are epoch milliseconds. */
export interface StartCommand {
  readonly type: 'start'
  readonly warmupEndEpochMs: number
  readonly measureEndEpochMs: number
}

export interface ExitCommand {
  readonly type: 'exit'
}

export type LoadCommand = PrepareCommand | StartCommand | ExitCommand

/** What one load process measured. Only completions inside the window are in `latenciesMs`. */
export interface LoadResult {
  /** Successful replies completed inside the measuring window. */
  readonly measuredCount: number
  /** Latency of each of those, in milliseconds. */
  readonly latenciesMs: Float64Array
  /** Failed requests (bad reply, closed connection, timeout) during warm-up and window. */
  readonly errorCount: number
  /** Allocations answered correctly over the whole run, for the consistency check. */
  readonly allocOkCount: number
  /** CPU time (user + system) this load process used during the measuring window. */
  readonly cpuMs: number
  /** The first few error messages, for diagnostics. */
  readonly errorSamples: readonly string[]
}

export type LoadEvent =
  | { readonly type: 'prepared' }
  | { readonly type: 'result'; readonly result: LoadResult }
  | { readonly type: 'failed'; readonly message: string }

function hasType(value: unknown): value is { type: unknown } {
  return typeof value === 'object' && value !== null && 'type' in value
}

// Boundary: IPC between our own processes. Both sides are this code base, so a message is
// trusted once its tag is known; the tag check only guards against stray messages.
export function isLoadCommand(value: unknown): value is LoadCommand {
  return hasType(value) && ['prepare', 'start', 'exit'].includes(String(value.type))
}

export function isLoadEvent(value: unknown): value is LoadEvent {
  return hasType(value) && ['prepared', 'result', 'failed'].includes(String(value.type))
}
