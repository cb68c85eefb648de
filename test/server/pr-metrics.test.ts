/**
 * `--metrics-bind`: Prometheus metrics over HTTP, counted in the dispatch layer, from a real
 * server over real sockets.
 */
import { strict as assert } from 'node:assert'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { RemoteError } from '../../src/protocol/errors.js'
import { addressOf, connectClient, makeTempDir, startTestServer } from '../support/pr-server.js'
import { rawSession } from '../support/raw-session.js'

async function scrape(address: string, path = '/metrics', method = 'GET') {
  const response = await fetch(`http://${address}${path}`, { method })
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    text: await response.text(),
  }
}

/** The value of one sample line (`name{labels} value`), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

void test('pr metrics: requests, outcomes, durations and connections by dataset and method', async (t) => {
  const dir = await makeTempDir(t)
  const server = await startTestServer(t, {
    database: join(dir, 'pr.sqlite3'),
    metricsBind: '127.0.0.1:0',
  })
  const metricsAddress = server.metricsAddress
  assert.ok(metricsAddress !== null)
  const client = connectClient(t, addressOf(server))
  const pkg = { version: 'dummy-1.0-r0', pkgarch: 'core2-64' }
  for (const checksum of ['a', 'b', 'c']) await client.getPr({ ...pkg, checksum })
  assert.equal(await client.testPr({ ...pkg, checksum: 'a' }), '0')
  const refusing = connectClient(t, addressOf(server))
  await assert.rejects(refusing.importOne({ ...pkg, checksum: 'd' }, 'x.y'), RemoteError)

  // The JSON-RPC style dialect is counted the same way.
  const jsonRpc = await rawSession(addressOf(server), '{"id": 1, "method": "ping", "params": {}}\n')
  assert.match(jsonRpc, /"result": \{"alive": true\}/)

  const { status, type, text } = await scrape(metricsAddress)
  assert.equal(status, 200)
  assert.match(type ?? '', /^text\/plain; version=0\.0\.4/)
  const requests = 'rpc_requests_total{dataset="default",method='
  assert.equal(sample(text, `${requests}"get-pr",outcome="ok"}`), 3)
  assert.equal(sample(text, `${requests}"test-pr",outcome="ok"}`), 1)
  assert.equal(sample(text, `${requests}"import-one",outcome="invalid_params"}`), 1)
  assert.equal(sample(text, `${requests}"ping",outcome="ok"}`), 1)
  const durations = 'rpc_request_duration_seconds_count{dataset="default",method="get-pr"}'
  assert.equal(sample(text, durations), 3)
  assert.equal(sample(text, 'rpc_connections_total{dataset="default"}'), 3)
  // The server closes the refused request's connection after its invoke-error.
  const open = 'rpc_connections_open{dataset="default"}'
  for (let n = 0; n < 100 && sample((await scrape(metricsAddress)).text, open) !== 1; n++) {
    await delay(20)
  }
  assert.equal(sample((await scrape(metricsAddress)).text, open), 1)
  // Each new checksum was its own write batch (the requests came one after another).
  assert.equal(sample(text, 'store_write_batches_total{dataset="default"}'), 3)
  assert.equal(sample(text, 'store_batched_writes_total{dataset="default"}'), 3)
  assert.equal(sample(text, 'store_queued_writes{dataset="default"}'), 0)
  assert.equal(sample(text, 'store_database_up{dataset="default"}'), 1)
  assert.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 0)
  assert.match(text, /^# HELP rpc_requests_total /m)

  assert.equal((await scrape(metricsAddress, '/')).status, 404)
  assert.equal((await scrape(metricsAddress, '/metrics', 'POST')).status, 405)
  const head = await scrape(metricsAddress, '/metrics', 'HEAD')
  assert.deepEqual([head.status, head.text], [200, ''])
})

void test('pr metrics: off by default; a metrics address in use stops startup', async (t) => {
  const dir = await makeTempDir(t)
  const plain = await startTestServer(t, { database: join(dir, 'a.sqlite3') })
  assert.equal(plain.metricsAddress, null)

  const taken = createServer()
  await new Promise<void>((resolve) => {
    taken.listen(0, '127.0.0.1', resolve)
  })
  t.after(
    () =>
      new Promise<void>((resolve) => {
        taken.close(() => {
          resolve()
        })
      }),
  )
  const address = taken.address()
  assert.ok(typeof address === 'object' && address !== null)
  await assert.rejects(
    startTestServer(t, {
      database: join(dir, 'b.sqlite3'),
      metricsBind: `127.0.0.1:${address.port}`,
    }),
    { code: 'EADDRINUSE' },
  )
})
