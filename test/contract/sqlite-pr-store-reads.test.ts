/**
 * SQLite store reads on the main thread: the cache of final get-pr answers and the per-turn
 * read snapshot must never hide a commit of our writer, and must see another connection's
 * commit from the next event-loop turn on. Also the writer's batch without savepoints, and
 * the schema migration that dropped the per-checksum index.
 */
import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import { setImmediate as nextTurn } from 'node:timers/promises'
import Database from 'better-sqlite3'
import { StorageError } from '../../src/protocol/errors.js'
import { CURRENT_SCHEMA_VERSION } from '../../src/storage/sqlite/sqlite-migrations.js'
import { openSqlitePrStore } from '../../src/storage/sqlite/sqlite-pr-store.js'
import {
  insertAsBitBake,
  openAsBitBake,
  openStoreFor,
  tempDatabasePath,
} from './sqlite-test-support.js'

const ORIGIN = { peer: '198.51.100.7:52000' }
const V = 'bar-2.0-r0'
const P = 'core2-64'
const key = (checksum: string) => ({ version: V, pkgarch: P, checksum })
const PKG = { version: V, pkgarch: P }

void test('sqlite pr store: our own allocation invalidates cached get-pr answers', async (t) => {
  const path = await tempDatabasePath(t)
  const store = await openStoreFor(t, { path, readOnly: false })
  assert.equal(await store.getPr(key('a'), false, ORIGIN), '0')
  // Answered on the main thread (and cached) from now on.
  assert.equal(await store.getPr(key('a'), false, ORIGIN), '0')
  assert.equal(await store.getPr(key('a'), true, ORIGIN), '0')
  assert.equal(await store.getPr(key('b'), false, ORIGIN), '1')
  // Without history, a value under the package maximum is replaced; with history it stays.
  assert.equal(await store.getPr(key('a'), false, ORIGIN), '2')
  assert.equal(await store.getPr(key('a'), true, ORIGIN), '0')
  assert.equal(await store.getPr(key('b'), false, ORIGIN), '3')
  assert.equal(await store.maxPackagePr({ version: V, pkgarch: P }), '3')
})

void test('sqlite pr store: another connection writing PRMAIN is seen by the next get-pr', async (t) => {
  const path = await tempDatabasePath(t)
  const store = await openStoreFor(t, { path, readOnly: false })
  const reader = await openStoreFor(t, { path, readOnly: true })
  assert.equal(await store.getPr(key('a'), false, ORIGIN), '0')
  for (const each of [store, reader]) {
    assert.equal(await each.getPr(key('a'), false, ORIGIN), '0')
    assert.equal(await each.getPr(key('a'), false, ORIGIN), '0')
  }
  const bitbake = openAsBitBake(path)
  t.after(() => bitbake.close())
  insertAsBitBake(bitbake, [
    [V, P, 'a', '4'],
    [V, P, 'z', '7'],
  ])
  // Commits of other connections are seen from the next event-loop turn on.
  await nextTurn()
  assert.equal(await reader.getPr(key('a'), false, ORIGIN), '8')
  assert.equal(await reader.getPr(key('a'), true, ORIGIN), '0')
  assert.equal(await store.getPr(key('a'), true, ORIGIN), '0')
  assert.equal(await store.getPr(key('z'), false, ORIGIN), '7')
  assert.equal(await store.getPr(key('a'), false, ORIGIN), '8')
  await nextTurn()
  assert.equal(await reader.getPr(key('a'), false, ORIGIN), '8')
})

void test('sqlite pr store: a second read-write store on the file invalidates the first', async (t) => {
  const path = await tempDatabasePath(t)
  const first = await openStoreFor(t, { path, readOnly: false })
  const second = await openStoreFor(t, { path, readOnly: false })
  assert.equal(await first.getPr(key('a'), false, ORIGIN), '0')
  assert.equal(await first.getPr(key('a'), false, ORIGIN), '0')
  assert.equal(await second.getPr(key('b'), false, ORIGIN), '1')
  await nextTurn()
  assert.equal(await first.getPr(key('a'), false, ORIGIN), '2')
  await nextTurn()
  assert.equal(await second.getPr(key('a'), false, ORIGIN), '2')
  assert.equal(await second.testPr(key('a'), true), '0')
})

void test('sqlite pr store: reads within one turn share one snapshot', async (t) => {
  const path = await tempDatabasePath(t)
  const store = await openStoreFor(t, { path, readOnly: false })
  assert.equal(await store.getPr(key('a'), false, ORIGIN), '0')
  const bitbake = openAsBitBake(path)
  t.after(() => bitbake.close())
  assert.equal(await store.maxPackagePr({ version: V, pkgarch: P }), '0')
  insertAsBitBake(bitbake, [[V, P, 'b', '5']])
  assert.equal(await store.maxPackagePr({ version: V, pkgarch: P }), '0')
  await nextTurn()
  assert.equal(await store.maxPackagePr({ version: V, pkgarch: P }), '5')
})

