/**
 * Texts PostgreSQL refuses (a NUL character; an index entry over about 2.7 KB) fail alone: the
 * allocation batch they would have joined serves everyone else.
 */
import { strict as assert } from 'node:assert'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { MAX_FIELD_BYTES } from '../../src/services/prserv/pr-store.js'
import { openPostgresPrStore } from '../../src/storage/postgres/postgres-pr-store.js'
import { createTestDatabase } from '../support/postgres.js'

const ORIGIN = { peer: '192.0.2.3:3' }

void test('postgres store: a text it cannot store fails alone, not its batch', async (t) => {
  const db = await createTestDatabase()
  t.after(() => db.drop())
  const store = await openPostgresPrStore({ url: db.url, readOnly: false, maxConnections: 4 })
  t.after(() => store.close())
  // Random bytes do not compress, so the index entry would be too large for PostgreSQL.
  const huge = randomBytes(4_000).toString('base64')
  const bad = [
    store.getPr({ version: 'v', pkgarch: 'a', checksum: 'nul\0' }, false, ORIGIN),
    store.getPr({ version: huge, pkgarch: 'a', checksum: 'c' }, false, ORIGIN),
    store.importOne(
      { version: 'v', pkgarch: 'a', checksum: 'imp' },
      `1.${'1'.repeat(600)}`,
      ORIGIN,
    ),
    store.adoptValue({ version: 'v', pkgarch: huge, checksum: 'c' }, '1', false, ORIGIN),
  ]
  // Submitted in one turn, so they would all be in one batch.
  const good = Array.from({ length: 20 }, (_, n) =>
    store.getPr({ version: `p${n % 3}`, pkgarch: 'a', checksum: `c${n}` }, false, ORIGIN),
  )
  const reasons = (await Promise.allSettled(bad)).map((outcome) =>
    outcome.status === 'rejected' && outcome.reason instanceof RangeError
      ? outcome.reason.message
      : `not a RangeError: ${outcome.status}`,
  )
  assert.deepEqual(reasons, [
    'get-pr: checksum contains a NUL character',
    'get-pr: version is over 512 bytes',
    'import: value is over 512 bytes',
    'adopt: pkgarch is over 512 bytes',
  ])
  const values = await Promise.all(good)
  assert.equal(values.length, 20)
  // A field of exactly the limit is stored.
  const longest = 'x'.repeat(MAX_FIELD_BYTES)
  assert.equal(
    await store.getPr({ version: longest, pkgarch: 'a', checksum: 'c' }, false, ORIGIN),
    '0',
  )
})

void test('postgres store: importRows and findRows name a row they cannot take; none is written', async (t) => {
  const db = await createTestDatabase()
  t.after(() => db.drop())
  const store = await openPostgresPrStore({ url: db.url, readOnly: false, maxConnections: 2 })
  t.after(() => store.close())
  const row = { version: 'v', pkgarch: 'a', checksum: 'c', value: '0', createdAt: null, peer: null }
  await assert.rejects(store.importRows([row, { ...row, checksum: 'd\0', value: '1' }]), {
    name: 'RangeError',
    message:
      'cannot store row 2 of the batch ["v","a","d\\u0000"]: checksum contains a NUL character',
  })
  await assert.rejects(store.importRows([{ ...row, peer: '\0' }]), /peer contains a NUL/)
  await assert.rejects(store.findRows([row, { ...row, version: 'v\0' }]), {
    name: 'RangeError',
    message: /^cannot look up row 2 of the batch .*: version contains a NUL character$/,
  })
  assert.deepEqual(await store.rowStats(), { rows: 0, lastPosition: 0 })
})
