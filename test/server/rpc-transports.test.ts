import { test } from 'node:test'
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { lstat, mkdir, mkdtemp, realpath, rename, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exchange, HANDSHAKE, hasIpv6Loopback } from './raw-socket.js'
import { startTestServer } from './rpc-test-service.js'
import { WebSocketPeer } from './websocket-peer.js'

const PING = '{"ping": {}}\n'
const ALIVE = '{"alive": true}\n'

/** A private temp directory removed after the test. */
async function createTempDir(t: TestContext): Promise<string> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'rpc-transports-')))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

test('rpc transports: TCP over IPv6 loopback, reported as [::1]:port', async (t) => {
  if (!(await hasIpv6Loopback())) {
    t.skip('no IPv6 loopback')
    return
  }
  const server = await startTestServer(t, { listen: ['[::1]:0'] })
  const [address = ''] = server.addresses
  assert.match(address, /^\[::1\]:\d+$/)
  assert.equal(await exchange(t, address, HANDSHAKE + PING), ALIVE)
})

test('rpc transports: a host name listens on its addresses', async (t) => {
  const server = await startTestServer(t, { listen: ['localhost:0'] })
  assert.ok(server.addresses.length >= 1)
  const ports = new Set(server.addresses.map((address) => address.split(':').pop()))
  assert.equal(ports.size, 1)
  for (const address of server.addresses) {
    assert.equal(await exchange(t, address, HANDSHAKE + PING), ALIVE, address)
  }
})

test('rpc transports: a Unix socket path longer than sun_path works and is removed on close', async (t) => {
  const dir = join(await createTempDir(t), 'd'.repeat(60), 'e'.repeat(60))
  await mkdir(dir, { recursive: true })
  const path = join(dir, 'prserv.sock')
  assert.ok(Buffer.byteLength(path) > 108)
  const server = await startTestServer(t, { listen: [`unix://${path}`] })
  assert.deepEqual(server.addresses, [`unix://${path}`])
  assert.ok((await lstat(path)).isSocket())
  assert.equal(await exchange(t, server.addresses[0] ?? '', HANDSHAKE + PING), ALIVE)
  await server.close()
  await assert.rejects(lstat(path), { code: 'ENOENT' })
})

test('rpc transports: a stale socket file is replaced, a regular file is not', async (t) => {
  const dir = await createTempDir(t)
  const path = join(dir, 'stale.sock')
  // A socket file nobody listens on: bind elsewhere, move it into place, stop listening.
  const old = createServer()
  old.listen(join(dir, 'old.sock'))
  await once(old, 'listening')
  await rename(join(dir, 'old.sock'), path)
  await new Promise<void>((resolve) =>
    old.close(() => {
      resolve()
    }),
  )
  assert.ok((await lstat(path)).isSocket())
  const server = await startTestServer(t, { listen: [`unix://${path}`] })
  assert.equal(await exchange(t, server.addresses[0] ?? '', HANDSHAKE + PING), ALIVE)

  const regular = join(dir, 'regular.sock')
  await writeFile(regular, 'keep me')
  await assert.rejects(startTestServer(t, { listen: [`unix://${regular}`] }), /EADDRINUSE/)
  assert.ok((await lstat(regular)).isFile())
})

