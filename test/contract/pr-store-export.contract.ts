/**
 * Contract: importOne and exportRows (prserv.md §3 import-one, §7 export, audit trail), and
 * the paged export, rows by key and row counts of `prserv migrate`.
 */
import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import type { ExportFilter, PrStore } from '../../src/services/prserv/pr-store.js'
import type { OpenStore } from './pr-store.contract.js'
import {
  exportAll,
  ORIGIN,
  P,
  prKey,
  rowLabels,
  rowLabelsInOrder,
  V,
} from './pr-store-contract-support.js'

function filter(overrides: Partial<ExportFilter>): ExportFilter {
  return { version: null, pkgarch: null, checksum: null, history: true, ...overrides }
}

/** Rows of two versions, two architectures and an empty version, in mixed order. */
async function storeVersionMix(store: PrStore): Promise<void> {
  await store.importOne(prKey('z', 'b-1'), '0', ORIGIN)
  await store.importOne(prKey('a', 'a-1'), '0', ORIGIN)
  await store.importOne(prKey('m', 'a-1', 'arm'), '5', ORIGIN)
  await store.importOne(prKey('a', 'b-1'), '1', ORIGIN)
  await store.importOne(prKey('a', ''), '3', ORIGIN)
}

/** Registers the import/export tests. */
export function registerExportTests(open: OpenStore): void {
  void test('pr store: importOne stores verbatim and once', async (t) => {
    const store = await open(t, { readOnly: false })
    await store.importOne(prKey('c1', V, 'imp'), '7', ORIGIN)
    await store.importOne(prKey('c1', V, 'imp'), '9', ORIGIN)
    await store.importOne(prKey('c1', V, 'imp'), '9', ORIGIN)
    await store.importOne(prKey('c2', V, 'imp'), '007', ORIGIN)
    assert.deepEqual(rowLabelsInOrder(await exportAll(store)), ['c1:7', 'c1:9', 'c2:007'])
    assert.equal(await store.testPr(prKey('c2', V, 'imp'), false), '007')
    assert.equal(await store.testPr(prKey('c1', V, 'imp'), true), '7')
    assert.equal(await store.getPr(prKey('c3', V, 'imp'), false, ORIGIN), '10')
  })

  void test('pr store: export keeps insertion order and filters by equality', async (t) => {
    const store = await open(t, { readOnly: false })
    await storeVersionMix(store)
    const labels = async (overrides: Partial<ExportFilter>): Promise<string[]> =>
      (await store.exportRows(filter(overrides))).map(
        (row) => `${row.version}/${row.pkgarch}/${row.checksum}:${row.value ?? 'null'}`,
      )
    const all = [`b-1/${P}/z:0`, `a-1/${P}/a:0`, 'a-1/arm/m:5', `b-1/${P}/a:1`]
    assert.deepEqual(await labels({}), all)
    assert.deepEqual(await labels({ version: '', pkgarch: '', checksum: '' }), all)
    assert.deepEqual(await labels({ version: 'a-1' }), [`a-1/${P}/a:0`, 'a-1/arm/m:5'])
    assert.deepEqual(await labels({ pkgarch: 'arm' }), ['a-1/arm/m:5'])
    assert.deepEqual(await labels({ checksum: 'a' }), [`a-1/${P}/a:0`, `b-1/${P}/a:1`])
    assert.deepEqual(await labels({ version: 'b-1', checksum: 'a' }), [`b-1/${P}/a:1`])
    assert.deepEqual(await labels({ version: 'b-1', pkgarch: 'arm' }), [])
    assert.deepEqual(await labels({ version: 'nope' }), [])
  })

  void test('pr store: no-history export keeps rows holding the numeric maximum', async (t) => {
    const store = await open(t, { readOnly: false })
    for (let index = 0; index <= 12; index += 1) {
      await store.importOne(prKey(`c${index}`), String(index), ORIGIN)
    }
    await store.importOne(prKey('twin'), '12', ORIGIN)
    await store.importOne(prKey('junk'), 'zzz', ORIGIN)
    await store.importOne(prKey('a', V, 'other'), '1.10', ORIGIN)
    await store.importOne(prKey('b', V, 'other'), '1.9', ORIGIN)
    await store.importOne(prKey('j', 'junk-only'), 'abc', ORIGIN)
    const nohist = (overrides: Partial<ExportFilter>) =>
      store.exportRows(filter({ ...overrides, history: false }))
    assert.deepEqual(rowLabelsInOrder(await nohist({})), ['c12:12', 'twin:12', 'a:1.10'])
    assert.deepEqual(rowLabels(await nohist({ pkgarch: P })), ['c12:12', 'twin:12'])
    // The maximum is the package's, whatever the checksum filter.
    assert.deepEqual(rowLabels(await nohist({ checksum: 'c9' })), [])
    assert.deepEqual(rowLabels(await nohist({ checksum: 'twin' })), ['twin:12'])
  })

  void test('pr store: exportPage pages through every row in insertion order', async (t) => {
    const store = await open(t, { readOnly: false })
    assert.deepEqual(await store.rowStats(), { rows: 0, lastPosition: 0 })
    assert.deepEqual(await store.exportPage(0, 10), { rows: [], last: 0 })
    await store.importOne(prKey('z', 'b-1'), '0', ORIGIN)
    await store.importOne(prKey('gone', ''), '9', ORIGIN)
    for (let index = 0; index < 6; index += 1) {
      await store.importOne(prKey(`c${index}`), String(index), ORIGIN)
    }
    await store.importOne(prKey('c0'), '7', ORIGIN)
    const pages: string[][] = []
    let after = 0
    for (;;) {
      const page = await store.exportPage(after, 3)
      if (page.rows.length === 0) {
        assert.equal(page.last, after)
        break
      }
      assert.ok(page.last > after)
      pages.push(rowLabelsInOrder(page.rows))
      after = page.last
    }
    // The row with an empty version is left out, as exportRows leaves it out.
    assert.deepEqual(pages, [
      ['z:0', 'c0:0', 'c1:1'],
      ['c2:2', 'c3:3', 'c4:4'],
      ['c5:5', 'c0:7'],
    ])
    assert.deepEqual(pages.flat(), rowLabelsInOrder(await exportAll(store)))
    const stats = await store.rowStats()
    assert.equal(stats.rows, 8)
    assert.ok(stats.lastPosition >= after)
    await assert.rejects(store.exportPage(-1, 3), RangeError)
    await assert.rejects(store.exportPage(0, 0), RangeError)
  })

  void test('pr store: exportMaximaPage pages through the rows holding their package maximum', async (t) => {
    const store = await open(t, { readOnly: false })
    assert.deepEqual(await store.exportMaximaPage(0, 10), { rows: [], last: 0 })
    for (let index = 0; index <= 5; index += 1) {
      await store.importOne(prKey(`c${index}`), String(index), ORIGIN)
    }
    await store.importOne(prKey('gone', ''), '9', ORIGIN)
    await store.importOne(prKey('twin'), '5', ORIGIN)
    await store.importOne(prKey('junk'), 'zzz', ORIGIN)
    await store.importOne(prKey('a', V, 'other'), '1.10', ORIGIN)
    await store.importOne(prKey('b', V, 'other'), '1.9', ORIGIN)
    await store.importOne(prKey('j', 'junk-only'), 'abc', ORIGIN)
    const pages: string[][] = []
    let after = 0
    for (;;) {
      const page = await store.exportMaximaPage(after, 3)
      if (page.last === after) {
        assert.deepEqual(page.rows, [])
        break
      }
      assert.ok(page.last > after)
      pages.push(rowLabelsInOrder(page.rows))
      after = page.last
    }
    // Four pages of three rows read (the empty version left out), most of them not maxima.
    assert.deepEqual(pages, [[], ['c5:5'], ['twin:5', 'a:1.10'], []])
    const noHistory = await store.exportRows(filter({ history: false }))
    assert.deepEqual(pages.flat(), rowLabelsInOrder(noHistory))
    await assert.rejects(store.exportMaximaPage(-1, 3), RangeError)
    await assert.rejects(store.exportMaximaPage(0, 0), RangeError)
  })

  void test('pr store: exportVersionRows returns every row of the given versions in insertion order', async (t) => {
    const store = await open(t, { readOnly: false })
    await storeVersionMix(store)
    await store.importOne(prKey('a', 'a-1'), '2', ORIGIN)
    const labels = async (versions: readonly string[]): Promise<string[]> =>
      (await store.exportVersionRows(versions)).map(
        (row) => `${row.version}/${row.pkgarch}/${row.checksum}:${row.value ?? 'null'}`,
      )
    const [b1z, a1a, a1m, b1a] = [`b-1/${P}/z:0`, `a-1/${P}/a:0`, 'a-1/arm/m:5', `b-1/${P}/a:1`]
    assert.deepEqual(await labels(['a-1', 'b-1']), [b1z, a1a, a1m, b1a, `a-1/${P}/a:2`])
    assert.deepEqual(await labels(['b-1', 'nope', '']), [b1z, b1a])
    assert.deepEqual(await labels([]), [])
    const audited = await store.exportVersionRows(['b-1'])
    assert.deepEqual(
      audited.map((row) => row.peer),
      [ORIGIN.peer, ORIGIN.peer],
    )
  })

  void test('pr store: findRows returns the rows of the given keys with their positions', async (t) => {
    const store = await open(t, { readOnly: false })
    await store.importOne(prKey('a'), '0', ORIGIN)
    await store.importOne(prKey('b'), '1', ORIGIN)
    await store.importOne(prKey('a'), '2', ORIGIN)
    await store.importOne(prKey('a', V, 'other'), '5', ORIGIN)
    const { lastPosition } = await store.rowStats()
    await store.importOne(prKey('a'), '3', ORIGIN)
    const found = await store.findRows([prKey('a'), prKey('missing')])
    const sorted = [...found].sort((x, y) => x.position - y.position)
    assert.deepEqual(
      sorted.map((row) => `${row.pkgarch}/${row.checksum}:${row.value ?? 'null'}`),
      [`${P}/a:0`, `${P}/a:2`, `${P}/a:3`],
    )
    // Positions follow insertion order; the row stored after rowStats lies above its mark.
    assert.deepEqual(
      sorted.map((row) => row.position > lastPosition),
      [false, false, true],
    )
    assert.deepEqual(await store.findRows([]), [])
  })

  void test('pr store: exported rows carry the audit trail of our writes', async (t) => {
    const store = await open(t, { readOnly: false })
    const before = Date.now()
    await store.getPr(prKey('a'), false, ORIGIN)
    await store.importOne(prKey('b'), '5', { peer: '[2001:db8::1]:5000' })
    await store.adoptValue(prKey('c'), '6', false, { peer: 'unix:/run/prserv.sock' })
    const after = Date.now()
    const rows = await exportAll(store)
    assert.deepEqual(
      rows.map((row) => row.peer),
      [ORIGIN.peer, '[2001:db8::1]:5000', 'unix:/run/prserv.sock'],
    )
    for (const row of rows) {
      assert.ok(row.createdAt !== null)
      assert.match(row.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/)
      const stored = Date.parse(row.createdAt)
      assert.ok(stored >= before - 1000 && stored <= after + 1000, row.createdAt)
    }
  })
}
