import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { migrateSchema } from './sqlite-migrations.js'
import { SqliteRowWriter } from './sqlite-order-index.js'
import { READ_SQL, SqlitePrQueries } from './sqlite-queries.js'
import { PRMAIN_DDL } from './sqlite-schema.js'

const ORIGIN = { peer: 'unit' }
const PKG = { version: 'v', pkgarch: 'a' }
const key = (checksum: string, version = 'v') => ({ version, pkgarch: 'a', checksum })

function createDatabase(): Database.Database {
  const db = new Database(':memory:')
  db.exec(PRMAIN_DDL)
  migrateSchema(db, ':memory:')
  return db
}

/** Rows stored through the index, then rows "BitBake" appended behind its back. */
function seed(db: Database.Database): void {
  const writer = new SqliteRowWriter(db)
  for (const [checksum, value] of [
    ['a', '0'],
    ['b', '1.9'],
    ['a', '7'],
    ['c', 'junk'],
  ] as const) {
    writer.insert(key(checksum), value, ORIGIN, '2024-01-01T00:00:00.000Z')
  }
  const append = db.prepare('INSERT INTO PRMAIN VALUES (?, ?, ?, ?)')
  append.run('v', 'a', 'b', '1.10')
  append.run('v', 'a', 'd', '10')
  append.run('tail-only', 'a', 'x', '3')
}

test('sqlite queries: read statements are index searches, never table scans', () => {
  const db = createDatabase()
  const params = { version: 'v', pkgarch: 'a', checksum: 'c', value: '1', low: '"1', high: '"1~' }
  for (const [name, sql] of Object.entries(READ_SQL)) {
    const plan = db
      .prepare<[typeof params], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
      .all(params)
      .map((row) => row.detail)
    assert.ok(plan.length > 0, name)
    for (const step of plan) assert.doesNotMatch(step, /^SCAN/, `${name}: ${plan.join(' | ')}`)
  }
  db.close()
})

test('sqlite queries: rows above the high-water mark count, indexed or scanning', () => {
  const db = createDatabase()
  seed(db)
  for (const isIndexed of [true, false]) {
    const queries = new SqlitePrQueries(db, isIndexed)
    queries.read(() => {
      assert.equal(queries.packageMax(PKG), '10')
      assert.equal(queries.checksumValue(key('b'), false), '1.10')
      assert.equal(queries.checksumValue(key('b'), true), '1.9')
      assert.equal(queries.checksumValue(key('a'), true), '0')
      assert.equal(queries.checksumValue(key('c'), false), null)
      assert.equal(queries.maxUnderBase(PKG, '1'), '1.10')
      assert.equal(queries.maxUnderBase(PKG, '7'), null)
      assert.equal(queries.hasPackage({ version: 'tail-only', pkgarch: 'a' }), true)
      assert.equal(queries.packageMax({ version: 'tail-only', pkgarch: 'a' }), '3')
      assert.equal(queries.hasPackage({ version: 'none', pkgarch: 'a' }), false)
      assert.equal(queries.hasRow(key('c'), 'junk'), true)
      assert.equal(queries.hasRow(key('c'), 'other'), false)
    })
  }
  db.close()
})

test('sqlite queries: catch-up indexes appended rows without an audit trail', () => {
  const db = createDatabase()
  seed(db)
  const writer = new SqliteRowWriter(db)
  assert.equal(writer.catchUp(), 3)
  assert.equal(writer.catchUp(), 0)
  const rows = db
    .prepare<[], { checksum: string; sort_key: string | null; peer: string | null }>(
      'SELECT checksum, sort_key, peer FROM prserv_order ORDER BY rid',
    )
    .all()
  assert.deepEqual(
    rows.map((row) => [row.checksum, row.sort_key, row.peer]),
    [
      ['a', '"0', 'unit'],
      ['b', '"1"9', 'unit'],
      ['a', '"7', 'unit'],
      ['c', null, 'unit'],
      ['b', '"1#10', null],
      ['d', '#10', null],
      ['x', '"3', null],
    ],
  )
  db.close()
})
