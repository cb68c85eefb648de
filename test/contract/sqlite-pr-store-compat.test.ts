/**
 * SQLite store and BitBake on one file: opening BitBake's database in place, rows BitBake
 * appends, a renumbered PRMAIN, old tables, and read-only stores on BitBake-only files.
 */
import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import { setImmediate as nextTurn } from 'node:timers/promises'
import Database from 'better-sqlite3'
import { StorageError } from '../../src/protocol/errors.js'
import type { PrRow } from '../../src/services/prserv/pr-store.js'
import {
  countLegacyPrRows,
  pageLegacyPrRows,
} from '../../src/storage/sqlite/sqlite-legacy-tables.js'
import {
  insertAsBitBake,
  openAsBitBake,
  openStoreFor,
  prmainSchema,
  schemaNames,
  tempDatabasePath,
} from './sqlite-test-support.js'

const ORIGIN = { peer: '198.51.100.4:51000' }

/** Every row of the old tables of `path`, table by table, read in pages of one row. */
function listLegacyRows(path: string): (PrRow & { table: string })[] {
  const rows: (PrRow & { table: string })[] = []
  for (const { table } of countLegacyPrRows(path)) {
    for (const page of pageLegacyPrRows(path, table, 1)) {
      for (const { version, pkgarch, checksum, value, createdAt, peer } of page) {
        assert.deepEqual([createdAt, peer], [null, null], 'old tables have no audit trail')
        rows.push({ table, version, pkgarch, checksum, value })
      }
    }
  }
  return rows
}
const V = 'foo-1.0-r0'
const P = 'core2-64'
const PKG = { version: V, pkgarch: P }
const key = (checksum: string, version = V) => ({ version, pkgarch: P, checksum })

void test('sqlite pr store: opens a BitBake file in place, PRMAIN untouched', async (t) => {
  const path = await tempDatabasePath(t)
  const bitbake = openAsBitBake(path)
  insertAsBitBake(bitbake, [
    [V, P, 'a0', '0'],
    [V, P, 'a1', '1'],
    [V, P, 'a0', '9'],
    [V, P, 'a2', '10'],
    [V, 'imp', 'c1', null],
  ])
  const schemaBefore = prmainSchema(bitbake)
  bitbake.close()
  const store = await openStoreFor(t, { path, readOnly: false })
  assert.equal(await store.maxPackagePr(PKG), '10')
  assert.equal(await store.testPr(key('a0'), true), '0')
  assert.equal(await store.getPr(key('a0'), false, ORIGIN), '11')
  assert.equal(await store.getPr(key('new'), false, ORIGIN), '12')
  const rows = await store.exportRows({
    version: null,
    pkgarch: null,
    checksum: null,
    history: true,
  })
  assert.deepEqual(
    rows.map((row) => [row.checksum, row.value, row.peer]),
    [
      ['a0', '0', null],
      ['a1', '1', null],
      ['a0', '9', null],
      ['a2', '10', null],
      ['c1', null, null],
      ['a0', '11', ORIGIN.peer],
      ['new', '12', ORIGIN.peer],
    ],
  )
  await store.close()
  const after = openAsBitBake(path)
  assert.deepEqual(prmainSchema(after), schemaBefore)
  assert.equal(after.pragma('journal_mode', { simple: true }), 'wal')
  insertAsBitBake(after, [[V, P, 'bb', '13']])
  assert.equal(after.prepare('SELECT count(*) AS n FROM PRMAIN').pluck().get(), 8)
  after.close()
})

void test('sqlite pr store: rows BitBake appends are seen at once and after restart', async (t) => {
  const path = await tempDatabasePath(t)
  const store = await openStoreFor(t, { path, readOnly: false })
  const reader = await openStoreFor(t, { path, readOnly: true })
  assert.equal(await store.getPr(key('a'), false, ORIGIN), '0')
  const bitbake = openAsBitBake(path)
  t.after(() => bitbake.close())
  insertAsBitBake(bitbake, [
    [V, P, 'b', '1.9'],
    [V, P, 'b', '1.10'],
    ['other', P, 'x', '4'],
  ])
  for (const each of [store, reader]) {
    assert.equal(await each.maxPackagePr(PKG), '1.10')
    assert.equal(await each.testPr(key('b'), true), '1.9')
    assert.equal(await each.testPackage({ version: 'other', pkgarch: P }), true)
  }
  assert.equal(await reader.allocateSubValue(key('s'), '1', false, ORIGIN), '1.11')
  assert.equal(await store.allocateSubValue(key('s'), '1', false, ORIGIN), '1.11')
  assert.equal(await store.getPr(key('c'), false, ORIGIN), '1.12')
  assert.equal(await reader.getPr(key('d'), false, ORIGIN), '1.13')
  await store.close()
  insertAsBitBake(bitbake, [[V, P, 'e', '20']])
  const restarted = await openStoreFor(t, { path, readOnly: false })
  assert.equal(await restarted.getPr(key('f'), false, ORIGIN), '21')
  const counts = bitbake
    .prepare<[], { main: number; side: number }>(
      'SELECT (SELECT count(*) FROM PRMAIN) AS main, (SELECT count(*) FROM prserv_order) AS side',
    )
    .get()
  assert.deepEqual(counts, { main: 8, side: 8 })
})

