import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  MAX_REVISION_FIELD_DIGITS,
  compareRevisions,
  increaseRevision,
  isRevision,
  maxRevision,
  minRevision,
  parseRevision,
  revisionSortKey,
} from './revision.js'

test('revision: increase adds one to the last field (prserv.md §2.1, §10.6)', () => {
  assert.equal(increaseRevision('0'), '1')
  assert.equal(increaseRevision('9'), '10')
  assert.equal(increaseRevision('1.9'), '1.10')
  assert.equal(increaseRevision('0.3.2'), '0.3.3')
  assert.equal(increaseRevision('1.1.1.3'), '1.1.1.4')
  assert.equal(increaseRevision('99999999999999999999'), '100000000000000000000')
  assert.equal(increaseRevision('1.007'), '1.8')
  // Around the switch from doubles to big integers, and beyond 2^53.
  assert.equal(increaseRevision('99999999999999'), '100000000000000')
  assert.equal(increaseRevision('999999999999999'), '1000000000000000')
  assert.equal(increaseRevision('9007199254740992'), '9007199254740993')
})

test('revision: increase rejects non-revisions', () => {
  for (const bad of ['', '1.', 'a', '1.a', '.1', '1..2', ' 7', '+7', '-1']) {
    assert.throws(() => increaseRevision(bad), RangeError, bad)
    assert.equal(isRevision(bad), false, bad)
  }
})

test('revision: fields compare as numbers, not strings', () => {
  assert.ok(compareRevisions('1.10', '1.2') > 0)
  assert.ok(compareRevisions('2', '10') < 0)
  assert.ok(compareRevisions('1.20', '1.3') > 0)
  assert.ok(compareRevisions('11', '9') > 0)
})

test('revision: a prefix sorts before its extensions (fixes the "1" vs "1.0" anomaly)', () => {
  assert.ok(compareRevisions('1', '1.0') < 0)
  assert.ok(compareRevisions('1.0', '1') > 0)
  assert.ok(compareRevisions('1.0', '1.0.0') < 0)
  assert.ok(compareRevisions('1.99', '2') < 0)
  assert.equal(compareRevisions('01', '1'), 0)
  assert.equal(maxRevision(['0.0', '0']), '0.0')
  assert.equal(maxRevision(['0', '0.0']), '0.0')
})

test('revision: sort keys order like compareRevisions', () => {
  const values = [
    '0',
    '0.0',
    '0.1',
    '0.10',
    '0.2',
    '1',
    '1.0',
    '1.0.0',
    '1.1',
    '2',
    '9',
    '10',
    '11',
  ]
  const shuffled = [...values].reverse()
  const byKey = [...shuffled].sort((a, b) => {
    const ka = revisionSortKey(a) ?? ''
    const kb = revisionSortKey(b) ?? ''
    return ka < kb ? -1 : ka > kb ? 1 : 0
  })
  const byCompare = [...shuffled].sort(compareRevisions)
  assert.deepEqual(byKey, byCompare)
  assert.deepEqual(byCompare, [
    '0',
    '0.0',
    '0.1',
    '0.2',
    '0.10',
    '1',
    '1.0',
    '1.0.0',
    '1.1',
    '2',
    '9',
    '10',
    '11',
  ])
})

test('revision: every value under a base shares the base key as a prefix', () => {
  const base = revisionSortKey('1') ?? ''
  for (const under of ['1.0', '1.9', '1.10', '1.0.0']) {
    assert.ok((revisionSortKey(under) ?? '').startsWith(base), under)
  }
  assert.ok(!(revisionSortKey('10') ?? '').startsWith(base))
  assert.ok(!(revisionSortKey('2') ?? '').startsWith(base))
})

test('revision: leading zeros are ignored when parsing', () => {
  assert.deepEqual(parseRevision('007.01'), ['7', '1'])
  assert.equal(revisionSortKey('01'), revisionSortKey('1'))
})

test('revision: parsing agrees with the pattern definition on generated strings', () => {
  // The definition: dot-separated fields of decimal digits, leading zeros dropped (one digit
  // kept), at most MAX_REVISION_FIELD_DIGITS digits after that.
  const byPattern = (value: string): string[] | null => {
    const fields = value.split('.')
    if (!fields.every((field) => /^[0-9]+$/.test(field))) return null
    const digits = fields.map((field) => field.replace(/^0+(?=[0-9])/, ''))
    return digits.some((field) => field.length > MAX_REVISION_FIELD_DIGITS) ? null : digits
  }
  const alphabet = '0017 9..a-'
  let seed = 7
  const next = (): number => {
    seed = (seed * 48_271) % 2_147_483_647 // MINSTD: exact in doubles
    return seed
  }
  const long = '9'.repeat(MAX_REVISION_FIELD_DIGITS)
  const samples = ['', '.', '0', '00', long, `0${long}`, `${long}9`, `1.${long}`, `1.${long}0`]
  for (let n = 0; n < 5000; n++) {
    let value = ''
    for (let length = next() % 8; length > 0; length--) {
      value += alphabet.charAt(next() % alphabet.length)
    }
    samples.push(value)
  }
  for (const value of samples) assert.deepEqual(parseRevision(value), byPattern(value), value)
})

test('revision: max and min skip values that are not revisions', () => {
  assert.equal(maxRevision(['3', 'abc', null, '12', '9']), '12')
  assert.equal(minRevision(['3', 'abc', null, '12', '9']), '3')
  assert.equal(maxRevision([]), null)
  assert.equal(minRevision(['x']), null)
})
