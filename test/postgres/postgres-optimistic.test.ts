/**
 * One-statement (optimistic) allocation batches on a real PostgreSQL: a batch decided on a
 * guess of the state is written only where the guess holds under the package locks; a stale
 * guess is decided again, and after two stale statements the package takes the locked
 * transaction. Statements are counted by wrapping the store's real ones.
 */
import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import type { TestContext } from 'node:test'
import postgres from 'postgres'
import type { Sql } from 'postgres'
import { createLogger } from '../../src/observability/logger.js'
import type { PrKey } from '../../src/services/prserv/pr-store.js'
import { createAllocationStatements } from '../../src/storage/postgres/postgres-allocation-statements.js'
import { runAllocationBatch } from '../../src/storage/postgres/postgres-batch-executor.js'
import type { AllocationStatements } from '../../src/storage/postgres/postgres-batch-executor.js'
import type {
  AllocationOp,
  AllocationOutput,
} from '../../src/storage/postgres/postgres-batch-plan.js'
import type { BatchEntry } from '../../src/storage/postgres/postgres-batcher.js'
import { migratePostgresSchema } from '../../src/storage/postgres/postgres-migrations.js'
import { OptimisticAllocation } from '../../src/storage/postgres/postgres-optimistic.js'
import { PostgresPool } from '../../src/storage/postgres/postgres-pool.js'
import { openPostgresPrStore } from '../../src/storage/postgres/postgres-pr-store.js'
import { createTestDatabase } from '../support/postgres.js'

const ORIGIN = { peer: '192.0.2.7:7' }

class TestEntry implements BatchEntry {
  readonly op: AllocationOp
  readonly peer = ORIGIN.peer
  isSettled = false
  output: AllocationOutput | undefined
  error: Error | undefined

  constructor(op: AllocationOp) {
    this.op = op
  }

  settle(output: AllocationOutput): void {
    if (this.isSettled) return
    this.isSettled = true
    this.output = output
  }

  fail(error: Error): void {
    if (this.isSettled) return
    this.isSettled = true
    this.error = error
  }
}

/** The store's real statements, counted; `beforeApply` runs before each guarded statement. */
class CountingStatements implements AllocationStatements {
  applyCount = 0
  lockedCount = 0
  beforeApply: () => Promise<void> = () => Promise.resolve()
  readonly #inner: AllocationStatements

  constructor(inner: AllocationStatements) {
    this.#inner = inner
  }

  readState(...args: Parameters<AllocationStatements['readState']>) {
    return this.#inner.readState(...args)
  }

  async applyGuarded(...args: Parameters<AllocationStatements['applyGuarded']>) {
    this.applyCount++
    await this.beforeApply()
    return this.#inner.applyGuarded(...args)
  }

  writeLocked(...args: Parameters<AllocationStatements['writeLocked']>) {
    this.lockedCount++
    return this.#inner.writeLocked(...args)
  }
}

interface Harness {
  readonly sql: Sql
  readonly statements: CountingStatements
  readonly optimistic: OptimisticAllocation
  run(ops: readonly AllocationOp[]): Promise<TestEntry[]>
}

async function openHarness(t: TestContext, isolation?: string): Promise<Harness> {
  const db = await createTestDatabase()
  const sql = postgres(db.url, { max: 2, onnotice: () => undefined })
  t.after(async () => {
    await sql.end()
    await db.drop()
  })
  await migratePostgresSchema(sql)
  if (isolation !== undefined) {
    await sql.unsafe(
      `ALTER DATABASE "${db.name}" SET default_transaction_isolation = '${isolation}'`,
    )
  }
  const logger = createLogger('silent')
  const pool = new PostgresPool({
    url: db.url,
    maxConnections: 2,
    connectTimeoutMs: 2_000,
    callTimeoutMs: 5_000,
    prepareStatements: true,
    applicationName: 'prserv-test',
    logger,
  })
  t.after(() => pool.close())
  const statements = new CountingStatements(
    createAllocationStatements(pool, { lockTimeoutMs: 3_000, idleInTransactionTimeoutMs: 5_000 }),
  )
  const optimistic = new OptimisticAllocation(logger)
  return {
    sql,
    statements,
    optimistic,
    run: async (ops) => {
      const entries = ops.map((op) => new TestEntry(op))
      await runAllocationBatch(entries, statements, { isReadOnly: false, optimistic })
      return entries
    },
  }
}

