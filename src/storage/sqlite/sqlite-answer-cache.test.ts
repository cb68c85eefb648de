import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import { GetPrAnswerCache } from './sqlite-answer-cache.js'

const key = (version: string, pkgarch: string, checksum: string) => ({
  version,
  pkgarch,
  checksum,
})

test('get-pr answer cache: keys are per version, pkgarch, checksum and history', () => {
  const cache = new GetPrAnswerCache(10)
  cache.set(key('v', 'a', 'c'), false, '3')
  assert.equal(cache.get(key('v', 'a', 'c'), false), '3')
  assert.equal(cache.get(key('v', 'a', 'c'), true), undefined)
  // Field boundaries never blur, whatever the strings hold.
  cache.set(key('1:a', 'b', 'c'), false, '1')
  cache.set(key('1', 'a1:b', 'c'), false, '2')
  cache.set(key('', '', '1:a1:bc'), false, '4')
  assert.equal(cache.get(key('1:a', 'b', 'c'), false), '1')
  assert.equal(cache.get(key('1', 'a1:b', 'c'), false), '2')
  assert.equal(cache.get(key('', '', '1:a1:bc'), false), '4')
  assert.equal(cache.size, 4)
})

test('get-pr answer cache: holds at most maxEntries, dropping the oldest', () => {
  const cache = new GetPrAnswerCache(2)
  cache.set(key('v', 'a', '1'), false, '1')
  cache.set(key('v', 'a', '2'), false, '2')
  cache.set(key('v', 'a', '3'), false, '3')
  assert.equal(cache.size, 2)
  assert.equal(cache.get(key('v', 'a', '1'), false), undefined)
  assert.equal(cache.get(key('v', 'a', '3'), false), '3')
  cache.clear()
  assert.equal(cache.size, 0)
  assert.equal(cache.get(key('v', 'a', '3'), false), undefined)
  const disabled = new GetPrAnswerCache(0)
  disabled.set(key('v', 'a', '1'), false, '1')
  assert.equal(disabled.size, 0)
})
