import { test } from 'node:test'
import { setImmediate as nextTurn } from 'node:timers/promises'
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
import { createLogger } from '../observability/logger.js'
import type { DatasetMetrics } from '../observability/metrics.js'
import {
  findMethod,
  indexMethods,
  invokeMethod,
  REPLY_ABANDONED,
  resolveRequest,
  toWireError,
} from './dispatcher.js'
import { defineMethod, StreamedResult } from './method.js'

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

/** Metrics that keep what was recorded. */
function recordingMetrics(): DatasetMetrics & { readonly requests: [string, string][] } {
  const requests: [string, string][] = []
  return {
    isEnabled: true,
    requests,
    recordRequest: (method, outcome) => {
      requests.push([method, outcome])
    },
    recordConnection: () => undefined,
  }
}

/** `[`, then (after a turn, as a page read would take) `]` or `failure`. */
async function* pieces(failure: Error | null): AsyncGenerator<string> {
  yield '['
  await nextTurn()
  if (failure !== null) throw failure
  yield ']'
}

test('dispatcher: a streamed reply is counted once its pieces end, with how they ended', async () => {
  const metrics = recordingMetrics()
  const ctx = { peer: 'unit', log: createLogger('silent'), session: null }
  const streamed = (failure: Error | null) =>
    defineMethod({
      name: 'export',
      parseParams: (body: unknown) => body,
      handle: () => new StreamedResult(pieces(failure)),
    })
  const read = async (failure: Error | null, stopAfter = Infinity): Promise<string[]> => {
    const result = await invokeMethod(streamed(failure), {}, ctx, metrics)
    assert.ok(result instanceof StreamedResult)
    const texts: string[] = []
    for await (const text of result.pieces) {
      texts.push(text)
      if (texts.length >= stopAfter) break
    }
    return texts
  }
  const pending = await invokeMethod(streamed(null), {}, ctx, metrics)
  assert.ok(pending instanceof StreamedResult)
  // Not counted before its pieces are read.
  assert.deepEqual(metrics.requests, [])
  assert.deepEqual(await read(null), ['[', ']'])
  await assert.rejects(read(new StorageError('disk I/O error')), /disk I\/O error/)
  assert.deepEqual(await read(null, 1), ['['])
  assert.deepEqual(metrics.requests, [
    ['export', 'ok'],
    ['export', 'storage_error'],
    ['export', REPLY_ABANDONED],
  ])
})
