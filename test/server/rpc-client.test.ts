import { test } from 'node:test'
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdir, mkdtemp, realpath, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectRpcClient } from '../../src/client/rpc-client.js'
import type { RpcClient, RpcClientOptions } from '../../src/client/rpc-client.js'
import {
  ConfigError,
  ConnectionError,
  MessageTooLargeError,
  RemoteError,
} from '../../src/protocol/errors.js'
import { hasIpv6Loopback } from './raw-socket.js'
import { captureLogs, startTestServer } from './rpc-test-service.js'

/** A TESTSERVICE client closed after the test. */
function createClient(
  t: TestContext,
  options: Partial<RpcClientOptions> & { address: string },
): RpcClient {
  const client = connectRpcClient({
    protocolName: 'TESTSERVICE',
    protocolVersion: '1.0',
    ...options,
  })
  t.after(() => client.close())
  return client
}

/** A raw TCP server whose behaviour per connection (numbered from 1) the test scripts. */
async function startScriptedServer(
  t: TestContext,
  onConnection: (socket: Socket, index: number) => void,
): Promise<{ address: string; connections: () => number; server: Server }> {
  let count = 0
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => undefined)
    onConnection(socket, ++count)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => {
    for (const socket of sockets) socket.destroy()
    server.close()
  })
  const bound = server.address()
  assert.ok(bound !== null && typeof bound === 'object')
  return { address: `127.0.0.1:${bound.port}`, connections: () => count, server }
}

/** Calls `handle` with everything received once `marker` arrived. */
function onReceived(socket: Socket, marker: string, handle: (text: string) => void): void {
  let text = ''
  socket.on('data', (chunk: Buffer) => {
    const isFirst = !text.includes(marker)
    text += chunk.toString('utf8')
    if (isFirst && text.includes(marker)) handle(text)
  })
}

async function createTempDir(t: TestContext): Promise<string> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'rpc-client-')))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

test('rpc client: calls over TCP, concurrent calls queue and resolve in order', async (t) => {
  const server = await startTestServer(t)
  const client = createClient(t, { address: server.addresses[0] ?? '' })
  assert.deepEqual(await client.call('ping', {}), { alive: true })
  const results = await Promise.all(Array.from({ length: 20 }, () => client.call('count', null)))
  assert.deepEqual(
    results,
    Array.from({ length: 20 }, (_, i) => ({ requests: i + 1 })),
  )
})

test('rpc client: long requests and replies are chunked both ways', async (t) => {
  const server = await startTestServer(t)
  const client = createClient(t, { address: server.addresses[0] ?? '' })
  for (const length of [32_765, 32_766, 32_767, 32_768, 65_535, 300_000]) {
    const text = 'é'.repeat(length)
    assert.ok((await client.call('echo', text)) === text, `${length}`)
  }
})

test('rpc client: works over a long Unix path, IPv6 and WebSocket', async (t) => {
  const dir = join(await createTempDir(t), 'x'.repeat(70), 'y'.repeat(70))
  await mkdir(dir, { recursive: true })
  const listen = [`unix://${join(dir, 'c.sock')}`, 'ws://127.0.0.1:0']
  if (await hasIpv6Loopback()) listen.push('[::1]:0')
  const server = await startTestServer(t, { listen })
  for (const address of server.addresses) {
    const client = createClient(t, { address })
    assert.deepEqual(await client.call('ping', null), { alive: true }, address)
    const text = 'z'.repeat(100_000)
    assert.ok((await client.call('echo', text)) === text, address)
  }
})

test('rpc client: sends the BitBake handshake and connects lazily', async (t) => {
  let received = ''
  const scripted = await startScriptedServer(t, (socket) => {
    onReceived(socket, '{"ping": {}}\n', (text) => {
      received = text
      socket.write('{"alive": true}\n')
    })
  })
  const client = createClient(t, { address: scripted.address })
  assert.equal(scripted.connections(), 0)
  assert.deepEqual(await client.call('ping', {}), { alive: true })
  assert.equal(received, 'TESTSERVICE 1.0\nneeds-headers: false\n\n{"ping": {}}\n')
})

test('rpc client: an invoke-error becomes a RemoteError and is not retried', async (t) => {
  const server = await startTestServer(t)
  const client = createClient(t, { address: server.addresses[0] ?? '' })
  await assert.rejects(client.call('fail-params', {}), (err: unknown) => {
    assert.ok(err instanceof RemoteError)
    assert.equal(err.code, 'remote_error')
    assert.equal(err.message, 'fail-params: field "x" must be a string')
    return true
  })
  const connected = server.logs.records().filter((record) => record.msg === 'connection opened')
  assert.equal(connected.length, 1)
  // The next call reconnects (the server closed after the invoke-error).
  assert.deepEqual(await client.call('ping', {}), { alive: true })
})

