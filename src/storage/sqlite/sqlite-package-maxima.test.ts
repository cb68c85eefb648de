import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import type { AuditedPrRow } from '../../services/prserv/pr-store.js'
import { SORT_KEY_FUNCTION, storedValueSortKey } from './sqlite-order-index.js'
import { PackageMaxima } from './sqlite-package-maxima.js'
import { PRMAIN_DDL } from './sqlite-schema.js'

const ROWS: readonly (readonly [string, string, string, string | null])[] = [
  ['v', 'a', 'c1', '9'],
  ['w', 'a', 'c2', '0'],
  ['v', 'a', 'c3', '10'],
  ['v', 'b', 'c4', '2'],
  ['w', 'a', 'c5', 'junk'],
  ['v', 'a', 'c6', '1.5'],
  ['w', 'a', 'c7', null],
  ['v', 'b', 'c8', '2'],
]

/** PRMAIN holding ROWS, with a sort-key function that counts its calls. */
function createDatabase(): { db: Database.Database; sortKeyCalls: () => number } {
  const db = new Database(':memory:')
  db.exec(PRMAIN_DDL)
  const insert = db.prepare(
    'INSERT INTO PRMAIN (version, pkgarch, checksum, value) VALUES (?, ?, ?, ?)',
  )
  for (const row of ROWS) insert.run(...row)
  let calls = 0
  db.function(SORT_KEY_FUNCTION, { deterministic: true }, (value: unknown) => {
    calls += 1
    return storedValueSortKey(value)
  })
  return { db, sortKeyCalls: () => calls }
}

function auditedRows(): AuditedPrRow[] {
  return ROWS.map(([version, pkgarch, checksum, value]) => ({
    version,
    pkgarch,
    checksum,
    value,
    createdAt: null,
    peer: null,
  }))
}

/** keepMaxima over `rows` in pages of `pageRows`, as checksums. */
function keptInPages(maxima: PackageMaxima, rows: readonly AuditedPrRow[], pageRows: number) {
  const kept: string[] = []
  for (let start = 0; start < rows.length; start += pageRows) {
    const page = maxima.keepMaxima(rows.slice(start, start + pageRows))
    kept.push(...page.map((row) => row.checksum))
  }
  return kept
}

void test('package maxima: numeric maxima, ties kept, each package read once', () => {
  const { db, sortKeyCalls } = createDatabase()
  const maxima = new PackageMaxima(db)
  // v/a: 10 beats 9 and 1.5; w/a: 0 (junk and null are no revisions); v/b: both 2s.
  assert.deepEqual(keptInPages(maxima, auditedRows(), 3), ['c2', 'c3', 'c4', 'c8'])
  assert.equal(sortKeyCalls(), ROWS.length)
  assert.deepEqual(keptInPages(maxima, auditedRows(), 8), ['c2', 'c3', 'c4', 'c8'])
  assert.equal(sortKeyCalls(), ROWS.length)
  db.close()
})

void test('package maxima: beyond its limit it reads packages again, with the same answers', () => {
  const { db, sortKeyCalls } = createDatabase()
  const maxima = new PackageMaxima(db, 1)
  assert.deepEqual(keptInPages(maxima, auditedRows(), 1), ['c2', 'c3', 'c4', 'c8'])
  assert.ok(sortKeyCalls() > ROWS.length)
  db.close()
})
