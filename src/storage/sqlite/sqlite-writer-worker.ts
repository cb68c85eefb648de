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
import type { WriteOpResult, WriterReply } from './sqlite-writer-protocol.js'

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : ''
    return `${error.message}${cause}`
  }
  return 'unknown error'
}

type BatchRunner = (ops: readonly WriteOp[]) => WriteOpResult[]

/** Runs batches against an open writer database. */
function createBatchRunner(opened: WriterDatabase): BatchRunner {
  const { db, rowWriter } = opened
  const queries = new SqlitePrQueries(db, true)
  let createdAt = ''
  // Called inside the batch transaction, better-sqlite3 wraps each op in a SAVEPOINT, so a
  // failing op is rolled back alone.
  const runOp = db.transaction((op: WriteOp): WriteOpOutput => {
    const plan = queries.read(() => planWriteOp(queries, op))
    if (plan.valueToStore !== null) {
      rowWriter.insert(op.key, plan.valueToStore, op.origin, createdAt)
    }
    return plan.output
  })
  const runBatch = db.transaction((ops: readonly WriteOp[]): WriteOpResult[] => {
    rowWriter.catchUp()
    createdAt = new Date().toISOString()
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
  return (ops) => runBatch.immediate(ops)
}

function serve(port: MessagePort): void {
  const post = (reply: WriterReply): void => {
    port.postMessage(reply)
  }
  let session: { readonly opened: WriterDatabase; readonly runBatch: BatchRunner } | null = null
  port.on('message', (message: unknown) => {
    if (!isWriterRequest(message)) throw new StorageError('writer: unexpected message')
    switch (message.type) {
      case 'open':
        if (session !== null) {
          post({ type: 'open-failed', message: 'writer thread already has a database open' })
          return
        }
        try {
          const opened = openWriterDatabase(message.path, message.busyTimeoutMs)
          session = { opened, runBatch: createBatchRunner(opened) }
          post({ type: 'ready', startup: opened.startup })
        } catch (error: unknown) {
          post({ type: 'open-failed', message: describeError(error) })
        }
        return
      case 'batch':
        try {
          if (session === null) throw new StorageError('writer thread has no database open')
          post({
            type: 'batch-done',
            batchId: message.batchId,
            results: session.runBatch(message.ops),
          })
        } catch (error: unknown) {
          post({ type: 'batch-failed', batchId: message.batchId, message: describeError(error) })
        }
        return
      case 'close':
        session?.opened.db.close()
        session = null
        post({ type: 'closed' })
        return
      default: {
        const unexpected: never = message
        throw new StorageError(`writer: unexpected message ${JSON.stringify(unexpected)}`)
      }
    }
  })
}

if (parentPort === null) throw new Error('sqlite-writer-worker must run as a worker thread')
serve(parentPort)