function getPr(checksum: string, version = 'v1'): AllocationOp {
  const key: PrKey = { version, pkgarch: 'arch', checksum }
  return { kind: 'get-pr', key, history: true }
}

function outputsOf(entries: readonly TestEntry[]): unknown[] {
  return entries.map((entry) => entry.error?.message ?? entry.output)
}

async function storedValues(sql: Sql): Promise<string[]> {
  const rows = await sql<{ value: string }[]>`SELECT value FROM prmain ORDER BY id`
  return rows.map((row) => row.value)
}

void test('optimistic batch: new packages and checksums take one statement', async (t) => {
  const harness = await openHarness(t)
  const first = await harness.run([getPr('a'), getPr('b'), getPr('c', 'v2')])
  assert.deepEqual(outputsOf(first), ['0', '1', '0'])
  // The store remembered v1's maximum: the next batch's guess holds.
  const second = await harness.run([getPr('d'), getPr('e', 'v2')])
  assert.deepEqual(outputsOf(second), ['2', '1'])
  assert.equal(harness.statements.applyCount, 2)
  assert.equal(harness.statements.lockedCount, 0)
  assert.deepEqual(await storedValues(harness.sql), ['0', '1', '0', '2', '1'])
})

void test('optimistic batch: a stale guess is decided again on the locked state', async (t) => {
  const harness = await openHarness(t)
  await harness.run([getPr('a')])
  // Another replica stores 1 and 2 behind this store's back.
  await harness.sql`INSERT INTO prmain (version, pkgarch, checksum, value)
    VALUES ('v1', 'arch', 'x', '1'), ('v1', 'arch', 'y', '2')`
  const entries = await harness.run([getPr('b'), getPr('x'), getPr('c', 'v2')])
  // b is 3, not the guessed 1; x answers its stored value; v2 was not stale and is written once.
  assert.deepEqual(outputsOf(entries), ['3', '1', '0'])
  // One statement for the first batch; two for this one, the second for v1 alone.
  assert.equal(harness.statements.applyCount, 3)
  assert.equal(harness.statements.lockedCount, 0)
  assert.deepEqual(await storedValues(harness.sql), ['0', '1', '2', '0', '3'])
})

void test('optimistic batch: a known checksum is answered from the state read under lock', async (t) => {
  const harness = await openHarness(t)
  await harness.sql`INSERT INTO prmain (version, pkgarch, checksum, value)
    VALUES ('v1', 'arch', 'x', '0'), ('v1', 'arch', 'y', '5')`
  const entries = await harness.run([getPr('x'), getPr('y')])
  assert.deepEqual(outputsOf(entries), ['0', '5'])
  // The first statement found the guess stale and wrote nothing; its locked read decided both.
  assert.equal(harness.statements.applyCount, 1)
  assert.deepEqual(await storedValues(harness.sql), ['0', '5'])
})

void test('optimistic batch: after two stale statements the locked transaction decides', async (t) => {
  const harness = await openHarness(t)
  let interposed = 0
  harness.statements.beforeApply = async () => {
    interposed++
    await harness.sql`INSERT INTO prmain (version, pkgarch, checksum, value)
      VALUES ('v1', 'arch', ${`other-${interposed}`}, ${String(interposed * 10)})`
  }
  const entries = await harness.run([getPr('a'), getPr('b')])
  assert.equal(harness.statements.applyCount, 2)
  assert.equal(harness.statements.lockedCount, 1)
  assert.deepEqual(outputsOf(entries), ['21', '22'])
  assert.deepEqual(await storedValues(harness.sql), ['10', '20', '21', '22'])
})

void test('optimistic batch: outside READ COMMITTED the store falls back to the locked transaction', async (t) => {
  const harness = await openHarness(t, 'serializable')
  const first = await harness.run([getPr('a'), getPr('b')])
  assert.deepEqual(outputsOf(first), ['0', '1'])
  assert.equal(harness.optimistic.isEnabled, false)
  const second = await harness.run([getPr('c')])
  assert.deepEqual(outputsOf(second), ['2'])
  assert.equal(harness.statements.applyCount, 1)
  assert.equal(harness.statements.lockedCount, 2)
  assert.deepEqual(await storedValues(harness.sql), ['0', '1', '2'])
})

