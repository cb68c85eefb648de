/**
 * Several PostgresPrStore instances on one database stand for several server replicas
 * (issue #3 §2): the allocation invariant is checked by reading the table afterwards.
 */
import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import type { TestContext } from 'node:test'
import postgres from 'postgres'
import type { PrKey } from '../../src/services/prserv/pr-store.js'
import { openPostgresPrStore } from '../../src/storage/postgres/postgres-pr-store.js'
import type { PostgresPrStore } from '../../src/storage/postgres/postgres-pr-store.js'
import { createTestDatabase } from '../support/postgres.js'

const ORIGIN = { peer: '192.0.2.2:2' }

async function openReplicas(
  t: TestContext,
  count: number,
): Promise<{ url: string; replicas: PostgresPrStore[] }> {
  const db = await createTestDatabase()
  t.after(() => db.drop())
  // Half the replicas run as behind a pooler without prepared statements.
  const replicas = await Promise.all(
    Array.from({ length: count }, (_, index) =>
      openPostgresPrStore({
        url: db.url,
        readOnly: false,
        maxConnections: 4,
        prepareStatements: index % 2 === 0,
      }),
    ),
  )
  t.after(() => Promise.all(replicas.map((replica) => replica.close())))
  return { url: db.url, replicas }
}

/** Round-robin over replicas, as a load balancer would. */
function pick(replicas: readonly PostgresPrStore[], index: number): PostgresPrStore {
  const replica = replicas[index % replicas.length]
  if (replica === undefined) throw new Error('no replicas')
  return replica
}

interface Row {
  readonly version: string
  readonly pkgarch: string
  readonly checksum: string
  readonly value: string
}

async function readRows(url: string): Promise<Row[]> {
  const sql = postgres(url, { max: 1 })
  try {
    return await sql<Row[]>`SELECT version, pkgarch, checksum, value FROM prmain ORDER BY id`
  } finally {
    await sql.end()
  }
}

/** Each package's values are exactly "0".."n-1": distinct, consecutive, none handed out twice. */
function assertConsecutivePerPackage(rows: readonly Row[]): void {
  const byPackage = new Map<string, number[]>()
  for (const row of rows) {
    const id = `${row.version}/${row.pkgarch}`
    byPackage.set(id, [...(byPackage.get(id) ?? []), Number(row.value)])
  }
  for (const [id, values] of byPackage) {
    const sorted = [...values].sort((a, b) => a - b)
    assert.deepEqual(
      sorted,
      Array.from({ length: values.length }, (_, index) => index),
      id,
    )
  }
}

interface Request {
  readonly key: PrKey
  readonly history: boolean
}

/** A mix: new checksums on one hot package and on 32 others, repeated ones in both modes. */
function mixedRequests(count: number): Request[] {
  return Array.from({ length: count }, (_, index): Request => {
    switch (index % 4) {
      case 0:
        return { key: { version: 'hot', pkgarch: 'all', checksum: `new-${index}` }, history: false }
      case 1:
        return {
          key: { version: 'hot', pkgarch: 'all', checksum: `h-${index % 20}` },
          history: true,
        }
      case 2:
        return {
          key: { version: `p${index % 32}`, pkgarch: 'x', checksum: `c${index}` },
          history: false,
        }
      default:
        return {
          key: { version: 'hot', pkgarch: 'all', checksum: `n-${index % 10}` },
          history: false,
        }
    }
  })
}

void test('postgres replicas: 4 replicas and 800 concurrent allocations keep the invariant', async (t) => {
  const { url, replicas } = await openReplicas(t, 4)
  const requests = mixedRequests(800)
  const answers = await Promise.all(
    requests.map(({ key, history }, index) => pick(replicas, index).getPr(key, history, ORIGIN)),
  )
  const rows = await readRows(url)
  assertConsecutivePerPackage(rows)
  const stored = new Set(rows.map((row) => JSON.stringify([row.version, row.checksum, row.value])))
  const historyAnswers = new Map<string, Set<string | undefined>>()
  requests.forEach(({ key, history }, index) => {
    const value = answers[index]
    assert.ok(stored.has(JSON.stringify([key.version, key.checksum, value])), 'answer is stored')
    if (history) {
      historyAnswers.set(key.checksum, (historyAnswers.get(key.checksum) ?? new Set()).add(value))
    }
  })
  for (const [checksum, values] of historyAnswers) {
    assert.equal(values.size, 1, `one history answer for ${checksum}`)
  }
})

void test('postgres replicas: one new key asked on every replica at once gets one answer', async (t) => {
  const { url, replicas } = await openReplicas(t, 4)
  for (const history of [false, true]) {
    const key = { version: `same-${String(history)}`, pkgarch: 'a', checksum: 'c' }
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, index) => pick(replicas, index).getPr(key, history, ORIGIN)),
    )
    assert.deepEqual(new Set(answers), new Set(['0']))
  }
  assert.equal((await readRows(url)).length, 2)
})

