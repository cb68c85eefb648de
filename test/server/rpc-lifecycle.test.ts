import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { once } from 'node:events'
import { HANDSHAKE, RawSocket, WAIT_MS } from './raw-socket.js'
import { startTestServer } from './rpc-test-service.js'

/** A promise with its resolver, for a test to release a held request. */
function createGate(): { promise: Promise<void>; release: () => void } {
  let release: () => void = () => undefined
  const promise = new Promise<void>((resolve) => {
    release = resolve
  })
  return { promise, release }
}

test('rpc lifecycle: close() ends idle connections and lets in-flight requests finish', async (t) => {
  const gate = createGate()
  const entered = createGate()
  const server = await startTestServer(t, {
    hooks: {
      hold: () => {
        entered.release()
        return gate.promise
      },
    },
  })
  const address = server.addresses[0] ?? ''
  const idle = await RawSocket.connect(t, address)
  idle.write(HANDSHAKE + '{"ping": {}}\n')
  await idle.readLines(1)
  const busy = await RawSocket.connect(t, address)
  busy.write(HANDSHAKE + '{"hold": {}}\n{"ping": {}}\n')
  await entered.promise

  const closed = server.close()
  assert.equal(await idle.waitForClose(), '{"alive": true}\n')
  assert.equal(busy.isClosed, false)
  gate.release()
  // The held request is answered; the pipelined ping after it is not served any more.
  assert.equal(await busy.waitForClose(), '{"held": true}\n')
  await closed
  assert.equal(server.close(), server.close())
  await server.close()

  const port = Number(address.split(':')[1])
  const refused = connect({ host: '127.0.0.1', port })
  // An 'error' event carries one Error (boundary cast of events.once's any[]).
  const [err] = (await once(refused, 'error', { signal: AbortSignal.timeout(WAIT_MS) })) as [Error]
  assert.match(err.message, /ECONNREFUSED/)
})

test('rpc lifecycle: close() cuts requests that outlive closeTimeoutMs', async (t) => {
  const entered = createGate()
  const server = await startTestServer(t, {
    closeTimeoutMs: 50,
    hooks: {
      hold: () => {
        entered.release()
        return new Promise<void>(() => undefined)
      },
    },
  })
  const stuck = await RawSocket.connect(t, server.addresses[0] ?? '')
  stuck.write(HANDSHAKE + '{"hold": {}}\n')
  await entered.promise
  await server.close()
  assert.equal(await stuck.waitForClose(), '')
  const warning = server.logs.records().find((record) => record.level === 40)
  assert.equal(warning?.msg, 'requests still running at shutdown; closing their connections')
})

test('rpc lifecycle: start-up fails cleanly when an address cannot be bound', async (t) => {
  const first = await startTestServer(t)
  const taken = first.addresses[0] ?? ''
  await assert.rejects(startTestServer(t, { listen: ['127.0.0.1:0', taken] }), /EADDRINUSE/)
  await assert.rejects(startTestServer(t, { listen: ['bad address'] }), { code: 'config_error' })
})
