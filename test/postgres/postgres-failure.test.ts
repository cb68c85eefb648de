/**
 * PostgresPrStore when PostgreSQL fails (issue #3 §3): requests fail fast with a StorageError
 * saying "database unavailable", the store recovers by itself, and no acknowledged value is
 * lost. Uses a server the test may stop (test/support/postgres.ts) and a TCP proxy.
 */
import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import type { TestContext } from 'node:test'
import postgres from 'postgres'
import { StorageError } from '../../src/protocol/errors.js'
import { openPostgresPrStore } from '../../src/storage/postgres/postgres-pr-store.js'
import type { PostgresPrStore } from '../../src/storage/postgres/postgres-pr-store.js'
import { createTestDatabase, getRestartablePostgres } from '../support/postgres.js'
import type { TestDatabase } from '../support/postgres.js'
import { startTcpProxy } from '../support/tcp-proxy.js'

const OPERATION_TIMEOUT_MS = 2_000
/** Slack for timers and a loaded test machine on top of the operation deadline. */
const FAIL_FAST_SLACK_MS = 1_500
const ORIGIN = { peer: '192.0.2.1:1' }

async function openStore(t: TestContext, url: string): Promise<PostgresPrStore> {
  const store = await openPostgresPrStore({
    url,
    readOnly: false,
    maxConnections: 6,
    operationTimeoutMs: OPERATION_TIMEOUT_MS,
    connectTimeoutMs: 1_000,
    lockTimeoutMs: 1_000,
  })
  t.after(() => store.close())
  return store
}

async function database(t: TestContext): Promise<TestDatabase> {
  const db = await createTestDatabase(await getRestartablePostgres())
  t.after(() => db.drop())
  return db
}

/** Load of `clients` loops allocating new checksums; records answers and failures. */
function startLoad(store: PostgresPrStore, clients: number) {
  const acknowledged: { checksum: string; value: string }[] = []
  const failures: { error: unknown; elapsedMs: number }[] = []
  let isRunning = true
  const loops = Array.from({ length: clients }, async (_, client) => {
    for (let index = 0; isRunning; index++) {
      const checksum = `load-${client}-${index}`
      const startedMs = performance.now()
      try {
        const value = await store.getPr({ version: 'v', pkgarch: 'a', checksum }, false, ORIGIN)
        acknowledged.push({ checksum, value })
      } catch (error: unknown) {
        failures.push({ error, elapsedMs: performance.now() - startedMs })
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    }
  })
  return {
    acknowledged,
    failures,
    async stop(): Promise<void> {
      isRunning = false
      await Promise.all(loops)
    },
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Every acknowledged value is stored, and no value of the package is stored twice. */
async function assertInvariant(
  url: string,
  acknowledged: readonly { checksum: string; value: string }[],
) {
  const sql = postgres(url, { max: 1 })
  try {
    const rows = await sql<{ checksum: string; value: string }[]>`
      SELECT checksum, value FROM prmain WHERE version = 'v' AND pkgarch = 'a'`
    const stored = new Set(rows.map((row) => `${row.checksum}=${row.value}`))
    for (const { checksum, value } of acknowledged) {
      assert.ok(stored.has(`${checksum}=${value}`), `acknowledged ${checksum}=${value} is stored`)
    }
    assert.equal(new Set(rows.map((row) => row.value)).size, rows.length, 'no value twice')
  } finally {
    await sql.end()
  }
}

function assertFailedFast(failures: readonly { error: unknown; elapsedMs: number }[]): void {
  assert.ok(failures.length > 0, 'some requests failed')
  for (const { error, elapsedMs } of failures) {
    assert.ok(error instanceof StorageError, 'a StorageError')
    assert.match(error.message, /^database unavailable/)
    assert.ok(elapsedMs < OPERATION_TIMEOUT_MS + FAIL_FAST_SLACK_MS, `failed after ${elapsedMs} ms`)
  }
}

void test('postgres store: a restarted database fails requests fast, then serves again (issue #3)', async (t) => {
  const server = await getRestartablePostgres()
  const db = await database(t)
  const store = await openStore(t, db.url)
  const load = startLoad(store, 16)
  await waitFor(() => load.acknowledged.length > 100, 10_000)
  assert.equal(store.stats().isDatabaseAvailable, true)
  await server.stop()
  const failedBefore = load.failures.length
  await waitFor(() => load.failures.length > failedBefore + 50, 10_000)
  // What `store_database_up` reports while the database is down.
  assert.equal(store.stats().isDatabaseAvailable, false)
  const answeredWhileDown = load.acknowledged.length
  await server.start()
  await waitFor(() => load.acknowledged.length > answeredWhileDown + 100, 10_000)
  assert.equal(store.stats().isDatabaseAvailable, true)
  await load.stop()
  const { writeBatches, batchedWrites, queuedWrites } = store.stats()
  assert.ok(writeBatches > 0 && batchedWrites >= writeBatches, `${writeBatches} ${batchedWrites}`)
  assert.equal(queuedWrites, 0)
  assertFailedFast(load.failures)
  await assertInvariant(db.url, load.acknowledged)
})

void test('postgres store: backends terminated mid-allocation fail only their requests', async (t) => {
  const db = await database(t)
  const store = await openStore(t, db.url)
  const load = startLoad(store, 16)
  const admin = postgres(db.url, { max: 1 })
  t.after(() => admin.end())
  for (let round = 0; round < 5; round++) {
    const answered = load.acknowledged.length
    await waitFor(() => load.acknowledged.length > answered + 50, 10_000)
    await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE application_name = 'prserv' AND pid <> pg_backend_pid()`
  }
  const answered = load.acknowledged.length
  await waitFor(() => load.acknowledged.length > answered + 50, 10_000)
  await load.stop()
  assertFailedFast(load.failures)
  await assertInvariant(db.url, load.acknowledged)
})

void test('postgres store: an unreachable database (network partition) fails within the deadline', async (t) => {
  const server = await getRestartablePostgres()
  const db = await database(t)
  const target = new URL(server.adminUrl)
  const proxy = await startTcpProxy(target.hostname, Number(target.port))
  t.after(() => proxy.close())
  const store = await openStore(t, proxy.proxiedUrl(db.url))
  const load = startLoad(store, 8)
  await waitFor(() => load.acknowledged.length > 50, 10_000)
  proxy.setMode('black-hole')
  const failedBefore = load.failures.length
  await waitFor(() => load.failures.length > failedBefore + 16, 10_000)
  const answered = load.acknowledged.length
  proxy.setMode('forward')
  await waitFor(() => load.acknowledged.length > answered + 50, 15_000)
  await load.stop()
  assertFailedFast(load.failures)
  await assertInvariant(db.url, load.acknowledged)
})

void test('postgres store: opening on a stopped database fails promptly with a StorageError', async (t) => {
  const server = await getRestartablePostgres()
  const db = await database(t)
  await server.stop()
  try {
    const startedMs = performance.now()
    await assert.rejects(
      openPostgresPrStore({
        url: db.url,
        readOnly: false,
        maxConnections: 2,
        connectTimeoutMs: 1_000,
      }),
      (error: unknown) =>
        error instanceof StorageError && /^database unavailable/.test(error.message),
    )
    assert.ok(performance.now() - startedMs < OPERATION_TIMEOUT_MS + FAIL_FAST_SLACK_MS)
  } finally {
    await server.start()
  }
})
