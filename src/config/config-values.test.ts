import * as assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Fail } from './config-values.js'
import {
  failFor,
  formatValue,
  parseBoolean,
  parseDatasetName,
  parseLogLevel,
  parsePositiveInteger,
  parseStorage,
  parseSyncMode,
  parseText,
} from './config-values.js'
import { ConfigError } from '../protocol/errors.js'

const fail: Fail = (reason) => {
  throw new Error(reason)
}

void test('config values: booleans accept true/false/1/0/yes/no/on/off in any case', () => {
  for (const word of ['true', 'TRUE', '1', 'yes', 'Yes', 'on', ' ON ']) {
    assert.equal(parseBoolean(word, fail), true, word)
  }
  for (const word of ['false', 'False', '0', 'no', 'NO', 'off', 'Off']) {
    assert.equal(parseBoolean(word, fail), false, word)
  }
  assert.equal(parseBoolean(true, fail), true)
  assert.equal(parseBoolean(false, fail), false)
  assert.equal(parseBoolean(1, fail), true)
})

void test('config values: booleans reject anything else', () => {
  for (const raw of ['', 'maybe', 'y', 'n', '2', 2, null, [], {}]) {
    assert.throws(() => parseBoolean(raw, fail), /expected true\/false/, JSON.stringify(raw))
  }
})

void test('config values: positive integers accept numbers and decimal strings', () => {
  assert.equal(parsePositiveInteger('1', fail), 1)
  assert.equal(parsePositiveInteger(' 1000 ', fail), 1000)
  assert.equal(parsePositiveInteger(65_536, fail), 65_536)
  assert.equal(parsePositiveInteger(String(Number.MAX_SAFE_INTEGER), fail), Number.MAX_SAFE_INTEGER)
})

void test('config values: positive integers reject zero, negatives, fractions and junk', () => {
  const bad = [
    '0',
    0,
    '-1',
    -1,
    '1.5',
    1.5,
    '1e3',
    '0x10',
    '',
    'ten',
    true,
    null,
    '9007199254740993',
  ]
  for (const raw of bad) {
    assert.throws(() => parsePositiveInteger(raw, fail), /positive integer/, String(raw))
  }
})

void test('config values: text must be a non-empty string', () => {
  assert.equal(parseText('a', fail), 'a')
  for (const raw of ['', '  ', 1, null]) assert.throws(() => parseText(raw, fail), /non-empty/)
})

void test('config values: log levels accept pino names, syslog names, Python names and 0-7', () => {
  const cases: [unknown, string][] = [
    ['info', 'info'],
    ['TRACE', 'trace'],
    ['silent', 'silent'],
    ['emergency', 'fatal'],
    ['emerg', 'fatal'],
    ['alert', 'fatal'],
    ['CRITICAL', 'fatal'],
    ['crit', 'fatal'],
    ['err', 'error'],
    ['ERROR', 'error'],
    ['WARNING', 'warn'],
    ['notice', 'info'],
    ['debug', 'debug'],
    ['0', 'fatal'],
    ['2', 'fatal'],
    ['3', 'error'],
    ['4', 'warn'],
    ['5', 'info'],
    ['6', 'info'],
    ['7', 'debug'],
    [7, 'debug'],
  ]
  for (const [raw, level] of cases) assert.equal(parseLogLevel(raw, fail), level, String(raw))
})

void test('config values: log levels reject unknown names and numbers out of range', () => {
  for (const raw of ['verbose', '8', '-1', '', null, true]) {
    assert.throws(() => parseLogLevel(raw, fail), /expected one of fatal/, String(raw))
  }
})

void test('config values: sync modes accept every spelling of seed-cli.md §2.2', () => {
  assert.deepEqual(parseSyncMode('immediate', fail), { kind: 'immediate' })
  assert.deepEqual(parseSyncMode('IMMEDIATE', fail), { kind: 'immediate' })
  for (const word of ['on_shutdown', 'on-shutdown', 'shutdown', 'On_Shutdown']) {
    assert.deepEqual(parseSyncMode(word, fail), { kind: 'onShutdown' }, word)
  }
  assert.deepEqual(parseSyncMode('periodic:30', fail), { kind: 'periodic', intervalSecs: 30 })
  assert.deepEqual(parseSyncMode({ periodic: { interval_secs: 5 } }, fail), {
    kind: 'periodic',
    intervalSecs: 5,
  })
})

void test('config values: sync modes reject anything else', () => {
  const bad = [
    'periodic',
    'periodic:',
    'periodic:0',
    'periodic:x',
    'never',
    '',
    3,
    { periodic: {} },
    { periodic: { interval_secs: 0 } },
    { periodic: { interval_secs: 5, extra: 1 } },
    { periodic: { interval_secs: 5 }, immediate: true },
    { immediate: null },
  ]
  for (const raw of bad) {
    assert.throws(() => parseSyncMode(raw, fail), /expected immediate/, JSON.stringify(raw))
  }
})

void test('config values: storage is SQLite for paths and PostgreSQL for postgres URLs', () => {
  assert.deepEqual(parseStorage('db.sqlite3', '/srv', fail), {
    kind: 'sqlite',
    path: '/srv/db.sqlite3',
  })
  assert.deepEqual(parseStorage('/var/db.sqlite3', '/srv', fail), {
    kind: 'sqlite',
    path: '/var/db.sqlite3',
  })
  assert.deepEqual(parseStorage(':memory:', '/srv', fail), { kind: 'sqlite', path: ':memory:' })
  for (const url of ['postgres://u:p@h:5432/db', 'postgresql://h/db', 'POSTGRES://h/db']) {
    assert.deepEqual(parseStorage(url, '/srv', fail), { kind: 'postgres', url }, url)
  }
})

void test('config values: storage rejects other URL schemes and empty values', () => {
  assert.throws(() => parseStorage('mysql://h/db', '/srv', fail), /unsupported database URL/)
  assert.throws(() => parseStorage('sqlite:///x.db', '/srv', fail), /unsupported database URL/)
  assert.throws(() => parseStorage('', '/srv', fail), /non-empty/)
  assert.throws(() => parseStorage(5, '/srv', fail), /non-empty/)
})

void test('config values: dataset names are short identifiers', () => {
  assert.equal(parseDatasetName('oe-core_2.0', fail), 'oe-core_2.0')
  for (const raw of ['', '-a', 'a b', 'a/b', 'x'.repeat(65), 3]) {
    assert.throws(() => parseDatasetName(raw, fail), Error, String(raw))
  }
})

void test('config values: failFor names key, value and source in a ConfigError', () => {
  const fail = failFor('max_connections', { raw: 'abc', source: 'PRSERV_MAX_CONNECTIONS' })
  assert.throws(
    () => fail('expected a positive integer'),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.code === 'config_error' &&
      error.message ===
        'Invalid max_connections "abc" from PRSERV_MAX_CONNECTIONS: expected a positive integer',
  )
})

void test('config values: formatValue redacts passwords and truncates long values', () => {
  assert.equal(formatValue('postgres://u:secret@h/db'), '"postgres://u:***@h/db"')
  assert.equal(formatValue(['postgres://u:secret@h/db']), '["postgres://u:***@h/db"]')
  assert.equal(formatValue(12), '12')
  assert.equal(formatValue(false), 'false')
  assert.equal(formatValue(null), 'null')
  assert.equal(formatValue(undefined), '(undefined)')
  const long = formatValue('x'.repeat(500))
  assert.equal(long.length, 120)
  assert.ok(long.endsWith('...'))
})