test('rpc transports: a socket a live server listens on is refused, and left to it', async (t) => {
  const dir = await createTempDir(t)
  const path = join(dir, 'live.sock')
  const first = await startTestServer(t, { listen: [`unix://${path}`] })
  await assert.rejects(startTestServer(t, { listen: [`unix://${path}`] }), (err: unknown) => {
    assert.ok(err instanceof Error)
    assert.equal(Reflect.get(err, 'code'), 'EADDRINUSE')
    assert.match(err.message, /a server is listening on unix:\/\//)
    return true
  })
  assert.equal(await exchange(t, first.addresses[0] ?? '', HANDSHAKE + PING), ALIVE)

  // Closing a server whose path another socket has taken since leaves that socket alone.
  await rm(path)
  const other = createServer()
  other.listen(path)
  await once(other, 'listening')
  t.after(
    () =>
      new Promise<void>((resolve) => {
        other.close(() => {
          resolve()
        })
      }),
  )
  await first.close()
  assert.ok((await lstat(path)).isSocket())
})

test('rpc transports: unix://name.sock without a directory is relative to the cwd', async (t) => {
  const dir = await createTempDir(t)
  const cwd = process.cwd()
  process.chdir(dir)
  t.after(() => {
    process.chdir(cwd)
  })
  const server = await startTestServer(t, { listen: ['unix://name.sock'] })
  assert.deepEqual(server.addresses, [`unix://${join(dir, 'name.sock')}`])
  assert.equal(await exchange(t, server.addresses[0] ?? '', HANDSHAKE + PING), ALIVE)
})

test('rpc transports: WebSocket carries one message per frame, path ignored', async (t) => {
  const server = await startTestServer(t, { listen: ['ws://127.0.0.1:0/some/path'] })
  const [address = ''] = server.addresses
  assert.match(address, /^ws:\/\/127\.0\.0\.1:\d+$/)
  const peer = await WebSocketPeer.open(t, `${address}/any/path`)
  peer.send('TESTSERVICE 1.0', 'needs-headers: true', '', '{"ping": {}}')
  const big = 'w'.repeat(100_000)
  peer.send(JSON.stringify({ echo: big }), '{"chunk-stream": null}')
  const messages = await peer.readMessages(4)
  assert.deepEqual(messages.slice(0, 2), ['', '{"alive": true}'])
  assert.ok(messages[2] === JSON.stringify(big), 'the long reply is one unchunked message')
  assert.match(messages[3] ?? '', /^\{"invoke-error": /)
  await peer.waitForClose()
})

test('rpc transports: WebSocket stream mode and a bad handshake', async (t) => {
  const server = await startTestServer(t, { listen: ['ws://127.0.0.1:0'] })
  const [address = ''] = server.addresses
  const peer = await WebSocketPeer.open(t, address)
  peer.send('TESTSERVICE 1.0', '', '{"upper-stream": null}', 'abc', 'END', '{"ping": {}}')
  assert.deepEqual(await peer.readMessages(4), ['"ok"', 'ABC', 'ok', '{"alive": true}'])
  const bad = await WebSocketPeer.open(t, address)
  bad.send('OTHER 1.0', '', '{"ping": {}}')
  await bad.waitForClose()
  assert.deepEqual(bad.messages, [])
})

test('rpc transports: a WebSocket message over maxMessageBytes closes the connection', async (t) => {
  const server = await startTestServer(t, { listen: ['ws://127.0.0.1:0'], maxMessageBytes: 1000 })
  const peer = await WebSocketPeer.open(t, server.addresses[0] ?? '')
  peer.send('TESTSERVICE 1.0', '', `{"echo": "${'x'.repeat(2000)}"}`)
  assert.equal(await peer.waitForClose(), 1009)
  assert.deepEqual(peer.messages, [])
})

test('rpc transports: a wss:// bind address serves plain WebSocket with a warning', async (t) => {
  const server = await startTestServer(t, { listen: ['wss://127.0.0.1:0'] })
  const [address = ''] = server.addresses
  assert.match(address, /^ws:\/\//)
  const warning = server.logs.records().find((record) => record.level === 40)
  assert.match(String(warning?.msg), /plain WebSocket/)
  const peer = await WebSocketPeer.open(t, address)
  peer.send('TESTSERVICE 1.0', '', '{"ping": {}}')
  assert.deepEqual(await peer.readMessages(1), ['{"alive": true}'])
})

test('rpc transports: one server listens on several transports at once', async (t) => {
  const dir = await createTempDir(t)
  const server = await startTestServer(t, {
    listen: ['127.0.0.1:0', `unix://${join(dir, 's.sock')}`, 'ws://127.0.0.1:0'],
  })
  assert.equal(server.addresses.length, 3)
  assert.equal(await exchange(t, server.addresses[0] ?? '', HANDSHAKE + PING), ALIVE)
  assert.equal(await exchange(t, server.addresses[1] ?? '', HANDSHAKE + PING), ALIVE)
})
