import { test } from 'node:test'
import assert from 'node:assert/strict'
import { exchange, HANDSHAKE, RawSocket } from './raw-socket.js'
import { startTestServer } from './rpc-test-service.js'

test('rpc stream mode: "ok" with quotes to enter, bare ok to leave (§9)', async (t) => {
  const server = await startTestServer(t)
  const request =
    '{"upper-stream": null}\nabc\nx y \r\nEND\n{"ping": {}}\n' +
    '{"upper-stream": {}}\nq\n\n{"ping": {}}\n' +
    '{"upper-stream": {}}\nEND \r\n'
  const reply = await exchange(t, server.addresses[0] ?? '', HANDSHAKE + request)
  assert.equal(
    reply,
    '"ok"\nABC\nX Y\nok\n{"alive": true}\n"ok"\nQ\nok\n{"alive": true}\n"ok"\nok\n',
  )
})

test('rpc stream mode: pipelined lines are answered one for one, in order', async (t) => {
  const server = await startTestServer(t)
  const raw = await RawSocket.connect(t, server.addresses[0] ?? '')
  const lines = Array.from({ length: 500 }, (_, i) => `line ${i}`)
  raw.write(HANDSHAKE + '{"upper-stream": null}\n' + lines.join('\n') + '\nEND\n')
  const received = await raw.readLines(502)
  assert.deepEqual(received, ['"ok"', ...lines.map((line) => line.toUpperCase()), 'ok'])
})

test('rpc stream mode: a failing line gets invoke-error, then the connection closes', async (t) => {
  const server = await startTestServer(t)
  const reply = await exchange(
    t,
    server.addresses[0] ?? '',
    HANDSHAKE + '{"fail-stream": null}\nfine\nbad\nnever\n',
  )
  assert.equal(reply, '"ok"\nfine\n{"invoke-error": {"message": "bad stream line"}}\n')
})

test('rpc stream mode: end of input inside stream mode just closes', async (t) => {
  const server = await startTestServer(t)
  const reply = await exchange(
    t,
    server.addresses[0] ?? '',
    HANDSHAKE + '{"upper-stream": null}\na\n',
  )
  assert.equal(reply, '"ok"\nA\n')
})