void test('postgres replicas: sub-values and imports from every replica stay distinct', async (t) => {
  const { url, replicas } = await openReplicas(t, 4)
  const subValues = await Promise.all(
    Array.from({ length: 80 }, (_, index) =>
      pick(replicas, index).allocateSubValue(
        { version: 'up', pkgarch: 'a', checksum: `s${index}` },
        '5',
        false,
        ORIGIN,
      ),
    ),
  )
  const expected = Array.from({ length: 80 }, (_, index) => `5.${index}`)
  assert.deepEqual([...subValues].sort(), [...expected].sort())
  await Promise.all(
    replicas.map((replica) =>
      replica.importOne({ version: 'imp', pkgarch: 'a', checksum: 'i' }, '3', ORIGIN),
    ),
  )
  const imported = (await readRows(url)).filter((row) => row.version === 'imp')
  assert.equal(imported.length, 1)
})

void test('postgres replicas: a read-only replica answers would-be values and never writes', async (t) => {
  const { url, replicas } = await openReplicas(t, 2)
  const readOnly = await openPostgresPrStore({ url, readOnly: true, maxConnections: 2 })
  t.after(() => readOnly.close())
  const key = (checksum: string): PrKey => ({ version: 'ro', pkgarch: 'a', checksum })
  const [written, wouldBe] = await Promise.all([
    Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        pick(replicas, index).getPr(key(`w${index}`), false, ORIGIN),
      ),
    ),
    Promise.all(Array.from({ length: 50 }, () => readOnly.getPr(key('ro-only'), false, ORIGIN))),
  ])
  assert.equal(written.length, 50)
  for (const value of wouldBe) assert.ok(Number(value) <= 50)
  const rows = await readRows(url)
  assert.equal(rows.length, 50)
  assert.ok(rows.every((row) => row.checksum !== 'ro-only'))
  assert.equal(await readOnly.getPr(key('ro-only'), false, ORIGIN), '50')
})

/**
 * A store on a fresh database whose package ("locked", "a") is locked by another session (as
 * by another replica's transaction) until `release()`.
 */
async function storeWithLockedPackage(
  t: TestContext,
  timeouts: { readonly lockTimeoutMs: number; readonly operationTimeoutMs?: number },
): Promise<{ store: PostgresPrStore; release: () => Promise<void> }> {
  const db = await createTestDatabase()
  t.after(() => db.drop())
  const store = await openPostgresPrStore({
    url: db.url,
    readOnly: false,
    maxConnections: 4,
    ...timeouts,
  })
  t.after(() => store.close())
  const other = postgres(db.url, { max: 1, onnotice: () => undefined })
  t.after(() => other.end())
  const reserved = await other.reserve()
  await reserved`BEGIN`
  await reserved`SELECT pg_advisory_xact_lock(hashtextextended('a', hashtextextended('locked', 0)))`
  const release = async (): Promise<void> => {
    await reserved`COMMIT`
    reserved.release()
  }
  return { store, release }
}

void test('postgres replicas: a package lock held elsewhere holds up only that package', async (t) => {
  const { store, release } = await storeWithLockedPackage(t, {
    lockTimeoutMs: 10_000,
    operationTimeoutMs: 15_000,
  })
  const blocked = store.getPr({ version: 'locked', pkgarch: 'a', checksum: 'c' }, false, ORIGIN)
  let isBlockedAnswered = false
  void blocked.then(() => {
    isBlockedAnswered = true
  })
  await new Promise((resolve) => setTimeout(resolve, 100))
  // Its batch waits for the lock; a request for another package gets a batch of its own.
  const free = await store.getPr({ version: 'free', pkgarch: 'a', checksum: 'c' }, false, ORIGIN)
  assert.equal(free, '0')
  assert.equal(isBlockedAnswered, false)
  await release()
  assert.equal(await blocked, '0')
})

void test('postgres replicas: a lock wait that times out fails only that package', async (t) => {
  const { store, release } = await storeWithLockedPackage(t, { lockTimeoutMs: 300 })
  // Submitted in one turn: one batch, whose statement times out waiting for "locked".
  const outcomes = await Promise.allSettled(
    ['locked', 'free-1', 'free-2'].map((version) =>
      store.getPr({ version, pkgarch: 'a', checksum: 'c' }, false, ORIGIN),
    ),
  )
  await release()
  assert.deepEqual(
    outcomes.map((outcome) =>
      outcome.status === 'fulfilled' ? outcome.value : String(outcome.reason),
    ),
    ['StorageError: database busy: package lock wait timed out during allocation', '0', '0'],
  )
  assert.equal(
    await store.getPr({ version: 'locked', pkgarch: 'a', checksum: 'c' }, false, ORIGIN),
    '0',
  )
})
