import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import type { AllocationOp, PackageGroup, StateRow } from './postgres-batch-plan.js'
import {
  groupByPackage,
  indexState,
  opIdentity,
  packageId,
  PackageView,
  planOp,
  SORT_KEY_CEILING,
} from './postgres-batch-plan.js'

const key = (
  checksum: string,
  version = 'v',
): { version: string; pkgarch: string; checksum: string } => ({
  version,
  pkgarch: 'a',
  checksum,
})

function onlyGroup(ops: readonly AllocationOp[]): PackageGroup {
  const [group, ...rest] = groupByPackage(ops)
  assert.ok(group !== undefined && rest.length === 0)
  return group
}

/** Plans `ops` in order on a view of `rows`; returns each op's output. */
function planAll(ops: readonly AllocationOp[], rows: readonly StateRow[], isRecording = true) {
  const group = onlyGroup(ops)
  const view = new PackageView(group, indexState(rows), isRecording)
  return ops.map((op) => planOp(view, op))
}

void test('batch plan: groups by package in arrival order and deduplicates lookups', () => {
  const groups = groupByPackage([
    { kind: 'get-pr', key: key('c1'), history: false },
    { kind: 'get-pr', key: key('x', 'w'), history: true },
    { kind: 'get-pr', key: key('c1'), history: true },
    { kind: 'import', key: key('c2'), value: '7' },
    { kind: 'sub-value', key: key('c3'), base: '1.2', history: false },
  ])
  assert.deepEqual(
    groups.map((group) => [group.pkg.version, group.opIndexes]),
    [
      ['v', [0, 2, 3, 4]],
      ['w', [1]],
    ],
  )
  const [first] = groups
  assert.ok(first !== undefined)
  assert.deepEqual(
    first.lookups.map((lookup) => [lookup.k, lookup.c ?? lookup.b ?? null]),
    [
      ['p', null],
      ['c', 'c1'],
      ['c', 'c3'],
      ['s', '"1"2'],
    ],
  )
  assert.equal(first.lookups.at(-1)?.h, `"1"2${SORT_KEY_CEILING}`)
})

void test('batch plan: distinct new checksums in one batch get distinct consecutive values', () => {
  const ops: AllocationOp[] = ['a', 'b', 'a', 'c'].map((checksum) => ({
    kind: 'get-pr',
    key: key(checksum),
    history: false,
  }))
  const plans = planAll(ops, [{ k: 'p', i: 0, p: 0, lo: null, hi: '4' }])
  assert.deepEqual(
    plans.map((plan) => [plan.output, plan.valueToStore]),
    [
      ['5', '5'],
      ['6', '6'],
      ['7', '7'],
      ['8', '8'],
    ],
  )
})

void test('batch plan: history answers the smallest value and never stores', () => {
  const rows: StateRow[] = [
    { k: 'p', i: 0, p: 0, lo: null, hi: '9' },
    { k: 'c', i: 0, p: 0, lo: '2', hi: '6' },
  ]
  const [historic, latest] = planAll(
    [
      { kind: 'get-pr', key: key('c'), history: true },
      { kind: 'get-pr', key: key('c'), history: false },
    ],
    rows,
  )
  assert.deepEqual(historic, { output: '2', valueToStore: null })
  assert.deepEqual(latest, { output: '10', valueToStore: '10' })
})

void test('batch plan: a read-only view answers every operation from the database state', () => {
  const ops: AllocationOp[] = ['a', 'b'].map((checksum) => ({
    kind: 'get-pr',
    key: key(checksum),
    history: false,
  }))
  const plans = planAll(ops, [{ k: 'p', i: 0, p: 0, lo: null, hi: '2' }], false)
  assert.deepEqual(
    plans.map((plan) => plan.output),
    ['3', '3'],
  )
})

