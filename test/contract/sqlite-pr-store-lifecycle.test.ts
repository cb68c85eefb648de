/**
 * SQLite store lifecycle: opening (and refusing to open), durability of acknowledged values,
 * the bounded write queue, lock contention with another process, and draining on close.
 */
import { strict as assert } from 'node:assert'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { StorageError } from '../../src/protocol/errors.js'
import { openSqlitePrStore } from '../../src/storage/sqlite/sqlite-pr-store.js'
import { openAsBitBake, openStoreFor, tempDatabasePath } from './sqlite-test-support.js'

const ORIGIN = { peer: '203.0.113.9:40000' }
const PKG = { version: 'v', pkgarch: 'a' }
const key = (checksum: string) => ({ ...PKG, checksum })

function storageError(pattern: RegExp): (error: unknown) => boolean {
  return (error: unknown) => error instanceof StorageError && pattern.test(error.message)
}

void test('sqlite pr store: read-only open refuses missing files and tables', async (t) => {
  const missing = await tempDatabasePath(t)
  await assert.rejects(
    openSqlitePrStore({ path: missing, readOnly: true }),
    storageError(/does not exist/),
  )
  assert.equal(existsSync(missing), false)
  const noTable = join(dirname(missing), 'other.sqlite3')
  const other = new Database(noTable)
  other.exec('CREATE TABLE unrelated (x)')
  other.close()
  await assert.rejects(
    openSqlitePrStore({ path: noTable, readOnly: true }),
    storageError(/no PRMAIN table/),
  )
  const garbage = join(dirname(missing), 'garbage.sqlite3')
  await writeFile(garbage, 'this is not a database, just text long enough to be read'.repeat(20))
  await assert.rejects(openSqlitePrStore({ path: garbage, readOnly: true }), StorageError)
  await assert.rejects(openSqlitePrStore({ path: garbage, readOnly: false }), StorageError)
})

void test('sqlite pr store: read-write open creates directories, file and WAL', async (t) => {
  const base = await tempDatabasePath(t)
  const path = join(dirname(base), 'deep', 'er', 'prserv.sqlite3')
  const store = await openStoreFor(t, { path, readOnly: false })
  assert.equal(await store.getPr(key('a'), false, ORIGIN), '0')
  const check = new Database(path, { readonly: true })
  assert.equal(check.pragma('journal_mode', { simple: true }), 'wal')
  check.close()
})

void test('sqlite pr store: a newer prserv schema is refused', async (t) => {
  const path = await tempDatabasePath(t)
  await (await openSqlitePrStore({ path, readOnly: false })).close()
  const db = new Database(path)
  db.exec("UPDATE prserv_meta SET value = '99' WHERE key = 'schema_version'")
  db.close()
  for (const readOnly of [false, true]) {
    await assert.rejects(openSqlitePrStore({ path, readOnly }), storageError(/schema version 99/))
  }
})

void test('sqlite pr store: every acknowledged value is in the file already', async (t) => {
  const path = await tempDatabasePath(t)
  const store = await openStoreFor(t, { path, readOnly: false })
  const check = new Database(path, { readonly: true })
  t.after(() => check.close())
  const stored = check.prepare<[string, string], { found: number }>(
    'SELECT 1 AS found FROM PRMAIN WHERE checksum = ? AND value = ?',
  )
  const seen = await Promise.all(
    Array.from({ length: 50 }, (_, index) =>
      store
        .getPr(key(`c${index}`), false, ORIGIN)
        .then((value) => stored.get(`c${index}`, value) !== undefined),
    ),
  )
  assert.deepEqual(new Set(seen), new Set([true]))
})

void test('sqlite pr store: writes beyond maxPendingWrites fail "server overloaded"', async (t) => {
  const path = await tempDatabasePath(t)
  const store = await openStoreFor(t, { path, readOnly: false, maxPendingWrites: 2 })
  const outcomes = await Promise.allSettled(
    Array.from({ length: 10 }, (_, index) => store.getPr(key(`c${index}`), false, ORIGIN)),
  )
  const fulfilled = outcomes.filter((outcome) => outcome.status === 'fulfilled')
  assert.equal(fulfilled.length, 2)
  for (const outcome of outcomes) {
    if (outcome.status === 'rejected') assert.ok(storageError(/overloaded/)(outcome.reason))
  }
  assert.equal(await store.getPr(key('later'), false, ORIGIN), '2')
})

void test('sqlite pr store: a locked database fails the batch, then recovers', async (t) => {
  const path = await tempDatabasePath(t)
  const store = await openStoreFor(t, { path, readOnly: false, busyTimeoutMs: 50 })
  assert.equal(await store.getPr(key('a'), false, ORIGIN), '0')
  const other = openAsBitBake(path)
  t.after(() => other.close())
  other.exec('BEGIN IMMEDIATE')
  const blocked = await Promise.allSettled([
    store.getPr(key('b'), false, ORIGIN),
    store.importOne(key('c'), '5', ORIGIN),
  ])
  for (const outcome of blocked) {
    if (outcome.status !== 'rejected') assert.fail('a write succeeded on a locked database')
    assert.ok(storageError(/transaction failed/)(outcome.reason))
  }
  assert.equal(await store.getPr(key('a'), false, ORIGIN), '0')
  other.exec('ROLLBACK')
  assert.equal(await store.getPr(key('b'), false, ORIGIN), '1')
  assert.equal(store.writerFailure, null)
})

void test('sqlite pr store: close waits for queued writes and is idempotent', async (t) => {
  const path = await tempDatabasePath(t)
  const store = await openSqlitePrStore({ path, readOnly: false })
  const pending = Array.from({ length: 50 }, (_, index) =>
    store.getPr(key(`c${index}`), false, ORIGIN),
  )
  const closed = store.close()
  assert.equal(store.close(), closed)
  const values = await Promise.all(pending)
  await closed
  assert.equal(new Set(values).size, 50)
  await assert.rejects(store.getPr(key('late'), false, ORIGIN), storageError(/closed/))
  await assert.rejects(store.maxPackagePr(PKG), storageError(/closed/))
  const reopened = await openStoreFor(t, { path, readOnly: true })
  assert.equal(await reopened.maxPackagePr(PKG), '49')
})
