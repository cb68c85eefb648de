/**
 * The writer thread of the SQLite PR store: owns the only read-write connection and runs each
 * batch of write operations in one IMMEDIATE transaction committed with synchronous=FULL, so
 * fsync never blocks the main thread's event loop. A thread serves one database at a time and
 * is pooled for reuse after it (sqlite-writer-pool.ts).
 */
import { parentPort } from 'node:worker_threads'
import type { MessagePort } from 'node:worker_threads'
import { StorageError } from '../../protocol/errors.js'
import { openWriterDatabase } from './sqlite-open.js'
import type { WriterDatabase } from './sqlite-open.js'
import { SqlitePrQueries } from './sqlite-queries.js'
import { planWriteOp } from './sqlite-write-ops.js'
import type { WriteOp, WriteOpOutput } from './sqlite-write-ops.js'
import { isWriterRequest } from './sqlite-writer-protocol.js'
import type { WriteOpResult, WriterReply, WriterRequest } from './sqlite-writer-protocol.js'

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : ''
    return `${error.message}${cause}`
  }
  return 'unknown error'
}

type BatchRunner = (ops: readonly WriteOp[]) => WriteOpResult[]

/** Thrown out of the savepoint-free attempt when an operation (not BEGIN or COMMIT) failed. */
class WriteOpFailedError extends Error {
  override name = 'WriteOpFailedError'
}

/** Runs batches against an open writer database. */
function createBatchRunner(opened: WriterDatabase): BatchRunner {
  const { db, rowWriter } = opened
  // catchUp runs first in every batch transaction, under the write lock: no tail reads needed.
  const queries = new SqlitePrQueries(db, true, true)
  let createdAt = ''
  const applyOp = (op: WriteOp): WriteOpOutput => {
    if (op.kind === 'import-rows') return rowWriter.importRows(op.rows)
    const plan = queries.read(() => planWriteOp(queries, op))
    if (plan.valueToStore !== null) {
      rowWriter.insert(op.key, plan.valueToStore, op.origin, createdAt)
    }
    return plan.output
  }
  const startBatch = (): void => {
    rowWriter.catchUp()
    createdAt = new Date().toISOString()
  }
  // First attempt: no savepoint per operation (two statements each). Operations practically
  // never fail, but if one does, its partial work must not be committed: the whole attempt
  // is rolled back and the batch is run again with a savepoint per operation.
  const runWithoutSavepoints = db.transaction((ops: readonly WriteOp[]): WriteOpResult[] => {
    startBatch()
    return ops.map((op): WriteOpResult => {
      try {
        return { ok: true, output: applyOp(op) }
      } catch (error: unknown) {
        throw new WriteOpFailedError('a write operation failed', { cause: error })
      }
    })
  })
  // Called inside the batch transaction, better-sqlite3 wraps each op in a SAVEPOINT, so a
  // failing op is rolled back alone.
  const runOp = db.transaction(applyOp)
  const runWithSavepoints = db.transaction((ops: readonly WriteOp[]): WriteOpResult[] => {
    startBatch()
    return ops.map((op): WriteOpResult => {
      try {
        return { ok: true, output: runOp(op) }
      } catch (error: unknown) {
        // Some SQLite errors (disk full, I/O) roll back the whole transaction: then nothing
        // of this batch may be reported as stored.
        if (!db.inTransaction) throw error
        return { ok: false, message: describeError(error) }
      }
    })
  })
  return (ops) => {
    try {
      return runWithoutSavepoints.immediate(ops)
    } catch (error: unknown) {
      // Failures of BEGIN or COMMIT fail the batch as before; only an operation's is retried.
      if (!(error instanceof WriteOpFailedError)) throw error
      return runWithSavepoints.immediate(ops)
    }
  }
}

interface Session {
  readonly opened: WriterDatabase
  readonly runBatch: BatchRunner
}

/** Answers requests for one thread; `session` is the database currently open, if any. */
class WriterThread {
  #session: Session | null = null
  readonly #port: MessagePort

  constructor(port: MessagePort) {
    this.#port = port
  }

  handle(request: WriterRequest): WriterReply {
    switch (request.type) {
      case 'open':
        return this.#open(request.path, request.busyTimeoutMs)
      case 'batch':
        return this.#runBatch(request.batchId, request.ops)
      case 'close':
        this.#session?.opened.db.close()
        this.#session = null
        return { type: 'closed' }
      default: {
        const unexpected: never = request
        throw new StorageError(`writer: unexpected request ${JSON.stringify(unexpected)}`)
      }
    }
  }

  post(reply: WriterReply): void {
    this.#port.postMessage(reply)
  }

  #open(path: string, busyTimeoutMs: number): WriterReply {
    if (this.#session !== null) {
      return { type: 'open-failed', message: 'writer thread already has a database open' }
    }
    try {
      const opened = openWriterDatabase(path, busyTimeoutMs)
      this.#session = { opened, runBatch: createBatchRunner(opened) }
      return { type: 'ready', startup: opened.startup }
    } catch (error: unknown) {
      return { type: 'open-failed', message: describeError(error) }
    }
  }

  #runBatch(batchId: number, ops: readonly WriteOp[]): WriterReply {
    try {
      if (this.#session === null) throw new StorageError('writer thread has no database open')
      return { type: 'batch-done', batchId, results: this.#session.runBatch(ops) }
    } catch (error: unknown) {
      return { type: 'batch-failed', batchId, message: describeError(error) }
    }
  }
}

if (parentPort === null) throw new Error('sqlite-writer-worker must run as a worker thread')
const thread = new WriterThread(parentPort)
parentPort.on('message', (message: unknown) => {
  // Only our own main thread posts here; anything else is a bug worth crashing the thread.
  if (!isWriterRequest(message)) throw new StorageError('writer: unexpected message')
  thread.post(thread.handle(message))
})