void test('optimistic batch: keys with quotes, backslashes, commas and braces round-trip', async (t) => {
  const harness = await openHarness(t)
  const odd = ['say "hi"', 'back\\slash', 'a,b', '{x}', 'NULL', '', 'ünï code']
  const entries = await harness.run(odd.map((text) => getPr(text, `v ${text}`)))
  assert.deepEqual(
    outputsOf(entries),
    odd.map(() => '0'),
  )
  const rows = await harness.sql<{ version: string; checksum: string }[]>`
    SELECT version, checksum FROM prmain ORDER BY id`
  assert.deepEqual(
    rows.map((row) => [row.version, row.checksum]),
    odd.map((text) => [`v ${text}`, text]),
  )
  // Known now: the next batch finds them (no new rows) through the same literals.
  const again = await harness.run(odd.map((text) => getPr(text, `v ${text}`)))
  assert.deepEqual(
    outputsOf(again),
    odd.map(() => '0'),
  )
  assert.equal((await storedValues(harness.sql)).length, odd.length)
})

void test('optimistic batch: replicas with stale guesses never hand out a value twice', async (t) => {
  const db = await createTestDatabase()
  t.after(() => db.drop())
  const replicas = await Promise.all(
    [0, 1].map(() => openPostgresPrStore({ url: db.url, readOnly: false, maxConnections: 2 })),
  )
  t.after(() => Promise.all(replicas.map((replica) => replica.close())))
  const values: string[] = []
  // Alternating replicas: each one's remembered maximum is always one allocation behind.
  for (let index = 0; index < 20; index++) {
    const replica = replicas[index % 2]
    assert.ok(replica !== undefined)
    const key = { version: 'hot', pkgarch: 'arch', checksum: `c${index}` }
    values.push(await replica.getPr(key, index % 3 !== 0, ORIGIN))
  }
  assert.deepEqual(
    values,
    Array.from({ length: 20 }, (_, index) => String(index)),
  )
})

void test('optimistic batch: an import repeating a row stored or decided before is skipped', async (t) => {
  const harness = await openHarness(t)
  const key = (checksum: string): PrKey => ({ version: 'v1', pkgarch: 'arch', checksum })
  await harness.sql`INSERT INTO prmain (version, pkgarch, checksum, value)
    VALUES ('v1', 'arch', 'old', '3')`
  const entries = await harness.run([
    { kind: 'import', key: key('old'), value: '3' },
    getPr('new'),
    // The row get-pr just decided, imported again in the same batch.
    { kind: 'import', key: key('new'), value: '4' },
    { kind: 'import', key: key('other'), value: '2' },
  ])
  assert.deepEqual(outputsOf(entries), [null, '4', null, null])
  assert.deepEqual(await storedValues(harness.sql), ['3', '4', '2'])
})

void test('optimistic batch: package locks exclude servers of the previous schema (rolling upgrade)', async (t) => {
  const harness = await openHarness(t)
  const holder = await harness.sql.reserve()
  const apply = (lockTimeoutMs: number) => harness.sql`SELECT * FROM prserv_apply(
    '{v1}', '{arch}', '{NULL}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}',
    '{0}', '{c}', '{0}', '{peer}', '{f}', ${lockTimeoutMs}::integer)`
  try {
    // A server at schema 3 holds the package lock with its JSON function, mid-transaction.
    await holder.unsafe('BEGIN')
    await holder`SELECT * FROM prserv_lock_and_read(${JSON.stringify([
      { k: 'p', i: 0, p: 0, v: 'v1', a: 'arch' },
    ])}::text::jsonb)`
    await assert.rejects(apply(100), (error: unknown) => {
      assert.ok(error instanceof Error)
      assert.equal(Reflect.get(error, 'code'), '55P03')
      return true
    })
    await holder.unsafe('COMMIT')
  } finally {
    // Released here: the harness's clean-up (t.after) waits for reserved connections.
    holder.release()
  }
  assert.deepEqual([...(await apply(1_000))], [])
  assert.deepEqual(await storedValues(harness.sql), ['0'])
})
