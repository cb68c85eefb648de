import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import { StorageError } from '../../protocol/errors.js'
import type { AllocationOp } from './postgres-batch-plan.js'
import { AllocationBatcher } from './postgres-batcher.js'
import type { BatchEntry, BatcherOptions } from './postgres-batcher.js'

const op = (version: string, checksum: string): AllocationOp => ({
  kind: 'get-pr',
  key: { version, pkgarch: 'a', checksum },
  history: false,
})

/** A batcher whose batches wait until `release()`d; records every batch it was given. */
function createBatcher(options: Partial<Omit<BatcherOptions, 'runBatch'>> = {}) {
  const batches: (readonly BatchEntry[])[] = []
  const releases: (() => void)[] = []
  let running = 0
  let maxRunning = 0
  const batcher = new AllocationBatcher({
    maxBatchOps: 100,
    maxBatchPackages: 100,
    maxInFlightBatches: 4,
    minBatchOpsWhileBusy: 1,
    stalledBatchMs: 60_000,
    maxQueuedOps: 1000,
    operationTimeoutMs: 5_000,
    ...options,
    runBatch: async (entries) => {
      batches.push(entries)
      running++
      maxRunning = Math.max(maxRunning, running)
      await new Promise<void>((resolve) => releases.push(resolve))
      running--
      for (const entry of entries) entry.settle(`${entry.op.key.version}:${entry.op.key.checksum}`)
    },
  })
  return {
    batcher,
    batches,
    get maxRunning() {
      return maxRunning
    },
    async releaseAll(): Promise<void> {
      while (releases.length > 0) {
        for (const release of releases.splice(0)) release()
        await new Promise((resolve) => setImmediate(resolve))
      }
    },
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

void test('batcher: a package is in one batch at a time, its operations in order', async () => {
  const harness = createBatcher()
  const first = harness.batcher.submit(op('hot', 'c0'), 'peer')
  await tick()
  const later = [1, 2, 3].map((index) => harness.batcher.submit(op('hot', `c${index}`), 'peer'))
  const other = harness.batcher.submit(op('cold', 'x'), 'peer')
  await tick()
  // "cold" started its own batch; "hot" waits for its running batch.
  assert.deepEqual(
    harness.batches.map((batch) => batch.map((entry) => entry.op.key.checksum)),
    [['c0'], ['x']],
  )
  await harness.releaseAll()
  assert.deepEqual(await Promise.all([first, ...later, other]), [
    'hot:c0',
    'hot:c1',
    'hot:c2',
    'hot:c3',
    'cold:x',
  ])
  assert.deepEqual(
    harness.batches[2]?.map((entry) => entry.op.key.checksum),
    ['c1', 'c2', 'c3'],
  )
})

void test('batcher: batch size, packages per batch and batches in flight are capped', async () => {
  const harness = createBatcher({ maxBatchOps: 3, maxBatchPackages: 2, maxInFlightBatches: 2 })
  const answers = Array.from({ length: 12 }, (_, index) =>
    harness.batcher.submit(op(`p${index % 4}`, `c${index}`), 'peer'),
  )
  await tick()
  await harness.releaseAll()
  await Promise.all(answers)
  for (const batch of harness.batches) {
    assert.ok(batch.length <= 3)
    assert.ok(new Set(batch.map((entry) => entry.op.key.version)).size <= 2)
  }
  assert.equal(harness.maxRunning, 2)
})

void test('batcher: identical concurrent operations are answered once', async () => {
  const harness = createBatcher()
  const answers = Array.from({ length: 5 }, () => harness.batcher.submit(op('v', 'same'), 'peer'))
  await tick()
  await harness.releaseAll()
  assert.deepEqual(new Set(await Promise.all(answers)), new Set(['v:same']))
  assert.equal(harness.batches.flat().length, 1)
})

void test('batcher: an answered or failed operation is not joined by later identical ones', async () => {
  const harness = createBatcher({ operationTimeoutMs: 50 })
  await assert.rejects(harness.batcher.submit(op('v', 'late'), 'peer'), /database unavailable/)
  const again = harness.batcher.submit(op('v', 'late'), 'peer')
  await tick()
  await harness.releaseAll()
  assert.equal(await again, 'v:late')
  const third = harness.batcher.submit(op('v', 'late'), 'peer')
  await tick()
  await harness.releaseAll()
  assert.equal(await third, 'v:late')
  // The timed-out one's batch, then one batch for each later submission.
  assert.equal(harness.batches.length, 3)
})

void test('batcher: beyond maxQueuedOps new operations fail as overloaded', async () => {
  const harness = createBatcher({ maxQueuedOps: 2 })
  const accepted = [
    harness.batcher.submit(op('v', 'a'), 'p'),
    harness.batcher.submit(op('v', 'b'), 'p'),
  ]
  await assert.rejects(harness.batcher.submit(op('v', 'c'), 'p'), /database overloaded/)
  await tick()
  await harness.releaseAll()
  await Promise.all(accepted)
})

void test('batcher: an operation without an answer in time fails "database unavailable"', async () => {
  const harness = createBatcher({ operationTimeoutMs: 50 })
  await assert.rejects(
    harness.batcher.submit(op('v', 'slow'), 'peer'),
    (error: unknown) =>
      error instanceof StorageError && /^database unavailable \(no answer/.test(error.message),
  )
  await harness.releaseAll()
})

void test('batcher: a failed batch fails its unanswered operations with its error', async () => {
  const failure = new StorageError('database unavailable (ECONNREFUSED) during allocation')
  const batcher = new AllocationBatcher({
    maxBatchOps: 10,
    maxBatchPackages: 10,
    maxInFlightBatches: 1,
    minBatchOpsWhileBusy: 1,
    stalledBatchMs: 60_000,
    maxQueuedOps: 10,
    operationTimeoutMs: 5_000,
    runBatch: (entries) => {
      entries[0]?.settle('answered')
      return Promise.reject(failure)
    },
  })
  const [first, second] = [batcher.submit(op('v', 'a'), 'p'), batcher.submit(op('v', 'b'), 'p')]
  assert.equal(await first, 'answered')
  await assert.rejects(second, (error: unknown) => error === failure)
})

void test('batcher: close waits for running batches and refuses new operations', async () => {
  const harness = createBatcher()
  const answer = harness.batcher.submit(op('v', 'a'), 'p')
  await tick()
  let isClosed = false
  const closing = harness.batcher.close().then(() => {
    isClosed = true
  })
  await tick()
  assert.equal(isClosed, false)
  await assert.rejects(harness.batcher.submit(op('v', 'b'), 'p'), /store closed/)
  await harness.releaseAll()
  await closing
  assert.equal(await answer, 'v:a')
})

void test('batcher: beside a running batch, the next starts once enough operations wait', async () => {
  const harness = createBatcher({ minBatchOpsWhileBusy: 3 })
  const first = harness.batcher.submit(op('p0', 'c0'), 'peer')
  await tick()
  // One batch runs: two waiting operations are too few to start another.
  const waiting = [1, 2].map((index) => harness.batcher.submit(op(`p${index}`, 'c'), 'peer'))
  await tick()
  assert.equal(harness.batches.length, 1)
  // The third makes it worth a batch of its own, beside the running one.
  const third = harness.batcher.submit(op('p3', 'c'), 'peer')
  await tick()
  assert.deepEqual(
    harness.batches.map((batch) => batch.map((entry) => entry.op.key.version)),
    [['p0'], ['p1', 'p2', 'p3']],
  )
  // A lone operation waits for the running batches, then goes at once.
  const lone = harness.batcher.submit(op('p4', 'c'), 'peer')
  await tick()
  assert.equal(harness.batches.length, 2)
  await harness.releaseAll()
  assert.deepEqual(await Promise.all([first, ...waiting, third, lone]), [
    'p0:c0',
    'p1:c',
    'p2:c',
    'p3:c',
    'p4:c',
  ])
  assert.deepEqual(
    harness.batches[2]?.map((entry) => entry.op.key.version),
    ['p4'],
  )
})

void test('batcher: a stalled batch holds up other packages only for a while', async () => {
  const harness = createBatcher({ minBatchOpsWhileBusy: 100, stalledBatchMs: 20 })
  const stalled = harness.batcher.submit(op('p0', 'c0'), 'peer')
  await tick()
  const other = harness.batcher.submit(op('p1', 'c'), 'peer')
  const samePackage = harness.batcher.submit(op('p0', 'c1'), 'peer')
  await tick()
  // At first it waits beside the running batch, as too few operations wait.
  assert.equal(harness.batches.length, 1)
  // The batcher's wake-up was set before this timer, so it has fired by now: "p1" has a batch
  // of its own, and "p0" still waits for its running one.
  await sleep(40)
  assert.deepEqual(
    harness.batches.map((batch) => batch.map((entry) => entry.op.key.checksum)),
    [['c0'], ['c']],
  )
  await harness.releaseAll()
  assert.deepEqual(await Promise.all([stalled, other, samePackage]), ['p0:c0', 'p1:c', 'p0:c1'])
})
