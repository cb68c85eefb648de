/**
 * Contract: concurrency (one answer per key, distinct consecutive values for new checksums),
 * durability as seen by a second store, and read-only stores (prserv.md §4.3).
 */
import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import { ReadOnlyError } from '../../src/protocol/errors.js'
import type { OpenStore } from './pr-store.contract.js'
import {
  allocateInOrder,
  exportAll,
  ORIGIN,
  PKG,
  prKey,
  rowLabels,
} from './pr-store-contract-support.js'

function numbers(count: number, from = 0): string[] {
  return Array.from({ length: count }, (_, index) => String(from + index))
}

function sortedNumerically(values: readonly string[]): string[] {
  return [...values].sort((a, b) => Number(a) - Number(b))
}

/** Registers the concurrency, durability and read-only tests. */
export function registerConcurrencyTests(open: OpenStore): void {
  void test('pr store: 200 parallel new checksums get distinct consecutive values', async (t) => {
    const store = await open(t, { readOnly: false })
    const values = await Promise.all(
      numbers(200).map((index) => store.getPr(prKey(`c${index}`), false, ORIGIN)),
    )
    assert.deepEqual(sortedNumerically(values), numbers(200))
    const again = await Promise.all(
      numbers(200).map((index) => store.getPr(prKey(`c${index}`), true, ORIGIN)),
    )
    assert.deepEqual(again, values)
    assert.equal(await store.maxPackagePr(PKG), '199')
  })

  void test('pr store: parallel get-pr for one key gets one answer', async (t) => {
    const store = await open(t, { readOnly: false })
    await allocateInOrder(store, 'old', 3)
    await store.getPr(prKey('known'), false, ORIGIN)
    for (const checksum of ['new', 'known']) {
      const values = await Promise.all(
        numbers(100).map(() => store.getPr(prKey(checksum), false, ORIGIN)),
      )
      assert.equal(new Set(values).size, 1, checksum)
      assert.equal(await store.getPr(prKey(checksum), false, ORIGIN), values[0])
    }
  })

  void test('pr store: concurrent same-key calls share one answer among new ones', async (t) => {
    const store = await open(t, { readOnly: false })
    await allocateInOrder(store, 'old', 3)
    const calls = [
      ...numbers(50).map(() => store.getPr(prKey('same'), false, ORIGIN)),
      ...numbers(20).map((index) => store.getPr(prKey(`other${index}`), false, ORIGIN)),
      ...numbers(50).map(() => store.getPr(prKey('same'), false, ORIGIN)),
    ]
    const values = await Promise.all(calls)
    const same = [...values.slice(0, 50), ...values.slice(70)]
    assert.equal(new Set(same).size, 1)
    const first = same[0] ?? ''
    assert.equal(await store.testPr(prKey('same'), true), first)
    assert.deepEqual(sortedNumerically([first, ...values.slice(50, 70)]), numbers(21, 3))
  })

  void test('pr store: parallel sub-values and imports stay atomic', async (t) => {
    const store = await open(t, { readOnly: false })
    const subs = await Promise.all(
      numbers(30).map((index) => store.allocateSubValue(prKey(`s${index}`), '5', false, ORIGIN)),
    )
    assert.deepEqual(
      [...subs].sort((a, b) => Number(a.slice(2)) - Number(b.slice(2))),
      numbers(30).map((index) => `5.${index}`),
    )
    await Promise.all(numbers(20).map(() => store.importOne(prKey('i', 'imp'), '3', ORIGIN)))
    await Promise.all(numbers(20).map(() => store.adoptValue(prKey('d'), '4', false, ORIGIN)))
    const rows = await store.exportRows({
      version: 'imp',
      pkgarch: null,
      checksum: null,
      history: true,
    })
    assert.deepEqual(rowLabels(rows), ['i:3'])
    assert.equal((await exportAll(store)).length, 32)
  })

  void test('pr store: a stored value is visible to another store at once', async (t) => {
    const store = await open(t, { readOnly: false })
    const value = await store.getPr(prKey('a'), false, ORIGIN)
    const other = await open(t, { readOnly: true, shareWith: store })
    assert.equal(await other.testPr(prKey('a'), false), value)
    await store.importOne(prKey('b'), '8', ORIGIN)
    assert.equal(await other.maxPackagePr(PKG), '8')
    assert.equal(await store.getPr(prKey('c'), false, ORIGIN), '9')
    assert.equal(await other.getPr(prKey('c'), false, ORIGIN), '9')
  })

  void test('pr store: read-only stores return would-be values and store nothing', async (t) => {
    const rw = await open(t, { readOnly: false })
    await allocateInOrder(rw, 'a', 3)
    const ro = await open(t, { readOnly: true, shareWith: rw })
    assert.equal(ro.isReadOnly, true)
    assert.equal(await ro.getPr(prKey('new'), false, ORIGIN), '3')
    assert.equal(await ro.getPr(prKey('new'), false, ORIGIN), '3')
    assert.equal(await ro.getPr(prKey('a0'), false, ORIGIN), '3')
    assert.equal(await ro.getPr(prKey('a0'), true, ORIGIN), '0')
    assert.equal(await ro.getPr(prKey('x', 'unknown'), false, ORIGIN), '0')
    assert.equal(await ro.maxPackagePr(PKG), '2')
    await assert.rejects(ro.importOne(prKey('i'), '1', ORIGIN), ReadOnlyError)
    assert.deepEqual(rowLabels(await exportAll(rw)), ['a0:0', 'a1:1', 'a2:2'])
    const empty = await open(t, { readOnly: true })
    assert.equal(await empty.getPr(prKey('a'), false, ORIGIN), '0')
    assert.deepEqual(await exportAll(empty), [])
  })

  void test('pr store: two read-write stores on one database allocate together', async (t) => {
    const first = await open(t, { readOnly: false })
    if (!first.capabilities.supportsSharedDatabase) {
      t.skip('backend does not support shared databases')
      return
    }
    const second = await open(t, { readOnly: false, shareWith: first })
    const values = await Promise.all(
      numbers(60).map((index) =>
        (Number(index) % 2 === 0 ? first : second).getPr(prKey(`c${index}`), false, ORIGIN),
      ),
    )
    assert.deepEqual(sortedNumerically(values), numbers(60))
    const same = await Promise.all(
      numbers(20).map((index) =>
        (Number(index) % 2 === 0 ? first : second).getPr(prKey('same'), false, ORIGIN),
      ),
    )
    assert.equal(new Set(same).size, 1)
    assert.equal(await second.maxPackagePr(PKG), same[0])
  })
}