void test('batch plan: sub-values under one base follow each other within a batch', () => {
  const ops: AllocationOp[] = ['s1', 's2', 's1'].map((checksum) => ({
    kind: 'sub-value',
    key: key(checksum),
    base: '5',
    history: false,
  }))
  const rows: StateRow[] = [
    { k: 'p', i: 0, p: 0, lo: null, hi: '5.1' },
    { k: 's', i: 0, p: 0, lo: null, hi: '5.1' },
  ]
  assert.deepEqual(
    planAll(ops, rows).map((plan) => plan.output),
    ['5.2', '5.3', '5.2'],
  )
})

void test('batch plan: imports raise the maximum; non-revisions and equal numbers do not', () => {
  const plans = planAll(
    [
      { kind: 'import', key: key('i1'), value: 'junk' },
      { kind: 'import', key: key('i2'), value: '07' },
      { kind: 'import', key: key('i3'), value: '7' },
      { kind: 'get-pr', key: key('n'), history: false },
    ],
    [{ k: 'p', i: 0, p: 0, lo: null, hi: '3' }],
  )
  assert.deepEqual(
    plans.map((plan) => plan.output),
    [null, null, null, '8'],
  )
})

void test('batch plan: reconcile and adopt follow the upstream rules', () => {
  const rows: StateRow[] = [
    { k: 'p', i: 0, p: 0, lo: null, hi: '3' },
    { k: 'c', i: 0, p: 0, lo: '1', hi: '1' },
    { k: 'c', i: 1, p: 0, lo: null, hi: null },
  ]
  const plans = planAll(
    [
      { kind: 'reconcile', key: key('known'), upstream: { max: '2' } },
      { kind: 'adopt', key: key('new'), value: '9', history: false },
      { kind: 'adopt', key: key('new'), value: '8', history: false },
    ],
    rows,
  )
  assert.deepEqual(plans, [
    { output: { kind: 'value', value: '4' }, valueToStore: '4' },
    { output: '9', valueToStore: '9' },
    { output: '9', valueToStore: null },
  ])
})

void test('batch plan: identical operations share an identity whatever the key object', () => {
  const a = opIdentity({ kind: 'get-pr', key: key('c'), history: false })
  const b = opIdentity({
    kind: 'get-pr',
    key: { checksum: 'c', pkgarch: 'a', version: 'v' },
    history: false,
  })
  assert.equal(a, b)
  assert.notEqual(a, opIdentity({ kind: 'get-pr', key: key('c'), history: true }))
  assert.notEqual(a, opIdentity({ kind: 'adopt', key: key('c'), value: '1', history: false }))
})

void test('batch plan: operations that differ in any field have different identities', () => {
  const at = (version: string, pkgarch: string, checksum: string) => ({
    version,
    pkgarch,
    checksum,
  })
  const ops: AllocationOp[] = [
    { kind: 'get-pr', key: at('a1', ':b', 'c'), history: false },
    { kind: 'get-pr', key: at('a', '1:b', 'c'), history: false },
    { kind: 'get-pr', key: at('a', '1', ':bc'), history: false },
    { kind: 'import', key: at('a', 'b', 'c'), value: '1' },
    { kind: 'import', key: at('a', 'b', 'c1'), value: '' },
    { kind: 'adopt', key: at('a', 'b', 'c'), value: '1', history: true },
    { kind: 'sub-value', key: at('a', 'b', 'c'), base: '1', history: true },
    { kind: 'reconcile', key: at('a', 'b', 'c'), upstream: { max: null } },
    { kind: 'reconcile', key: at('a', 'b', 'c'), upstream: { max: '-' } },
    { kind: 'reconcile', key: at('a', 'b', 'c'), upstream: { max: '1', hasChecksum: false } },
    { kind: 'reconcile', key: at('a', 'b', 'c'), upstream: { max: '1', hasChecksum: true } },
    { kind: 'reconcile', key: at('a', 'b', 'c'), upstream: { max: '1' } },
  ]
  const identities = new Set(ops.map((op) => opIdentity(op)))
  assert.equal(identities.size, ops.length)
  assert.notEqual(packageId(at('a1', 'b', '')), packageId(at('a', '1b', '')))
})
