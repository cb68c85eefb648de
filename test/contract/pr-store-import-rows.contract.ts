/** Contract: importRows, the bulk import behind `prserv migrate` and `prserv import`. */
import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import { ReadOnlyError } from '../../src/protocol/errors.js'
import type { AuditedPrRow } from '../../src/services/prserv/pr-store.js'
import type { OpenStore } from './pr-store.contract.js'
import { exportAll, ORIGIN, P, PKG, prKey, V } from './pr-store-contract-support.js'

function row(
  checksum: string,
  value: string | null,
  audit: { createdAt?: string; peer?: string } = {},
): AuditedPrRow {
  return {
    ...prKey(checksum),
    value,
    createdAt: audit.createdAt ?? null,
    peer: audit.peer ?? null,
  }
}

const WHEN = '2024-05-01T10:20:30.123Z'

/** Registers the bulk import tests. */
export function registerImportRowsTests(open: OpenStore): void {
  void test('pr store: importRows stores rows verbatim, in order, with their audit', async (t) => {
    const store = await open(t, { readOnly: false })
    const rows = [
      row('a', '5', { createdAt: WHEN, peer: '192.0.2.1:4000' }),
      row('b', '1.3'),
      row('a', '7', { createdAt: WHEN }),
      row('c', 'not-a-revision', { peer: 'import' }),
      row('d', null),
    ]
    assert.deepEqual(await store.importRows(rows), { written: 5, skipped: 0 })
    assert.deepEqual(await exportAll(store), rows)
  })

  void test('pr store: importRows skips identical rows, stored or repeated', async (t) => {
    const store = await open(t, { readOnly: false })
    await store.importOne(prKey('a'), '5', ORIGIN)
    const result = await store.importRows([
      row('a', '5', { createdAt: WHEN }),
      row('a', '6'),
      row('a', '6', { peer: 'other' }),
      row('n', null),
      row('n', null),
    ])
    assert.deepEqual(result, { written: 2, skipped: 3 })
    const stored = await exportAll(store)
    assert.deepEqual(
      stored.map((r) => [r.checksum, r.value, r.peer]),
      [
        ['a', '5', ORIGIN.peer],
        ['a', '6', null],
        ['n', null, null],
      ],
    )
    // Idempotent: a second run writes nothing.
    assert.deepEqual(await store.importRows([row('a', '6'), row('n', null)]), {
      written: 0,
      skipped: 2,
    })
    assert.deepEqual(await store.importRows([]), { written: 0, skipped: 0 })
  })

  void test('pr store: imported rows count for allocation and are committed', async (t) => {
    const store = await open(t, { readOnly: false })
    await store.importRows([row('x', '3'), row('y', '10'), row('z', '2.4')])
    assert.equal(await store.maxPackagePr(PKG), '10')
    assert.equal(await store.testPr(prKey('z'), false), '2.4')
    assert.equal(await store.getPr(prKey('new'), false, ORIGIN), '11')
    assert.equal(await store.getPr(prKey('x'), false, ORIGIN), '12')
    const reader = await open(t, { readOnly: true, shareWith: store })
    assert.equal(await reader.testPr(prKey('y'), true), '10')
    assert.equal(await reader.testPackage({ version: V, pkgarch: P }), true)
  })

  void test('pr store: importRows on a read-only store throws ReadOnlyError', async (t) => {
    const writer = await open(t, { readOnly: false })
    const store = await open(t, { readOnly: true, shareWith: writer })
    await assert.rejects(store.importRows([row('a', '1')]), ReadOnlyError)
    assert.deepEqual(await exportAll(writer), [])
  })
}
