import { test } from 'node:test'
import assert from 'node:assert/strict'
import { exchange, HANDSHAKE } from './raw-socket.js'
import { startTestServer } from './rpc-test-service.js'

const PING = '{"ping": {}}\n'
const ALIVE = '{"alive": true}\n'

test('rpc handshake: the server sends nothing after a needs-headers: false handshake', async (t) => {
  const server = await startTestServer(t)
  const [address = ''] = server.addresses
  assert.equal(await exchange(t, address, HANDSHAKE + PING), ALIVE)
})

test('rpc handshake: old clients without header lines are served', async (t) => {
  const server = await startTestServer(t)
  assert.equal(await exchange(t, server.addresses[0] ?? '', 'TESTSERVICE 1.0\n\n' + PING), ALIVE)
})

test('rpc handshake: needs-headers: true gets exactly one empty line', async (t) => {
  const server = await startTestServer(t)
  const address = server.addresses[0] ?? ''
  const request = 'TESTSERVICE 1.0\nneeds-headers: true\n\n' + PING
  assert.equal(await exchange(t, address, request), '\n' + ALIVE)
})

test('rpc handshake: header keys are case-insensitive and values trimmed (§13.3)', async (t) => {
  const server = await startTestServer(t)
  const address = server.addresses[0] ?? ''
  const request = 'TESTSERVICE 1.0\nX-Foo:  Bar \nNeeds-Headers:  true  \n\n' + PING
  assert.equal(await exchange(t, address, request), '\n' + ALIVE)
  const notExactlyTrue = 'TESTSERVICE 1.0\nneeds-headers: True\n\n' + PING
  assert.equal(await exchange(t, address, notExactlyTrue), ALIVE)
})

test('rpc handshake: CRLF line endings are tolerated (§13.3)', async (t) => {
  const server = await startTestServer(t)
  const address = server.addresses[0] ?? ''
  assert.equal(await exchange(t, address, 'TESTSERVICE 1.0\r\n\r\n{"ping": {}}\r\n'), ALIVE)
})

test('rpc handshake: accepted version spellings', async (t) => {
  const server = await startTestServer(t)
  const address = server.addresses[0] ?? ''
  for (const line of ['TESTSERVICE 01.0', 'TESTSERVICE 1.00', '  TESTSERVICE \t 1.0 ']) {
    assert.equal(await exchange(t, address, `${line}\n\n${PING}`), ALIVE, line)
  }
})

test('rpc handshake: bad handshakes are closed without a single byte', async (t) => {
  const server = await startTestServer(t)
  const address = server.addresses[0] ?? ''
  const bad = [
    '\n\n',
    'TESTSERVICE\n\n',
    'TESTSERVICE 1.0 extra\n\n',
    'testservice 1.0\n\n',
    'PRSERVICE 1.0\n\n',
    'TESTSERVICE 1.x\n\n',
    'TESTSERVICE 1\n\n',
    'TESTSERVICE 1.0.0\n\n',
    'TESTSERVICE 1.1\n\n',
    'TESTSERVICE 1.0\nbadheader\n\n',
    'TESTSERVICE 1.0\n' + 'h: v\n'.repeat(33) + '\n',
    'TESTSERVICE 1.0\nneeds-headers: true\n',
  ]
  for (const handshake of bad) {
    assert.equal(await exchange(t, address, handshake + PING), '', JSON.stringify(handshake))
  }
  const errors = server.logs.records().filter((record) => Number(record.level) >= 50)
  assert.deepEqual(errors, [])
})

test('rpc handshake: the header cap is maxHeaderCount, exactly', async (t) => {
  const server = await startTestServer(t, { maxHeaderCount: 2 })
  const address = server.addresses[0] ?? ''
  assert.equal(await exchange(t, address, 'TESTSERVICE 1.0\na: 1\nb: 2\n\n' + PING), ALIVE)
  assert.equal(await exchange(t, address, 'TESTSERVICE 1.0\na: 1\nb: 2\nc: 3\n\n' + PING), '')
})

test('rpc handshake: a peer that connects and leaves is not an error', async (t) => {
  const server = await startTestServer(t)
  assert.equal(await exchange(t, server.addresses[0] ?? '', ''), '')
  assert.equal(await exchange(t, server.addresses[0] ?? '', 'TESTSERVICE 1.0\n'), '')
})
