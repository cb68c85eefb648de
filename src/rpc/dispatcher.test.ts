import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  ConfigError,
  ConnectionError,
  InvalidParamsError,
  InvalidRequestError,
  ProtocolError,
  ReadOnlyError,
  RemoteError,
  StorageError,
  UpstreamError,
} from '../protocol/errors.js'
import { findMethod, indexMethods, resolveRequest, toWireError } from './dispatcher.js'
import { defineMethod } from './method.js'

const METHODS = ['ping', 'get-pr', 'test-pr'].map((name) =>
  defineMethod({ name, parseParams: (body: unknown) => body, handle: () => name }),
)

test('dispatcher: the first method of the table present as a key wins (§6.2)', () => {
  const target = resolveRequest(METHODS, { 'test-pr': 1, 'get-pr': 2, other: 3 })
  assert.ok(target.kind === 'call')
  assert.equal(target.method.name, 'get-pr')
  assert.equal(target.body, 2)
})

test('dispatcher: null ends the session; anything else unknown is an invalid request', () => {
  assert.deepEqual(resolveRequest(METHODS, null), { kind: 'end-session' })
  for (const message of [{}, [], ['ping'], 'ping', 0, false, { toString: 1 }]) {
    assert.throws(() => resolveRequest(METHODS, message), InvalidRequestError)
  }
  assert.throws(() => resolveRequest(METHODS, { ['x'.repeat(500)]: 1 }), /…"$/)
})

test('dispatcher: methods are found by name for the JSON-RPC style dialect', () => {
  const index = indexMethods(METHODS)
  assert.equal(findMethod(index, 'test-pr').name, 'test-pr')
  assert.throws(() => findMethod(index, 'constructor'), /unknown command "constructor"/)
})

test('dispatcher: toWireError keeps client-facing messages and hides server details', () => {
  const cases: [unknown, string, string][] = [
    [new ProtocolError('bad line'), 'protocol_error', 'bad line'],
    [new InvalidRequestError('unknown command "x"'), 'invalid_request', 'unknown command "x"'],
    [
      new InvalidParamsError('get-pr: field "version"'),
      'invalid_params',
      'get-pr: field "version"',
    ],
    [new ReadOnlyError('read-only'), 'read_only', 'read-only'],
    [
      new UpstreamError('upstream PR server h:1 failed'),
      'upstream_error',
      'upstream PR server h:1 failed',
    ],
    [
      new StorageError('cannot open /var/db.sqlite3'),
      'storage_error',
      'the server could not access its database; retry later',
    ],
    [
      new ConnectionError('cannot connect to unix:///x'),
      'upstream_error',
      'the upstream server failed or is unreachable; retry later',
    ],
    [
      new RemoteError('denied'),
      'upstream_error',
      'the upstream server failed or is unreachable; retry later',
    ],
    [new ConfigError('bad key'), 'internal_error', 'internal server error'],
    [new TypeError('x is undefined at /src/file.ts'), 'internal_error', 'internal server error'],
    ['a string', 'internal_error', 'internal server error'],
  ]
  for (const [err, code, message] of cases) assert.deepEqual(toWireError(err), { code, message })
})
