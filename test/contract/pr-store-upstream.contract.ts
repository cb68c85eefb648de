/**
 * Contract: the upstream-path methods (prserv.md §5.1) — reconcileKnownChecksum, adoptValue,
 * allocateSubValue — checked against the verified chains of §10.3–§10.6, with other stores
 * standing in for the upstream servers.
 */
import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import type { TestContext } from 'node:test'
import type { PrStore } from '../../src/services/prserv/pr-store.js'
import type { OpenStore } from './pr-store.contract.js'
import {
  exportAll,
  getPrWithUpstream,
  ORIGIN,
  PKG,
  prKey,
  rowLabels,
} from './pr-store-contract-support.js'

interface Chain {
  readonly s2: PrStore
  readonly s1: PrStore
  readonly s0: PrStore
}

/** Runs §10.3 on three fresh stores (S2 ← S1 ← S0), checking every verified reply. */
async function runChain(open: OpenStore, t: TestContext): Promise<Chain> {
  const s2 = await open(t, { readOnly: false })
  const s1 = await open(t, { readOnly: false })
  const s0 = await open(t, { readOnly: false })
  const servers = { S2: s2, S1: s1, S0: s0 }
  const upstreams = { S2: null, S1: s2, S0: s1 }
  const steps: [keyof typeof servers, string, boolean, string][] = [
    ['S2', 'A', false, '0'],
    ['S1', 'A', false, '0'],
    ['S0', 'A', false, '0'],
    ['S1', 'B', false, '0.0'],
    ['S1', 'C', false, '0.1'],
    ['S1', 'B', false, '0.2'],
    ['S1', 'C', false, '0.3'],
    ['S0', 'D', false, '0.3.0'],
    ['S0', 'E', false, '0.3.1'],
    ['S0', 'D', false, '0.3.2'],
    ['S2', 'F', false, '1'],
    ['S1', 'G', false, '1.0'],
    ['S1', 'H', false, '1.1'],
    ['S0', 'I', false, '1.1.0'],
    ['S0', 'J', false, '1.1.1'],
    ['S2', 'A', true, '0'],
    ['S1', 'C', true, '0.1'],
    ['S0', 'D', true, '0.3.0'],
    ['S2', 'A', false, '2'],
    ['S1', 'A', false, '2'],
    ['S0', 'A', false, '2'],
    ['S1', 'H', false, '3'],
  ]
  for (const [index, [server, checksum, history, expected]] of steps.entries()) {
    const upstream = upstreams[server]
    const local = servers[server]
    const key = prKey(checksum)
    const value =
      upstream === null
        ? await local.getPr(key, history, ORIGIN)
        : await getPrWithUpstream(local, upstream, key, history)
    assert.equal(value, expected, `§10.3 step ${index + 1}: ${server} get-pr ${checksum}`)
    if (index === 6) assert.equal(await s1.maxPackagePr(PKG), '0.3')
  }
  return { s2, s1, s0 }
}

