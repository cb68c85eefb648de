import { test } from 'node:test'
import assert from 'node:assert/strict'
import { exchange, RawSocket } from './raw-socket.js'
import { startTestServer } from './rpc-test-service.js'

test('rpc JSON-RPC dialect: a first line starting with { is served without handshake', async (t) => {
  const server = await startTestServer(t)
  const raw = await RawSocket.connect(t, server.addresses[0] ?? '')
  raw.write('{"id": 1, "method": "ping", "params": {}}\n')
  raw.write('{"id": "two", "method": "echo", "params": {"value": [1, "é"]}}\r\n')
  raw.write('{"method": "count"}\n')
  assert.deepEqual(await raw.readLines(3), [
    '{"id": 1, "result": {"alive": true}, "error": null}',
    '{"id": "two", "result": {"value": [1, "\\u00e9"]}, "error": null}',
    '{"id": null, "result": {"requests": 1}, "error": null}',
  ])
})

test('rpc JSON-RPC dialect: client faults get an error object and the connection stays open', async (t) => {
  const server = await startTestServer(t)
  const raw = await RawSocket.connect(t, server.addresses[0] ?? '')
  raw.write('{"id": 1, "method": "bogus", "params": {}}\n')
  raw.write('{"id": 2, "method": "fail-params", "params": {}}\n')
  raw.write('[1, 2]\n')
  raw.write('{"id": 3, "method": "upper-stream"}\n')
  raw.write('{"id": 4, "method": "ping"}\n')
  assert.deepEqual(await raw.readLines(5), [
    '{"id": 1, "result": null, "error": {"code": "invalid_request", "message": "unknown command \\"bogus\\""}}',
    '{"id": 2, "result": null, "error": {"code": "invalid_params", "message": "fail-params: field \\"x\\" must be a string"}}',
    '{"id": null, "result": null, "error": {"code": "invalid_request", "message": "a request must be {\\"id\\", \\"method\\": <string>, \\"params\\"}"}}',
    '{"id": 3, "result": null, "error": {"code": "invalid_request", "message": "stream mode is not available in the JSON-RPC style dialect"}}',
    '{"id": 4, "result": {"alive": true}, "error": null}',
  ])
  assert.equal(raw.isClosed, false)
})

test('rpc JSON-RPC dialect: server faults get a generic error, then the connection closes', async (t) => {
  const server = await startTestServer(t)
  const reply = await exchange(
    t,
    server.addresses[0] ?? '',
    '{"id": 7, "method": "crash"}\n{"id": 8, "method": "ping"}\n',
  )
  assert.equal(
    reply,
    '{"id": 7, "result": null, "error": {"code": "internal_error", "message": "internal server error"}}\n',
  )
})

test('rpc JSON-RPC dialect: invalid JSON closes silently', async (t) => {
  const server = await startTestServer(t)
  const reply = await exchange(
    t,
    server.addresses[0] ?? '',
    '{"id": 1, "method": "ping"}\n{"id": 2,\n{"id": 3, "method": "ping"}\n',
  )
  assert.equal(reply, '{"id": 1, "result": {"alive": true}, "error": null}\n')
})
