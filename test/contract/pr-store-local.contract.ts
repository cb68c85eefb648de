/** Contract: local allocation and lookups (prserv.md §4, §10.1, §10.2, numeric order §2). */
import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import {
  compareRevisions,
  increaseRevision,
  maxRevision,
} from '../../src/services/prserv/revision.js'
import type { OpenStore } from './pr-store.contract.js'
import {
  allocateInOrder,
  exportAll,
  ORIGIN,
  P,
  PKG,
  prKey,
  rowLabels,
  shuffled,
  V,
} from './pr-store-contract-support.js'

/** Registers the local-allocation tests. */
export function registerLocalAllocationTests(open: OpenStore): void {
  void test('pr store: §10.1 basic sequence', async (t) => {
    const store = await open(t, { readOnly: false })
    assert.equal(store.isReadOnly, false)
    assert.equal(await store.testPr(prKey('a0'), false), null)
    assert.equal(await store.testPackage(PKG), false)
    assert.equal(await store.maxPackagePr(PKG), null)
    assert.equal(await store.getPr(prKey('a0'), false, ORIGIN), '0')
    assert.equal(await store.getPr(prKey('a0'), false, ORIGIN), '0')
    assert.equal(await store.getPr(prKey('a1'), false, ORIGIN), '1')
    assert.equal(await store.getPr(prKey('a2'), false, ORIGIN), '2')
    assert.equal(await store.getPr(prKey('a0'), false, ORIGIN), '3')
    assert.equal(await store.getPr(prKey('a0'), true, ORIGIN), '0')
    assert.equal(await store.getPr(prKey('a1'), true, ORIGIN), '1')
    assert.equal(await store.testPr(prKey('a0'), false), '3')
    assert.equal(await store.testPr(prKey('a0'), true), '0')
    assert.equal(await store.testPackage(PKG), true)
    assert.equal(await store.maxPackagePr(PKG), '3')
    assert.equal(await store.testPr(prKey('zz'), true), null)
    await store.importOne(prKey('c1', V, 'imp'), '7', ORIGIN)
    await store.importOne(prKey('c1', V, 'imp'), '9', ORIGIN)
    const maxima = await store.exportRows({
      version: null,
      pkgarch: null,
      checksum: null,
      history: false,
    })
    assert.deepEqual(
      maxima.map((row) => [row.version, row.pkgarch, row.checksum, row.value]),
      [
        [V, P, 'a0', '3'],
        [V, 'imp', 'c1', '9'],
      ],
    )
    assert.deepEqual(rowLabels(await exportAll(store)), [
      'a0:0',
      'a0:3',
      'a1:1',
      'a2:2',
      'c1:7',
      'c1:9',
    ])
  })

  void test('pr store: §10.2 no-history values never go below the package maximum', async (t) => {
    const store = await open(t, { readOnly: false })
    const first = await allocateInOrder(store, 'c', 12)
    assert.deepEqual(
      first,
      Array.from({ length: 12 }, (_, index) => String(index)),
    )
    // Numeric comparison (docs/compat.md): "11" > "9", so c9 is bumped, unlike BitBake.
    assert.equal(await store.getPr(prKey('c9'), false, ORIGIN), '12')
    assert.equal(await store.getPr(prKey('c2'), false, ORIGIN), '13')
    assert.equal(await store.getPr(prKey('c0'), false, ORIGIN), '14')
    assert.equal(await store.getPr(prKey('c0'), false, ORIGIN), '14')
    assert.equal(await store.getPr(prKey('c11'), false, ORIGIN), '15')
    assert.equal(await store.maxPackagePr(PKG), '15')
    assert.equal(await store.getPr(prKey('c9'), true, ORIGIN), '9')
    const maxima = await store.exportRows({
      version: V,
      pkgarch: P,
      checksum: null,
      history: false,
    })
    assert.deepEqual(rowLabels(maxima), ['c11:15'])
  })

  void test('pr store: packages are independent and each starts at "0"', async (t) => {
    const store = await open(t, { readOnly: false })
    assert.equal(await store.getPr(prKey('x'), false, ORIGIN), '0')
    assert.equal(await store.getPr(prKey('y'), false, ORIGIN), '1')
    assert.equal(await store.getPr(prKey('x', 'bar-2.0-r0'), false, ORIGIN), '0')
    assert.equal(await store.getPr(prKey('x', V, 'aarch64'), false, ORIGIN), '0')
    assert.equal(await store.getPr(prKey('y', V, 'aarch64'), true, ORIGIN), '1')
    assert.equal(await store.testPackage({ version: 'bar-2.0-r0', pkgarch: P }), true)
    assert.equal(await store.testPackage({ version: 'bar-2.0-r0', pkgarch: 'aarch64' }), false)
  })

  void test('pr store: a prefix sorts first ("1" < "1.0"), whatever the row order', async (t) => {
    const store = await open(t, { readOnly: false })
    const first = { version: 'first', pkgarch: P }
    const second = { version: 'second', pkgarch: P }
    await store.importOne(prKey('a', 'first'), '1.0', ORIGIN)
    await store.importOne(prKey('b', 'first'), '1', ORIGIN)
    await store.importOne(prKey('a', 'second'), '1', ORIGIN)
    await store.importOne(prKey('b', 'second'), '1.0', ORIGIN)
    assert.equal(await store.maxPackagePr(first), '1.0')
    assert.equal(await store.maxPackagePr(second), '1.0')
    assert.equal(await store.getPr(prKey('new', 'first'), false, ORIGIN), '1.1')
    // b holds "1", below the package maximum "1.1" now: bumped.
    assert.equal(await store.getPr(prKey('b', 'first'), false, ORIGIN), '1.2')
  })

  void test('pr store: maxima follow numeric order over many shuffled values', async (t) => {
    const store = await open(t, { readOnly: false })
    const values = ['9', '10', '99', '100', '1.9', '1.10', '2.0.5', '2.0.10', '02', '100.0']
    for (let index = 0; index < 200; index += 1) values.push(`${index % 37}.${index}`)
    const expectedMax = maxRevision(values)
    assert.equal(expectedMax, '100.0')
    for (const [index, value] of shuffled(values, 42).entries()) {
      await store.importOne(prKey(`k${index % 50}`), value, ORIGIN)
    }
    assert.equal(await store.maxPackagePr(PKG), expectedMax)
    for (let index = 0; index < 50; index += 3) {
      const own = shuffled(values, 42).filter((_, position) => position % 50 === index)
      const largest = await store.testPr(prKey(`k${index}`), false)
      const smallest = await store.testPr(prKey(`k${index}`), true)
      assert.equal(largest === null ? null : compareRevisions(largest, maxRevision(own) ?? ''), 0)
      assert.ok(smallest !== null && own.every((value) => compareRevisions(smallest, value) <= 0))
    }
    assert.equal(await store.getPr(prKey('fresh'), false, ORIGIN), increaseRevision('100.0'))
  })

  void test('pr store: non-revision values are kept verbatim but ignored for maxima', async (t) => {
    const store = await open(t, { readOnly: false })
    for (const [index, value] of ['abc', '1.', '', ' 7', '-1'].entries()) {
      await store.importOne(prKey(`junk${index}`), value, ORIGIN)
    }
    assert.equal(await store.testPackage(PKG), true)
    assert.equal(await store.maxPackagePr(PKG), null)
    assert.equal(await store.testPr(prKey('junk0'), false), null)
    assert.equal(await store.getPr(prKey('junk0'), false, ORIGIN), '0')
    assert.equal(await store.getPr(prKey('other'), false, ORIGIN), '1')
    assert.deepEqual(rowLabels(await exportAll(store)), [
      'junk0:0',
      'junk0:abc',
      'junk1:1.',
      'junk2:',
      'junk3: 7',
      'junk4:-1',
      'other:1',
    ])
  })

  void test('pr store: lookups and history get-pr never store', async (t) => {
    const store = await open(t, { readOnly: false })
    await allocateInOrder(store, 'h', 3)
    assert.equal(await store.getPr(prKey('h0'), false, ORIGIN), '3')
    const before = await exportAll(store)
    assert.equal(await store.getPr(prKey('h0'), true, ORIGIN), '0')
    assert.equal(await store.getPr(prKey('h1'), true, ORIGIN), '1')
    assert.equal(await store.testPr(prKey('h9'), false), null)
    assert.equal(await store.testPackage({ version: 'nope', pkgarch: P }), false)
    assert.equal(await store.maxPackagePr({ version: 'nope', pkgarch: P }), null)
    assert.deepEqual(await exportAll(store), before)
  })
}