/** Registers the upstream-path tests. */
export function registerUpstreamTests(open: OpenStore): void {
  void test('pr store: §10.3 upstream chain S2 <- S1 <- S0', async (t) => {
    const { s2, s1, s0 } = await runChain(open, t)
    assert.deepEqual(rowLabels(await exportAll(s2)), ['A:0', 'A:2', 'F:1'])
    assert.deepEqual(rowLabels(await exportAll(s1)), [
      'A:0',
      'A:2',
      'B:0.0',
      'B:0.2',
      'C:0.1',
      'C:0.3',
      'G:1.0',
      'H:1.1',
      'H:3',
    ])
    assert.deepEqual(rowLabels(await exportAll(s0)), [
      'A:0',
      'A:2',
      'D:0.3.0',
      'D:0.3.2',
      'E:0.3.1',
      'I:1.1.0',
      'J:1.1.1',
    ])
  })

  void test('pr store: §10.4 read-only stores answer would-be values', async (t) => {
    const { s2, s1, s0 } = await runChain(open, t)
    const ro = await open(t, { readOnly: true, shareWith: s0 })
    assert.equal(ro.isReadOnly, true)
    const before = await exportAll(s0)
    const ask = (checksum: string, history = false): Promise<string> =>
      getPrWithUpstream(ro, s1, prKey(checksum), history)
    assert.equal(await ask('A'), '3')
    assert.equal(await ask('A', true), '0')
    assert.equal(await ask('D'), '3')
    assert.equal(await ask('D', true), '0.3.0')
    assert.equal(await ro.maxPackagePr(PKG), '2')
    assert.equal(await ask('H'), '3')
    assert.equal(await ask('NEW1'), '3.0')
    assert.equal(await ask('NEW1'), '3.0')
    assert.equal(await ask('J'), '3')
    assert.deepEqual(await exportAll(s0), before)
    const roS2 = await open(t, { readOnly: true, shareWith: s2 })
    assert.equal(await roS2.getPr(prKey('NEW'), false, ORIGIN), '3')
    assert.equal(await roS2.getPr(prKey('NEW'), false, ORIGIN), '3')
    assert.equal(await roS2.getPr(prKey('A'), false, ORIGIN), '2')
    assert.equal(await roS2.getPr(prKey('A', 'unknown-1.0'), false, ORIGIN), '0')
  })

  void test('pr store: §10.5 an upstream without the package does not constrain', async (t) => {
    const s1 = await open(t, { readOnly: false })
    const s0 = await open(t, { readOnly: false })
    const key = (checksum: string) => prKey(checksum, 'pkg')
    assert.equal(await getPrWithUpstream(s0, s1, key('x0'), false), '0')
    assert.equal(await getPrWithUpstream(s0, s1, key('x1'), false), '1')
    // BitBake closes the connection here; a null upstream maximum is "no constraint".
    assert.equal(await getPrWithUpstream(s0, s1, key('x0'), false), '2')
    assert.equal(await getPrWithUpstream(s0, s1, key('x0'), true), '0')
  })

  void test('pr store: §10.6 sub-values extend the upstream maximum', async (t) => {
    const store = await open(t, { readOnly: false })
    const sub = (version: string, checksum: string, base: string): Promise<string> =>
      store.allocateSubValue(prKey(checksum, version), base, false, ORIGIN)
    assert.equal(await sub('p3', 'new', '3'), '3.0')
    await store.importOne(prKey('a', 'p1'), '1.0', ORIGIN)
    assert.equal(await sub('p1', 'new', '1'), '1.1')
    await store.importOne(prKey('a', 'p19'), '1.9', ORIGIN)
    await store.importOne(prKey('b', 'p19'), '1.10', ORIGIN)
    assert.equal(await sub('p19', 'new', '1'), '1.11')
    await store.importOne(prKey('a', 'deep'), '1', ORIGIN)
    await store.importOne(prKey('b', 'deep'), '1.0.0', ORIGIN)
    assert.equal(await sub('deep', 'new', '1'), '1.0.1')
    await store.importOne(prKey('a', 'near'), '10.4', ORIGIN)
    await store.importOne(prKey('b', 'near'), '2', ORIGIN)
    assert.equal(await sub('near', 'new', '1'), '1.0')
    // A checksum with a local value keeps it.
    assert.equal(await sub('p19', 'a', '1'), '1.9')
    assert.equal(await store.allocateSubValue(prKey('new', 'p19'), '5', true, ORIGIN), '1.11')
    assert.equal(await store.testPr(prKey('new', 'p19'), false), '1.11')
  })

  void test('pr store: reconcileKnownChecksum follows §5.1 and stores only changes', async (t) => {
    const store = await open(t, { readOnly: false })
    assert.deepEqual(await store.reconcileKnownChecksum(prKey('a'), { max: '5' }, ORIGIN), {
      kind: 'unknown',
    })
    await store.importOne(prKey('a'), '0', ORIGIN)
    await store.importOne(prKey('b'), '1.1', ORIGIN)
    const rows = (await exportAll(store)).length
    const reconcile = (checksum: string, max: string | null, hasChecksum?: boolean) =>
      store.reconcileKnownChecksum(
        prKey(checksum),
        hasChecksum === undefined ? { max } : { max, hasChecksum },
        ORIGIN,
      )
    assert.deepEqual(await reconcile('b', null), { kind: 'value', value: '1.1' })
    assert.deepEqual(await reconcile('b', '1'), { kind: 'value', value: '1.1' })
    assert.equal((await exportAll(store)).length, rows)
    assert.deepEqual(await reconcile('a', '2'), { kind: 'needs-upstream-checksum' })
    assert.equal((await exportAll(store)).length, rows)
    assert.deepEqual(await reconcile('a', '2', false), { kind: 'value', value: '2.0' })
    assert.equal(await store.testPr(prKey('a'), false), '2.0')
    assert.deepEqual(await reconcile('b', '3', true), { kind: 'value', value: '3' })
    assert.deepEqual(await reconcile('a', null), { kind: 'value', value: '4' })
    assert.deepEqual(rowLabels(await exportAll(store)), ['a:0', 'a:2.0', 'a:4', 'b:1.1', 'b:3'])
  })

  void test('pr store: adoptValue stores unless the checksum is known', async (t) => {
    const store = await open(t, { readOnly: false })
    assert.equal(await store.adoptValue(prKey('a'), '4', false, ORIGIN), '4')
    assert.equal(await store.adoptValue(prKey('a'), '7', false, ORIGIN), '4')
    await store.importOne(prKey('a'), '9', ORIGIN)
    assert.equal(await store.adoptValue(prKey('a'), '1', false, ORIGIN), '9')
    assert.equal(await store.adoptValue(prKey('a'), '1', true, ORIGIN), '4')
    assert.equal(await store.adoptValue(prKey('b'), '0.3', true, ORIGIN), '0.3')
    assert.deepEqual(rowLabels(await exportAll(store)), ['a:4', 'a:9', 'b:0.3'])
  })

  void test('pr store: read-only upstream methods store nothing', async (t) => {
    const rw = await open(t, { readOnly: false })
    await rw.importOne(prKey('a'), '0', ORIGIN)
    await rw.importOne(prKey('b'), '1', ORIGIN)
    const ro = await open(t, { readOnly: true, shareWith: rw })
    assert.deepEqual(await ro.reconcileKnownChecksum(prKey('a'), { max: '1' }, ORIGIN), {
      kind: 'value',
      value: '2',
    })
    assert.equal(await ro.adoptValue(prKey('c'), '5', false, ORIGIN), '5')
    assert.equal(await ro.allocateSubValue(prKey('d'), '1', false, ORIGIN), '1.0')
    assert.equal(await ro.allocateSubValue(prKey('d'), '1', false, ORIGIN), '1.0')
    assert.deepEqual(rowLabels(await exportAll(ro)), ['a:0', 'b:1'])
  })

  void test('pr store: upstream revisions that are not revisions are refused', async (t) => {
    const store = await open(t, { readOnly: false })
    await store.importOne(prKey('a'), '0', ORIGIN)
    await assert.rejects(store.allocateSubValue(prKey('n'), '1.x', false, ORIGIN), RangeError)
    await assert.rejects(store.adoptValue(prKey('n'), 'abc', false, ORIGIN), RangeError)
    await assert.rejects(store.reconcileKnownChecksum(prKey('a'), { max: '' }, ORIGIN), RangeError)
    assert.deepEqual(rowLabels(await exportAll(store)), ['a:0'])
  })
}
