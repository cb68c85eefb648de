/**
 * Messages between the SQLite store (main thread) and its writer worker thread. Both sides are
 * this code base; the guards only check the discriminant at the thread boundary.
 */
import type { WriteOp, WriteOpOutput } from './sqlite-write-ops.js'

/** Which database a writer thread opens. */
export interface WriterInit {
  readonly path: string
  readonly busyTimeoutMs: number
}

/** Main thread → writer. A thread serves one database at a time and is reused after it. */
export type WriterRequest =
  /** Open (and prepare) a database; reply `ready` or `open-failed`. */
  | ({ readonly type: 'open' } & WriterInit)
  /** Run `ops` in order in one transaction, commit, reply `batch-done` or `batch-failed`. */
  | { readonly type: 'batch'; readonly batchId: number; readonly ops: readonly WriteOp[] }
  /** Close the database; reply `closed`. The thread then waits for the next `open`. */
  | { readonly type: 'close' }

/** One operation's outcome; a failed operation was rolled back to its savepoint. */
export type WriteOpResult =
  | { readonly ok: true; readonly output: WriteOpOutput }
  | { readonly ok: false; readonly message: string }

/** What the writer did at start-up, for the store's log. */
export interface WriterStartup {
  readonly schemaFromVersion: number
  readonly schemaToVersion: number
  readonly journalMode: string
  readonly rebuiltOrderIndex: boolean
  readonly caughtUpRows: number
}

/** Writer → main thread. */
export type WriterReply =
  | { readonly type: 'ready'; readonly startup: WriterStartup }
  | { readonly type: 'open-failed'; readonly message: string }
  | { readonly type: 'batch-done'; readonly batchId: number; readonly results: WriteOpResult[] }
  /** The transaction did not commit: every operation of the batch failed. */
  | { readonly type: 'batch-failed'; readonly batchId: number; readonly message: string }
  | { readonly type: 'closed' }

const REQUEST_TYPES: ReadonlySet<unknown> = new Set(['open', 'batch', 'close'])
const REPLY_TYPES: ReadonlySet<unknown> = new Set([
  'ready',
  'open-failed',
  'batch-done',
  'batch-failed',
  'closed',
])

function hasType(message: unknown, types: ReadonlySet<unknown>): boolean {
  return (
    typeof message === 'object' && message !== null && 'type' in message && types.has(message.type)
  )
}

/** Thread-boundary guard for messages the writer receives. */
export function isWriterRequest(message: unknown): message is WriterRequest {
  return hasType(message, REQUEST_TYPES)
}

/** Thread-boundary guard for messages the main thread receives. */
export function isWriterReply(message: unknown): message is WriterReply {
  return hasType(message, REPLY_TYPES)
}
