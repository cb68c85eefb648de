import { test } from 'node:test'
import assert from 'node:assert/strict'
import { exchange, HANDSHAKE, RawSocket } from './raw-socket.js'
import { startTestServer } from './rpc-test-service.js'

const LENGTHS = [32_765, 32_766, 32_767, 32_768, 65_535]
/** Line lengths (without LF) of asyncrpc.md §8.2 for each message length. */
const EXPECTED_LINES: Record<number, number[]> = {
  32_765: [32_765],
  32_766: [32_766],
  32_767: [22, 32_767, 0],
  32_768: [22, 32_767, 1, 0],
  65_535: [22, 32_767, 32_767, 1, 0],
}

/** Frames a serialised message by hand, as BitBake's client does. */
function frameRequest(serialized: string): string {
  if (serialized.length < 32_767) return serialized + '\n'
  const pieces = serialized.match(/[^]{1,32767}/g) ?? []
  return ['{"chunk-stream": null}', ...pieces, ''].join('\n') + '\n'
}

/** Decodes the reply lines of one message (single line or chunk stream). */
function decodeReply(lines: readonly string[]): unknown {
  return JSON.parse(lines.length > 1 ? lines.slice(1).join('') : (lines[0] ?? ''))
}

test('rpc chunking: requests of every boundary length are reassembled', async (t) => {
  const server = await startTestServer(t)
  for (const length of LENGTHS) {
    // {"echo": "<text>"} is 12 characters plus the text.
    const text = 'r'.repeat(length - 12)
    const request = `{"echo": "${text}"}`
    assert.equal(request.length, length)
    const address = server.addresses[0] ?? ''
    const reply = await exchange(t, address, HANDSHAKE + frameRequest(request) + '{"ping": {}}\n')
    const lines = reply.split('\n').slice(0, -1)
    assert.equal(lines.at(-1), '{"alive": true}', `request of ${length}`)
    // Compared without assert.equal so a failure does not print 64 KiB twice.
    assert.ok(decodeReply(lines.slice(0, -1)) === text, `request of ${length}`)
  }
})

test('rpc chunking: replies of every boundary length follow the §8.2 table', async (t) => {
  const server = await startTestServer(t)
  for (const length of LENGTHS) {
    // The reply is the echoed JSON string: the text plus two quotes.
    const text = 'p'.repeat(length - 2)
    const reply = await exchange(t, server.addresses[0] ?? '', `${HANDSHAKE}{"echo": "${text}"}\n`)
    const lines = reply.split('\n').slice(0, -1)
    assert.deepEqual(
      lines.map((line) => line.length),
      EXPECTED_LINES[length],
      `reply of ${length}`,
    )
    if (lines.length > 1) assert.equal(lines[0], '{"chunk-stream": null}')
    assert.ok(decodeReply(lines) === text, `reply of ${length}`)
  }
})

test('rpc chunking: pieces of any size are accepted and keep their whitespace (§13.3)', async (t) => {
  const server = await startTestServer(t)
  const request =
    '{"chunk-stream": null}\n{"echo"\n: {"pad": "x \n y"}}\n\n{"chunk-stream": 1}\n{"ping": {}}\n\n'
  const reply = await exchange(t, server.addresses[0] ?? '', HANDSHAKE + request)
  assert.equal(reply, '{"pad": "x  y"}\n{"alive": true}\n')
})

test('rpc chunking: a reassembled message over maxMessageBytes closes the connection', async (t) => {
  const server = await startTestServer(t, { maxMessageBytes: 100 })
  const address = server.addresses[0] ?? ''
  const atLimit = `{"echo": "${'a'.repeat(88)}"}`
  assert.equal(atLimit.length, 100)
  const pieces = (text: string): string =>
    `{"chunk-stream": null}\n${text.slice(0, 50)}\n${text.slice(50)}\n\n`
  assert.equal(await exchange(t, address, HANDSHAKE + pieces(atLimit)), `"${'a'.repeat(88)}"\n`)
  const overLimit = `{"echo": "${'a'.repeat(89)}"}`
  assert.equal(await exchange(t, address, HANDSHAKE + pieces(overLimit) + '{"ping": {}}\n'), '')
})

test('rpc chunking: a client vanishing mid-chunk does not disturb others', async (t) => {
  const server = await startTestServer(t)
  const address = server.addresses[0] ?? ''
  const other = await RawSocket.connect(t, address)
  other.write(HANDSHAKE + '{"ping": {}}\n')
  await other.readLines(1)
  const vanishing = await RawSocket.connect(t, address)
  vanishing.write(HANDSHAKE + '{"chunk-stream": null}\n{"echo": "' + 'x'.repeat(40_000))
  vanishing.socket.destroy()
  const halfClosed = await exchange(t, address, HANDSHAKE + '{"chunk-stream": null}\n{"echo": 1}\n')
  assert.equal(halfClosed, '')
  other.write('{"echo": "fine"}\n')
  assert.deepEqual(await other.readLines(2), ['{"alive": true}', '"fine"'])
  assert.deepEqual(
    server.logs.records().filter((record) => Number(record.level) >= 50),
    [],
  )
})
