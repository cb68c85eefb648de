import { test } from 'node:test'
import assert from 'node:assert/strict'
import { exchange, HANDSHAKE, RawSocket } from './raw-socket.js'
import { startTestServer } from './rpc-test-service.js'

test('rpc limits: a line of maxLineBytes is served, one byte more closes', async (t) => {
  const server = await startTestServer(t, { maxLineBytes: 100 })
  const address = server.addresses[0] ?? ''
  const atLimit = `{"echo": "${'a'.repeat(88)}"}`
  assert.equal(atLimit.length, 100)
  assert.equal(await exchange(t, address, `${HANDSHAKE}${atLimit}\r\n`), `"${'a'.repeat(88)}"\n`)
  const overLimit = `{"echo": "${'a'.repeat(89)}"}`
  assert.equal(await exchange(t, address, `${HANDSHAKE}${overLimit}\n{"ping": {}}\n`), '')
})

test('rpc limits: an over-long line closes that client while another keeps working', async (t) => {
  const server = await startTestServer(t, { maxLineBytes: 1000 })
  const address = server.addresses[0] ?? ''
  const good = await RawSocket.connect(t, address)
  good.write(HANDSHAKE + '{"ping": {}}\n')
  await good.readLines(1)
  const flooder = await RawSocket.connect(t, address)
  flooder.write(HANDSHAKE + 'x'.repeat(200_000))
  assert.equal(await flooder.waitForClose(), '')
  good.write('{"echo": 2}\n')
  assert.deepEqual(await good.readLines(2), ['{"alive": true}', '2'])
  const refused = server.logs
    .records()
    .find((record) => record.msg === 'protocol error; closing without reply')
  assert.match(String(refused?.reason), /line longer than 1000 bytes/)
})

test('rpc limits: connections over maxConnections are closed at once', async (t) => {
  const server = await startTestServer(t, { maxConnections: 2 })
  const address = server.addresses[0] ?? ''
  const first = await RawSocket.connect(t, address)
  const second = await RawSocket.connect(t, address)
  for (const client of [first, second]) {
    client.write(HANDSHAKE + '{"ping": {}}\n')
    await client.readLines(1)
  }
  assert.equal(await exchange(t, address, HANDSHAKE + '{"ping": {}}\n'), '')
  const warning = server.logs.records().find((record) => record.level === 40)
  assert.equal(warning?.msg, 'connection refused: too many connections')
  first.write('{"ping": {}}\n')
  assert.equal((await first.readLines(2)).length, 2)
})

test('rpc limits: a client that does not read is throttled, then gets every reply in order', async (t) => {
  const server = await startTestServer(t)
  const raw = await RawSocket.connect(t, server.addresses[0] ?? '')
  raw.socket.pause()
  const payload = 'p'.repeat(20_000)
  const count = 300
  let requests = HANDSHAKE
  for (let i = 0; i < count; i++) requests += `{"echo": ["${payload}", ${i}]}\n`
  raw.write(requests)
  raw.socket.resume()
  const lines = await raw.readLines(count, 20_000)
  assert.equal(lines.length, count)
  lines.forEach((line, i) => {
    assert.ok(line === `["${payload}", ${i}]`, `reply ${i}`)
  })
})
