import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import { LookupArrays, toArrayLiteral } from './postgres-lookup-arrays.js'
import { groupByPackage, indexState } from './postgres-batch-plan.js'
import type { AllocationOp } from './postgres-batch-plan.js'

void test('toArrayLiteral quotes every text element and escapes quotes and backslashes', () => {
  assert.equal(toArrayLiteral([]), '{}')
  assert.equal(toArrayLiteral([1, 0, 22]), '{1,0,22}')
  assert.equal(toArrayLiteral([true, false, null]), '{t,f,NULL}')
  assert.equal(toArrayLiteral(['a', null, '']), '{"a",NULL,""}')
  assert.equal(toArrayLiteral(['NULL', 'x,y', '{z}']), '{"NULL","x,y","{z}"}')
  assert.equal(toArrayLiteral(['say "hi"', 'back\\slash']), '{"say \\"hi\\"","back\\\\slash"}')
})

function ops(): AllocationOp[] {
  const key = (version: string, checksum: string) => ({ version, pkgarch: 'arch', checksum })
  return [
    { kind: 'get-pr', key: key('v1', 'a'), history: true },
    { kind: 'sub-value', key: key('v2', 'b'), base: '5', history: true },
    { kind: 'get-pr', key: key('v3', 'c'), history: false },
  ]
}

void test('LookupArrays numbers a subset of packages by position and maps answers back', () => {
  const groups = groupByPackage(ops())
  // Packages 1 and 2 of the batch (v2 with a checksum and a base lookup, v3 with a checksum).
  const arrays = new LookupArrays(groups.slice(1))
  const read = arrays.readArguments()
  assert.equal(read.v, '{"v2","v3"}')
  assert.equal(read.cp, '{0,1}')
  assert.equal(read.c, '{"b","c"}')
  assert.equal(read.bp, '{0}')
  // The batch numbered v2's checksum lookup 1 and v3's 2 (v1's is 0).
  assert.deepEqual(arrays.toBatchRow({ k: 'c', i: 1, p: 1, lo: '4', hi: '7' }), {
    k: 'c',
    i: 2,
    p: 2,
    lo: '4',
    hi: '7',
  })
  assert.deepEqual(arrays.toBatchRow({ k: 'p', i: 0, p: 0, lo: null, hi: '5.1' }), {
    k: 'p',
    i: 1,
    p: 1,
    lo: null,
    hi: '5.1',
  })
  assert.throws(() => arrays.toBatchRow({ k: 'c', i: 2, p: 0, lo: null, hi: null }), RangeError)
  const expected = arrays.expected(
    indexState([
      { k: 'p', i: 2, p: 2, lo: null, hi: '9' },
      { k: 'c', i: 1, p: 1, lo: '4', hi: '7' },
    ]),
  )
  assert.deepEqual(expected, {
    pkgMax: '{NULL,"9"}',
    // The sort key of "9": one digit ('"', escaped in the literal), then the digit.
    pkgFloor: '{NULL,"\\"9"}',
    chkLo: '{"4",NULL}',
    chkHi: '{"7",NULL}',
    baseMax: '{NULL}',
  })
  const rows = arrays.rowArguments([{ p: 2, c: 'c', value: '10', peer: 'x', mayExist: false }])
  assert.equal(rows.p, '{1}')
  assert.equal(rows.mayExist, '{f}')
  const outside = [{ p: 0, c: 'a', value: '0', peer: 'x', mayExist: true }]
  assert.throws(() => arrays.rowArguments(outside), RangeError)
})
