import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import { Worker } from 'node:worker_threads'
import { StorageError } from '../../protocol/errors.js'
import { SqliteWriterClient } from './sqlite-writer-client.js'
import type { WriteOp } from './sqlite-write-ops.js'

// A stand-in writer thread: answers each op with "<batchId>:<batch size>", exits on a
// checksum "crash", fails the op of a checksum "bad", and replies `closed` to `close`.
const FAKE_WRITER = `
const { parentPort } = require('node:worker_threads')
parentPort.on('message', (message) => {
  if (message.type === 'close') return parentPort.postMessage({ type: 'closed' })
  if (message.ops.some((op) => op.key.checksum === 'crash')) process.exit(3)
  const results = message.ops.map((op) => op.key.checksum === 'bad'
    ? { ok: false, message: 'constraint' }
    : { ok: true, output: message.batchId + ':' + message.ops.length })
  parentPort.postMessage({ type: 'batch-done', batchId: message.batchId, results })
})`

function startFake(failures: StorageError[] = []): SqliteWriterClient {
  const worker = new Worker(FAKE_WRITER, { eval: true })
  return new SqliteWriterClient(worker, {
    path: 'unused',
    busyTimeoutMs: 0,
    maxPendingWrites: 1000,
    maxBatchOps: 100,
    onFailure: (error) => failures.push(error),
  })
}

function getPr(checksum: string, history = false): WriteOp {
  const key = { version: 'v', pkgarch: 'a', checksum }
  return { kind: 'get-pr', key, history, origin: { peer: 'unit' } }
}

test('sqlite writer client: requests arriving together share one batch', async (t) => {
  const writer = startFake()
  t.after(() => writer.close())
  const first = await Promise.all(
    Array.from({ length: 30 }, (_, i) => writer.submit(getPr(`c${i}`))),
  )
  assert.deepEqual(new Set(first), new Set(['1:30']))
  // 250 at once: batches are capped at maxBatchOps.
  const second = await Promise.all(
    Array.from({ length: 250 }, (_, i) => writer.submit(getPr(`d${i}`))),
  )
  assert.deepEqual(new Set(second), new Set(['2:100', '3:100', '4:50']))
})

test('sqlite writer client: requests made during a commit go into the next batch', async (t) => {
  const writer = startFake()
  t.after(() => writer.close())
  const head = writer.submit(getPr('head'))
  await new Promise((resolve) => setImmediate(resolve))
  const tail = Array.from({ length: 5 }, (_, i) => writer.submit(getPr(`t${i}`)))
  assert.equal(await head, '1:1')
  assert.deepEqual(new Set(await Promise.all(tail)), new Set(['2:5']))
})

test('sqlite writer client: identical pending operations get one answer', async (t) => {
  const writer = startFake()
  t.after(() => writer.close())
  const same = Array.from({ length: 10 }, () => writer.submit(getPr('same')))
  const history = writer.submit(getPr('same', true))
  assert.deepEqual(new Set(await Promise.all([...same, history])), new Set(['1:2']))
})

test('sqlite writer client: the batch listener runs before any write of the batch settles', async (t) => {
  const writer = startFake()
  t.after(() => writer.close())
  let batchesSettled = 0
  writer.setBatchSettledListener(() => {
    batchesSettled += 1
  })
  const seen = await Promise.all(
    ['a', 'b', 'bad'].map((checksum) =>
      writer.submit(getPr(checksum)).then(
        () => batchesSettled,
        () => batchesSettled,
      ),
    ),
  )
  assert.deepEqual(seen, [1, 1, 1])
  writer.setBatchSettledListener(null)
  await writer.submit(getPr('c'))
  assert.equal(batchesSettled, 1)
})

test('sqlite writer client: a failed op fails alone', async (t) => {
  const writer = startFake()
  t.after(() => writer.close())
  const outcomes = await Promise.allSettled([
    writer.submit(getPr('ok')),
    writer.submit(getPr('bad')),
  ])
  assert.deepEqual(outcomes[0], { status: 'fulfilled', value: '1:2' })
  assert.equal(outcomes[1].status, 'rejected')
})

test('sqlite writer client: a crashed writer fails pending and later writes', async () => {
  const failures: StorageError[] = []
  const writer = startFake(failures)
  const outcomes = await Promise.allSettled([
    writer.submit(getPr('a')),
    writer.submit(getPr('crash')),
  ])
  for (const outcome of outcomes) {
    if (outcome.status !== 'rejected') assert.fail('a write survived the crash')
    assert.ok(outcome.reason instanceof StorageError)
  }
  assert.equal(failures.length, 1)
  assert.equal(writer.failure, failures[0])
  await assert.rejects(writer.submit(getPr('after')), StorageError)
  await writer.close()
})
