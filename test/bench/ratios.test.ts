/**
 * The bench's targets as ratios: rows measured once give a plain ratio; rows measured in
 * alternating rounds give the ratio of their mean rates, and each round's ratio.
 */
import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import { computeRatios, formatRatio } from '../../bench/ratios.js'
import type { ScenarioResult } from '../../bench/report.js'

function row(scenario: string, reqPerSec: number, stealCpuPercent = 0): ScenarioResult {
  return {
    scenario,
    connections: 64,
    requests: reqPerSec * 5,
    reqPerSec,
    p50Ms: 1,
    p99Ms: 2,
    errors: 0,
    serverCpuPercent: 50,
    generatorCpuPercent: 20,
    otherCpuPercent: 60,
    stealCpuPercent,
    check: 'ok',
    errorSamples: [],
  }
}

void test('bench ratios: alternating rounds give the ratio of mean rates and one per round', () => {
  const results = [
    row('pg raw-insert', 5000),
    row('pg alloc-64', 5500),
    row('pg raw-insert', 4000, 12),
    row('pg alloc-64', 4200),
    row('pg raw-insert', 6000),
    row('pg alloc-64', 5700),
    row('pg alloc-1', 9000),
    row('pg plain-alloc-1', 900),
  ]
  const ratios = computeRatios(results)
  const target = ratios.find((ratio) => ratio.name === 'pg alloc-64 / raw insert')
  assert.ok(target)
  assert.equal(target.value, 15_400 / 15_000)
  assert.deepEqual(
    target.roundValues.map((value) => value.toFixed(3)),
    ['1.100', '1.050', '0.950'],
  )
  assert.equal(target.isMet, true)
  assert.equal(target.stealCpuPercent, 12)
  const text = formatRatio(target)
  assert.match(text, /1\.03 .*: met \(steal% up to 12: the host was busy, repeat\)/)
  assert.match(text, /rounds: 1\.10, 1\.05, 0\.95$/)
  const plain = ratios.find((ratio) => ratio.name === 'pg alloc-1 / plain design')
  assert.ok(plain)
  assert.equal(plain.value, 10)
  assert.deepEqual(plain.roundValues, [])
  assert.doesNotMatch(formatRatio(plain), /rounds/)
})