void test('sqlite pr store: a renumbered PRMAIN is detected and re-indexed', async (t) => {
  const path = await tempDatabasePath(t)
  const store = await openStoreFor(t, { path, readOnly: false })
  for (const checksum of ['a', 'b', 'c', 'd', 'e']) await store.getPr(key(checksum), false, ORIGIN)
  await store.close()
  // A dump and reload: one row deleted, one appended, then rowids renumbered from 1 (the
  // row count up to the old high-water mark stays the same, only the spot check sees it).
  const bitbake = openAsBitBake(path)
  bitbake.exec(`
    DELETE FROM PRMAIN WHERE checksum = 'b';
    INSERT INTO PRMAIN VALUES ('${V}', '${P}', 'z', '9');
    CREATE TEMP TABLE copy AS SELECT * FROM PRMAIN ORDER BY rowid;
    DELETE FROM PRMAIN;
    INSERT INTO PRMAIN SELECT * FROM copy ORDER BY rowid;`)
  bitbake.close()
  const reopened = await openStoreFor(t, { path, readOnly: false })
  const rows = await reopened.exportRows({ version: V, pkgarch: P, checksum: null, history: true })
  assert.deepEqual(
    rows.map((row) => [row.checksum, row.value, row.peer]),
    [
      ['a', '0', ORIGIN.peer],
      ['c', '2', ORIGIN.peer],
      ['d', '3', ORIGIN.peer],
      ['e', '4', ORIGIN.peer],
      ['z', '9', null],
    ],
  )
  assert.equal(await reopened.getPr(key('c'), false, ORIGIN), '10')
  assert.equal(await reopened.testPr(key('b'), false), null)
})

void test('sqlite pr store: a read-only store on a BitBake-only file scans, never writes', async (t) => {
  const path = await tempDatabasePath(t)
  const bitbake = openAsBitBake(path)
  insertAsBitBake(bitbake, [
    [V, P, 'a', '9'],
    [V, P, 'b', '10'],
    [V, P, 'b', '1.0'],
  ])
  const namesBefore = schemaNames(bitbake)
  bitbake.close()
  const store = await openStoreFor(t, { path, readOnly: true })
  assert.equal(await store.maxPackagePr(PKG), '10')
  assert.equal(await store.getPr(key('a'), false, ORIGIN), '11')
  assert.equal(await store.getPr(key('b'), true, ORIGIN), '1.0')
  const nohist = await store.exportRows({
    version: null,
    pkgarch: null,
    checksum: null,
    history: false,
  })
  assert.deepEqual(
    nohist.map((row) => [row.checksum, row.value, row.createdAt]),
    [['b', '10', null]],
  )
  assert.deepEqual(await store.exportMaximaPage(0, 2), { rows: nohist, last: 2 })
  assert.deepEqual(await store.exportMaximaPage(2, 2), { rows: [], last: 3 })
  assert.deepEqual(
    (await store.exportVersionRows([V])).map((row) => [row.checksum, row.value, row.peer]),
    [
      ['a', '9', null],
      ['b', '10', null],
      ['b', '1.0', null],
    ],
  )
  await assert.rejects(store.importOne(key('c'), '1', ORIGIN), { name: 'ReadOnlyError' })
  const check = new Database(path, { readonly: true })
  assert.deepEqual(schemaNames(check), namesBefore)
  check.close()
})