void test('sqlite pr store: an operation failing inside a batch fails alone', async (t) => {
  const path = await tempDatabasePath(t)
  const store = await openStoreFor(t, { path, readOnly: false })
  assert.equal(await store.getPr(key('first'), false, ORIGIN), '0')
  const other = openAsBitBake(path)
  t.after(() => other.close())
  other.exec(
    "CREATE TRIGGER refuse_bad BEFORE INSERT ON PRMAIN WHEN NEW.checksum = 'bad' " +
      "BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END",
  )
  const outcomes = await Promise.allSettled([
    store.getPr(key('ok1'), false, ORIGIN),
    store.getPr(key('bad'), false, ORIGIN),
    store.getPr(key('ok2'), false, ORIGIN),
  ])
  assert.deepEqual(outcomes[0], { status: 'fulfilled', value: '1' })
  const failed = outcomes[1]
  if (failed.status !== 'rejected') assert.fail('the refused insert was acknowledged')
  assert.ok(failed.reason instanceof StorageError)
  assert.match(failed.reason.message, /refused by test trigger/)
  assert.deepEqual(outcomes[2], { status: 'fulfilled', value: '2' })
  other.exec('DROP TRIGGER refuse_bad')
  assert.equal(await store.getPr(key('bad'), false, ORIGIN), '3')
  const rows = other.prepare('SELECT count(*) FROM prserv_order').pluck().get()
  assert.equal(rows, 4)
})

void test('sqlite pr store: schema 1 files lose the per-checksum index on open', async (t) => {
  const path = await tempDatabasePath(t)
  const created = await openSqlitePrStore({ path, readOnly: false })
  assert.equal(await created.getPr(key('a'), false, ORIGIN), '0')
  await created.close()
  const old = openAsBitBake(path)
  t.after(() => old.close())
  old.exec(
    'CREATE INDEX prserv_order_by_checksum ON prserv_order (version, pkgarch, checksum, sort_key)',
  )
  old.exec("UPDATE prserv_meta SET value = '1' WHERE key = 'schema_version'")
  const store = await openStoreFor(t, { path, readOnly: false })
  const indexes = old
    .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'prserv_order'")
    .pluck()
    .all()
  assert.deepEqual(indexes, ['prserv_order_by_package'])
  const version = old
    .prepare("SELECT value FROM prserv_meta WHERE key = 'schema_version'")
    .pluck()
    .get()
  assert.equal(version, String(CURRENT_SCHEMA_VERSION))
  assert.equal(await store.getPr(key('a'), false, ORIGIN), '0')
  assert.equal(await store.getPr(key('b'), false, ORIGIN), '1')
})

/** A file whose PRMAIN stores values as numbers (INTEGER affinity), as other software makes. */
function makeIntegerValuedFile(path: string): void {
  const db = new Database(path)
  db.exec(`CREATE TABLE PRMAIN (version TEXT NOT NULL, pkgarch TEXT NOT NULL,
    checksum TEXT NOT NULL, value INTEGER, PRIMARY KEY (version, pkgarch, checksum, value))`)
  const insert = db.prepare('INSERT INTO PRMAIN VALUES (?, ?, ?, ?)')
  for (const [checksum, value] of [
    ['a', 0],
    ['b', 9],
    ['c', 10],
  ] as const) {
    insert.run(V, P, checksum, value)
  }
  db.close()
}

void test('sqlite pr store: values PRMAIN stores as numbers count in every maximum', async (t) => {
  const path = await tempDatabasePath(t)
  makeIntegerValuedFile(path)
  const store = await openStoreFor(t, { path, readOnly: false })
  assert.equal(await store.maxPackagePr(PKG), '10')
  assert.equal(await store.getPr(key('new'), false, ORIGIN), '11')
  assert.equal(await store.getPr(key('a'), false, ORIGIN), '12')
  const noHistory = { version: null, pkgarch: null, checksum: null, history: false }
  const maxima = await store.exportRows(noHistory)
  assert.deepEqual(
    maxima.map((row) => `${row.checksum}:${row.value ?? 'null'}`),
    ['a:12'],
  )
})

void test('sqlite pr store: schema 2 files get the sort keys of numeric values on open', async (t) => {
  const path = await tempDatabasePath(t)
  makeIntegerValuedFile(path)
  const created = await openSqlitePrStore({ path, readOnly: false })
  await created.close()
  // What earlier builds left behind: no sort key for values stored as numbers.
  const old = new Database(path)
  t.after(() => old.close())
  old.exec('UPDATE prserv_order SET sort_key = NULL')
  old.exec("UPDATE prserv_meta SET value = '2' WHERE key = 'schema_version'")
  const store = await openStoreFor(t, { path, readOnly: false })
  assert.equal(await store.maxPackagePr(PKG), '10')
  assert.equal(await store.getPr(key('new'), true, ORIGIN), '11')
})
