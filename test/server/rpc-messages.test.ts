import { test } from 'node:test'
import assert from 'node:assert/strict'
import { exchange, HANDSHAKE, RawSocket } from './raw-socket.js'
import { startTestServer } from './rpc-test-service.js'

const ALIVE = '{"alive": true}\n'

test('rpc messages: pipelined requests are answered in order', async (t) => {
  const server = await startTestServer(t)
  const requests = Array.from({ length: 200 }, (_, i) => `{"echo": ${i}}\n`).join('')
  const reply = await exchange(t, server.addresses[0] ?? '', HANDSHAKE + requests)
  assert.deepEqual(
    reply.split('\n').slice(0, -1),
    Array.from({ length: 200 }, (_, i) => String(i)),
  )
})

test('rpc messages: replies use the reference JSON spelling', async (t) => {
  const server = await startTestServer(t)
  const request = '{"echo":{"b":[1,{"c":null}],"a":"\\u00e9\u00e8"}}\n'
  const reply = await exchange(t, server.addresses[0] ?? '', HANDSHAKE + request)
  assert.equal(reply, '{"b": [1, {"c": null}], "a": "\\u00e9\\u00e8"}\n')
})

test('rpc messages: dispatch follows the table order, not the key order (§6.2)', async (t) => {
  const server = await startTestServer(t)
  const request = '{"echo": {"x": 1}, "ping": {}}\n{"unknown": 1, "echo": 5}\n'
  assert.equal(await exchange(t, server.addresses[0] ?? '', HANDSHAKE + request), ALIVE + '5\n')
})

test('rpc messages: a session keeps per-connection state', async (t) => {
  const server = await startTestServer(t)
  const address = server.addresses[0] ?? ''
  const requests = '{"count": null}\n{"count": {}}\n'
  const expected = '{"requests": 1}\n{"requests": 2}\n'
  assert.equal(await exchange(t, address, HANDSHAKE + requests), expected)
  assert.equal(await exchange(t, address, HANDSHAKE + requests), expected)
})

test('rpc messages: null ends the session without a reply', async (t) => {
  const server = await startTestServer(t)
  const reply = await exchange(
    t,
    server.addresses[0] ?? '',
    HANDSHAKE + '{"ping": 1}\nnull\n{"ping": 2}\n',
  )
  assert.equal(reply, ALIVE)
})

test('rpc messages: invalid JSON, an empty line or a partial line close silently', async (t) => {
  const server = await startTestServer(t)
  const address = server.addresses[0] ?? ''
  const cases: [string, string][] = [
    ['{"ping": \n{"ping": {}}\n', ''],
    ['\n{"ping": {}}\n', ''],
    ['{"ping": {}}', ''],
    ['{"ping": {}}\n{"ping"\n{"ping": {}}\n', ALIVE],
  ]
  for (const [requests, expected] of cases) {
    assert.equal(await exchange(t, address, HANDSHAKE + requests), expected, requests)
  }
  const invalidUtf8 = Buffer.concat([
    Buffer.from(HANDSHAKE + '{"echo": "'),
    Buffer.from([0xff]),
    Buffer.from('"}\n'),
  ])
  assert.equal(await exchange(t, address, invalidUtf8), '')
})

test('rpc messages: unknown commands and non-objects get invoke-error, then close', async (t) => {
  const server = await startTestServer(t)
  const address = server.addresses[0] ?? ''
  const cases: [string, string][] = [
    ['{}', 'the request has no command'],
    ['{"bogus": {}}', 'unknown command \\"bogus\\"'],
    ['["ping"]', 'a request must be a JSON object with a command key'],
    ['"ping"', 'a request must be a JSON object with a command key'],
    ['42', 'a request must be a JSON object with a command key'],
    ['{"toString": 1, "constructor": 2}', 'unknown command \\"toString\\"'],
  ]
  for (const [request, message] of cases) {
    const reply = await exchange(t, address, `${HANDSHAKE}${request}\n{"ping": {}}\n`)
    assert.equal(reply, `{"invoke-error": {"message": "${message}"}}\n`, request)
  }
})

test('rpc messages: client-fault errors keep their message; the connection closes after', async (t) => {
  const server = await startTestServer(t)
  const address = server.addresses[0] ?? ''
  const invalid = await exchange(t, address, HANDSHAKE + '{"fail-params": {}}\n{"ping": {}}\n')
  assert.equal(
    invalid,
    '{"invoke-error": {"message": "fail-params: field \\"x\\" must be a string"}}\n',
  )
  const readOnly = await exchange(t, address, HANDSHAKE + '{"read-only": {}}\n{"ping": {}}\n')
  assert.equal(readOnly, '{"invoke-error": {"message": "the server is read-only"}}\n')
})

test('rpc messages: server faults send a generic message and log the details', async (t) => {
  const server = await startTestServer(t)
  const address = server.addresses[0] ?? ''
  const crash = await exchange(t, address, HANDSHAKE + '{"crash": {}}\n{"ping": {}}\n')
  assert.equal(crash, '{"invoke-error": {"message": "internal server error"}}\n')
  const storage = await exchange(t, address, HANDSHAKE + '{"storage": {}}\n')
  assert.equal(
    storage,
    '{"invoke-error": {"message": "the server could not access its database; retry later"}}\n',
  )
  const records = server.logs.records()
  const internal = records.find((record) => record.code === 'internal_error')
  assert.ok(internal)
  assert.equal(internal.level, 50)
  assert.match(JSON.stringify(internal.err), /SELECT \* FROM PRMAIN/)
  assert.equal(records.find((record) => record.code === 'storage_error')?.level, 40)
})

test('rpc messages: one bad client does not disturb another', async (t) => {
  const server = await startTestServer(t)
  const address = server.addresses[0] ?? ''
  const good = await RawSocket.connect(t, address)
  good.write(HANDSHAKE + '{"ping": {}}\n')
  await good.readLines(1)
  assert.equal(
    await exchange(t, address, HANDSHAKE + '{"crash": {}}\n'),
    '{"invoke-error": {"message": "internal server error"}}\n',
  )
  assert.equal(await exchange(t, address, 'garbage\n'), '')
  good.write('{"echo": "still here"}\n')
  assert.deepEqual(await good.readLines(2), ['{"alive": true}', '"still here"'])
})