void test('sqlite pr store: no-history pages of a BitBake-only file follow what BitBake commits', async (t) => {
  const path = await tempDatabasePath(t)
  const bitbake = openAsBitBake(path)
  const other = 'other-1.0-r0'
  insertAsBitBake(bitbake, [
    [V, P, 'a', '3'],
    [other, P, 'x', '0'],
    [V, P, 'b', '5'],
    [other, P, 'y', '1'],
  ])
  const store = await openStoreFor(t, { path, readOnly: true })
  const exportAll = async (): Promise<string[]> => {
    const kept: string[] = []
    for (let after = 0; ;) {
      const page = await store.exportMaximaPage(after, 1)
      if (page.last === after) return kept
      kept.push(...page.rows.map((row) => `${row.checksum}=${row.value ?? ''}`))
      after = page.last
    }
  }
  assert.deepEqual(await exportAll(), ['b=5', 'y=1'])
  // Committed by another connection between two exports, and in the middle of one; the
  // store reads a turn's snapshot, so each commit shows from the next turn on.
  insertAsBitBake(bitbake, [[V, P, 'c', '1.0']])
  await nextTurn()
  assert.deepEqual(await exportAll(), ['b=5', 'y=1'])
  insertAsBitBake(bitbake, [[V, P, 'd', '10']])
  await nextTurn()
  assert.deepEqual(await exportAll(), ['y=1', 'd=10'])
  const first = await store.exportMaximaPage(0, 3)
  assert.deepEqual(first.rows, [])
  insertAsBitBake(bitbake, [[other, P, 'z', '2']])
  await nextTurn()
  const rest = await store.exportMaximaPage(first.last, 10)
  assert.deepEqual(
    rest.rows.map((row) => `${row.checksum}=${row.value ?? ''}`),
    ['d=10', 'z=2'],
  )
  bitbake.close()
})

void test('sqlite pr store: a large package is indexed on first open', async (t) => {
  const path = await tempDatabasePath(t)
  const bitbake = openAsBitBake(path)
  const rows = Array.from(
    { length: 20_000 },
    (_, index) => [V, P, `c${index}`, `${index % 997}`] as const,
  )
  insertAsBitBake(bitbake, rows)
  bitbake.close()
  const store = await openStoreFor(t, { path, readOnly: false })
  assert.equal(await store.maxPackagePr(PKG), '996')
  assert.equal(await store.getPr(key('new'), false, ORIGIN), '997')
  assert.equal(await store.allocateSubValue(key('sub'), '5', false, ORIGIN), '5.0')
})

void test('sqlite pr store: old PRMAIN layouts are refused, old tables can be listed', async (t) => {
  const path = await tempDatabasePath(t)
  const old = new Database(path)
  old.exec(`
    CREATE TABLE PRMAIN (version TEXT NOT NULL, checksum TEXT NOT NULL, value INTEGER,
      PRIMARY KEY (version, checksum));
    CREATE TABLE PRMAIN_nohist (version TEXT NOT NULL, pkgarch TEXT NOT NULL,
      checksum TEXT NOT NULL, value INTEGER, PRIMARY KEY (version, pkgarch, checksum));
    INSERT INTO PRMAIN_nohist VALUES ('v', 'a', 'c1', 3), ('v', 'a', 'c0', 12);
    CREATE TABLE PRMAIN_hist (version TEXT NOT NULL, pkgarch TEXT NOT NULL,
      checksum TEXT NOT NULL, value INTEGER, PRIMARY KEY (version, pkgarch, checksum));
    INSERT INTO PRMAIN_hist VALUES ('w', 'b', 'h', 0);`)
  old.close()
  for (const readOnly of [false, true]) {
    await assert.rejects(
      openStoreFor(t, { path, readOnly }),
      (error: unknown) => error instanceof StorageError && /columns/.test(error.message),
    )
  }
  assert.deepEqual(listLegacyRows(path), [
    { table: 'PRMAIN_nohist', version: 'v', pkgarch: 'a', checksum: 'c1', value: '3' },
    { table: 'PRMAIN_nohist', version: 'v', pkgarch: 'a', checksum: 'c0', value: '12' },
    { table: 'PRMAIN_hist', version: 'w', pkgarch: 'b', checksum: 'h', value: '0' },
  ])
  assert.deepEqual(countLegacyPrRows(path), [
    { table: 'PRMAIN_nohist', rows: 2, emptyVersionRows: 0 },
    { table: 'PRMAIN_hist', rows: 1, emptyVersionRows: 0 },
  ])
  const fresh = await tempDatabasePath(t)
  await (await openStoreFor(t, { path: fresh, readOnly: false })).close()
  assert.deepEqual(listLegacyRows(fresh), [])
})

void test('sqlite pr store: rows BitBake appends count in no-history export pages at once', async (t) => {
  const path = await tempDatabasePath(t)
  const store = await openStoreFor(t, { path, readOnly: false })
  assert.equal(await store.getPr(key('a'), false, ORIGIN), '0')
  assert.equal(await store.getPr(key('b'), false, ORIGIN), '1')
  // Appended behind the store's back: not in its index until the next write catches up.
  const bitbake = openAsBitBake(path)
  insertAsBitBake(bitbake, [[V, P, 'c', '7']])
  bitbake.close()
  const page = await store.exportMaximaPage(0, 10)
  assert.deepEqual(
    page.rows.map((row) => [row.checksum, row.value]),
    [['c', '7']],
  )
  assert.equal(page.last, 3)
})
