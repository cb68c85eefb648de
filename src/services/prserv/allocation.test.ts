import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decideLocalValue, decideReconciledValue, decideSubValue } from './allocation.js'

test('allocation: a new package starts at "0"', () => {
  assert.deepEqual(decideLocalValue(null, null, false), { value: '0', isNew: true })
  assert.deepEqual(decideLocalValue(null, null, true), { value: '0', isNew: true })
})

test('allocation: a new checksum gets max + 1', () => {
  assert.deepEqual(decideLocalValue('9', null, false), { value: '10', isNew: true })
  assert.deepEqual(decideLocalValue('1.9', null, true), { value: '1.10', isNew: true })
})

test('allocation: history returns the checksum value unchanged', () => {
  assert.deepEqual(decideLocalValue('11', '0', true), { value: '0', isNew: false })
})

test('allocation: no-history bumps numerically below the maximum (fixes prserv.md §10.2)', () => {
  assert.deepEqual(decideLocalValue('11', '9', false), { value: '12', isNew: true })
  assert.deepEqual(decideLocalValue('1.10', '1.9', false), { value: '1.11', isNew: true })
  assert.deepEqual(decideLocalValue('11', '11', false), { value: '11', isNew: false })
})

test('allocation: reconcile follows prserv.md §10.3', () => {
  // Row 6: B=0.0, local max 0.1, upstream max 0 -> 0.2
  assert.deepEqual(decideReconciledValue('0.0', '0.1', { max: '0' }), {
    kind: 'value',
    value: '0.2',
  })
  // Row 21: A=0, local max 1.1, upstream max 2 which knows A -> 2
  assert.deepEqual(decideReconciledValue('0', '1.1', { max: '2' }), {
    kind: 'needs-upstream-checksum',
  })
  assert.deepEqual(decideReconciledValue('0', '1.1', { max: '2', hasChecksum: true }), {
    kind: 'value',
    value: '2',
  })
  assert.deepEqual(decideReconciledValue('0', '1.1', { max: '2', hasChecksum: false }), {
    kind: 'value',
    value: '2.0',
  })
})

test('allocation: an upstream that does not know the package constrains nothing', () => {
  assert.deepEqual(decideReconciledValue('0', '1', { max: null }), { kind: 'value', value: '2' })
  assert.deepEqual(decideReconciledValue('1', '1', { max: null }), { kind: 'value', value: '1' })
})

test('allocation: sub-values continue under the base', () => {
  assert.equal(decideSubValue('3', null), '3.0')
  assert.equal(decideSubValue('1', '1.0'), '1.1')
  assert.equal(decideSubValue('1', '1.10'), '1.11')
  assert.equal(decideSubValue('1', '1.0.0'), '1.0.1')
})
