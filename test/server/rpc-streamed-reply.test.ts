/**
 * Replies a handler gives as pieces of text (StreamedResult): framed exactly as the whole text
 * would be, on every transport and dialect; a failure before anything was sent is an
 * `invoke-error`, after that a close; a client that leaves mid-reply stops the pieces.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { splitMessageLines } from '../../src/protocol/chunking.js'
import { exchange, HANDSHAKE, RawSocket } from './raw-socket.js'
import { startTestServer } from './rpc-test-service.js'
import { WebSocketPeer } from './websocket-peer.js'

/** The whole text of a `streamed` reply of `count` strings of `size` characters. */
function streamedText(count: number, size: number): string {
  const strings = Array.from({ length: count }, (_, n) => `"${String(n % 10).repeat(size)}"`)
  return `[${strings.join(', ')}]`
}

function streamedRequest(count: number, size: number, failAfter: number | null = null): string {
  return JSON.stringify({ streamed: { count, size, failAfter } })
}

test('rpc streamed reply: lines are those of the whole text, around the chunk threshold', async (t) => {
  const server = await startTestServer(t)
  const address = server.addresses[0] ?? ''
  // Whole texts of 2, 32 766 and 32 767 characters, and of about 200 000 in 20 pieces.
  const cases = [
    [0, 0],
    [1, 32_762],
    [1, 32_763],
    [20, 10_000],
  ] as const
  for (const [count, size] of cases) {
    const reply = await exchange(t, address, `${HANDSHAKE}${streamedRequest(count, size)}\n`)
    const lines = reply.split('\n').slice(0, -1)
    const expected = splitMessageLines(streamedText(count, size))
    // Compared without deepEqual so a failure does not print 200 KB twice.
    assert.equal(lines.length, expected.length, `${count} × ${size}`)
    assert.ok(
      lines.every((line, n) => line === expected[n]),
      `${count} × ${size}`,
    )
  }
})

test('rpc streamed reply: a failure before anything was sent is an invoke-error', async (t) => {
  const ended: number[] = []
  const server = await startTestServer(t, { hooks: { onStreamedEnd: (made) => ended.push(made) } })
  const address = server.addresses[0] ?? ''
  // At once, and after a whole reply shorter than one line was made.
  for (const [count, failAfter] of [
    [5, 0],
    [3, 3],
  ] as const) {
    const request = `${HANDSHAKE}${streamedRequest(count, 10, failAfter)}\n{"ping": {}}\n`
    const reply = await exchange(t, address, request)
    assert.match(reply, /^\{"invoke-error": \{"message": "[^"]+"\}\}\n$/)
  }
  assert.deepEqual(ended, [0, 3])
})

test('rpc streamed reply: a failure after part of it was sent closes the connection', async (t) => {
  const server = await startTestServer(t)
  const address = server.addresses[0] ?? ''
  const reply = await exchange(t, address, `${HANDSHAKE}${streamedRequest(20, 10_000, 10)}\n`)
  const lines = reply.split('\n')
  assert.equal(lines[0], '{"chunk-stream": null}')
  assert.ok(lines.length > 2 && lines.slice(1, -1).every((line) => line.length > 0))
  assert.ok(!reply.endsWith('\n\n'), 'the chunk stream is never ended, so no client takes it whole')
  const failure = server.logs
    .records()
    .find((record) => record.code === 'storage_error' && record.level === 40)
  assert.ok(failure !== undefined, 'the failure is logged')
  // The server goes on serving.
  assert.equal(await exchange(t, address, `${HANDSHAKE}{"ping": {}}\n`), '{"alive": true}\n')
})

test('rpc streamed reply: a client that leaves mid-reply stops the pieces', async (t) => {
  let resolveEnded: (made: number) => void = () => undefined
  const ended = new Promise<number>((resolve) => {
    resolveEnded = resolve
  })
  const server = await startTestServer(t, {
    hooks: {
      onStreamedEnd: (made) => {
        resolveEnded(made)
      },
    },
  })
  const address = server.addresses[0] ?? ''
  const raw = await RawSocket.connect(t, address)
  // Two gigabytes if it were all made: only what the socket takes before backpressure is.
  const count = 20_000
  raw.write(`${HANDSHAKE}${streamedRequest(count, 100_000)}\n`)
  await raw.readLines(2)
  raw.socket.destroy()
  const made = await ended
  assert.ok(made < count, `${made} of ${count} pieces made`)
  assert.equal(await exchange(t, address, `${HANDSHAKE}{"ping": {}}\n`), '{"alive": true}\n')
})

test('rpc streamed reply: one WebSocket message and one JSON-RPC line hold the whole text', async (t) => {
  const server = await startTestServer(t, { listen: ['127.0.0.1:0', 'ws://127.0.0.1:0'] })
  const [tcp = '', ws = ''] = server.addresses
  const peer = await WebSocketPeer.open(t, ws)
  peer.send('TESTSERVICE 1.0', '', streamedRequest(5, 10_000))
  const [message = ''] = await peer.readMessages(1)
  assert.ok(message === streamedText(5, 10_000), 'the WebSocket message is the whole text')

  const raw = await RawSocket.connect(t, tcp)
  raw.write('{"id": 7, "method": "streamed", "params": {"count": 2, "size": 3}}\n')
  raw.write('{"id": 8, "method": "streamed", "params": {"count": 2, "size": 3, "failAfter": 1}}\n')
  assert.deepEqual(await raw.readLines(2), [
    '{"id": 7, "result": ["000", "111"], "error": null}',
    '{"id": 8, "result": null, "error": {"code": "storage_error", "message": "the server could not access its database; retry later"}}',
  ])
})