test('rpc client: reconnects and retries after connection errors', async (t) => {
  const scripted = await startScriptedServer(t, (socket, index) => {
    onReceived(socket, '{"ping": {}}\n', () => {
      if (index < 3) socket.destroy()
      else socket.write('{"alive": true}\n')
    })
  })
  const logs = captureLogs()
  const client = createClient(t, { address: scripted.address, logger: logs.logger })
  assert.deepEqual(await client.call('ping', {}), { alive: true })
  assert.equal(scripted.connections(), 3)
  assert.equal(logs.records().filter((record) => record.msg === 'request failed').length, 2)
})

test('rpc client: gives up after maxAttempts with an error naming the address', async (t) => {
  const scripted = await startScriptedServer(t, (socket) => {
    onReceived(socket, '\n\n{', () => socket.end('{"broken\n'))
  })
  const client = createClient(t, { address: scripted.address })
  await assert.rejects(client.call('ping', {}), (err: unknown) => {
    assert.ok(err instanceof ConnectionError)
    assert.match(err.message, /^ping failed after 4 attempts: /)
    return true
  })
  assert.equal(scripted.connections(), 4)
})

test('rpc client: a reply over maxMessageBytes or maxLineBytes fails at once, unretried', async (t) => {
  const server = await startTestServer(t)
  const address = server.addresses[0] ?? ''
  const text = 'x'.repeat(200_000)
  const chunked = createClient(t, { address, maxMessageBytes: 100_000 })
  await assert.rejects(chunked.call('echo', text), (err: unknown) => {
    assert.ok(err instanceof MessageTooLargeError)
    assert.equal(err.message, 'chunked message larger than 100000 bytes')
    return true
  })
  const line = createClient(t, { address, maxLineBytes: 1_000 })
  await assert.rejects(line.call('echo', 'y'.repeat(5_000)), MessageTooLargeError)
  const connected = server.logs.records().filter((record) => record.msg === 'connection opened')
  assert.equal(connected.length, 2, 'one connection each: no retries')
  // The same client still works for replies within its caps.
  assert.equal(await chunked.call('echo', 'small'), 'small')
})

test('rpc client: a silent server times out per reply', async (t) => {
  const scripted = await startScriptedServer(t, () => undefined)
  const client = createClient(t, { address: scripted.address, timeoutMs: 100, maxAttempts: 2 })
  const startedAt = performance.now()
  await assert.rejects(client.call('ping', {}), {
    name: 'ConnectionError',
    message: `ping failed after 2 attempts: no reply from ${scripted.address} within 100 ms`,
  })
  assert.ok(performance.now() - startedAt < 2_000)
  assert.equal(scripted.connections(), 2)
})

test('rpc client: an unreachable address fails promptly', async (t) => {
  const scripted = await startScriptedServer(t, () => undefined)
  await new Promise<void>((resolve) =>
    scripted.server.close(() => {
      resolve()
    }),
  )
  const client = createClient(t, { address: scripted.address })
  const startedAt = performance.now()
  await assert.rejects(client.call('ping', {}), (err: unknown) => {
    assert.ok(err instanceof ConnectionError)
    assert.match(err.message, new RegExp(`cannot connect to ${scripted.address}: ECONNREFUSED`))
    return true
  })
  assert.ok(performance.now() - startedAt < 2_000)
})

test('rpc client: connectTimeoutMs bounds a connection that never completes', async (t) => {
  // A TCP server that never answers the WebSocket upgrade.
  const scripted = await startScriptedServer(t, () => undefined)
  const client = createClient(t, {
    address: `ws://${scripted.address}`,
    connectTimeoutMs: 100,
    maxAttempts: 1,
  })
  await assert.rejects(
    client.call('ping', {}),
    /ping failed after 1 attempt: cannot connect to ws:\/\/.*timed out/,
  )
})

test('rpc client: close() is idempotent and later calls fail', async (t) => {
  const server = await startTestServer(t)
  const client = createClient(t, { address: server.addresses[0] ?? '' })
  assert.deepEqual(await client.call('ping', {}), { alive: true })
  await client.close()
  await client.close()
  await assert.rejects(client.call('ping', {}), /is closed/)
})

test('rpc client: a bad address is refused at once', () => {
  assert.throws(
    () => connectRpcClient({ address: '::1:8585', protocolName: 'X', protocolVersion: '1.0' }),
    ConfigError,
  )
})
