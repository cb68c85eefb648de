/**
 * Upstream chaining over real sockets: the three-server chain of prserv.md §10.3, a read-only
 * server sharing S0's database file (§10.4), and the fixed crash case (§10.5).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { createServer } from 'node:net'
import type { PrClient } from '../../src/client/pr-client.js'
import { addressOf, connectClient, makeTempDir, startTestServer } from '../support/pr-server.js'

const V = 'foo-1.0-r0'
const P = 'core2-64'
const k = (checksum: string) => ({ version: V, pkgarch: P, checksum })

async function historyExport(client: PrClient): Promise<string[]> {
  const reply = await client.export({
    version: null,
    pkgarch: null,
    checksum: null,
    colinfo: false,
    history: true,
  })
  return reply.datainfo.map((row) => `${row.checksum}:${String(row.value)}`).sort()
}

test('pr upstream chain §10.3 and read-only sharer §10.4: exact values', async (t) => {
  const dir = await makeTempDir(t)
  const s2 = await startTestServer(t, { database: join(dir, 's2.sqlite3') })
  const s1 = await startTestServer(t, {
    database: join(dir, 's1.sqlite3'),
    upstream: addressOf(s2),
  })
  const s0 = await startTestServer(t, {
    database: join(dir, 's0.sqlite3'),
    upstream: addressOf(s1),
  })
  const c2 = connectClient(t, addressOf(s2))
  const c1 = connectClient(t, addressOf(s1))
  const c0 = connectClient(t, addressOf(s0))
  const steps: [PrClient, string, boolean, string][] = [
    [c2, 'A', false, '0'],
    [c1, 'A', false, '0'],
    [c0, 'A', false, '0'],
    [c1, 'B', false, '0.0'],
    [c1, 'C', false, '0.1'],
    [c1, 'B', false, '0.2'],
    [c1, 'C', false, '0.3'],
  ]
  for (const [client, checksum, history, expected] of steps) {
    assert.equal(await client.getPr(k(checksum), history), expected, `get-pr ${checksum}`)
  }
  assert.equal(await c1.maxPackagePr(k('')), '0.3')
  const more: [PrClient, string, boolean, string][] = [
    [c0, 'D', false, '0.3.0'],
    [c0, 'E', false, '0.3.1'],
    [c0, 'D', false, '0.3.2'],
    [c2, 'F', false, '1'],
    [c1, 'G', false, '1.0'],
    [c1, 'H', false, '1.1'],
    [c0, 'I', false, '1.1.0'],
    [c0, 'J', false, '1.1.1'],
    [c2, 'A', true, '0'],
    [c1, 'C', true, '0.1'],
    [c0, 'D', true, '0.3.0'],
    [c2, 'A', false, '2'],
    [c1, 'A', false, '2'],
    [c0, 'A', false, '2'],
    [c1, 'H', false, '3'],
  ]
  for (const [client, checksum, history, expected] of more) {
    assert.equal(await client.getPr(k(checksum), history), expected, `get-pr ${checksum}`)
  }
  assert.deepEqual(await historyExport(c2), ['A:0', 'A:2', 'F:1'])
  assert.deepEqual(await historyExport(c1), [
    'A:0',
    'A:2',
    'B:0.0',
    'B:0.2',
    'C:0.1',
    'C:0.3',
    'G:1.0',
    'H:1.1',
    'H:3',
  ])
  assert.deepEqual(await historyExport(c0), [
    'A:0',
    'A:2',
    'D:0.3.0',
    'D:0.3.2',
    'E:0.3.1',
    'I:1.1.0',
    'J:1.1.1',
  ])

  // §10.4: a read-only server on S0's file with upstream S1.
  const ro = await startTestServer(t, {
    database: join(dir, 's0.sqlite3'),
    readOnly: true,
    upstream: addressOf(s1),
  })
  const cr = connectClient(t, addressOf(ro))
  assert.equal(await cr.isReadOnly(), true)
  assert.equal(await cr.getPr(k('A')), '3')
  assert.equal(await cr.getPr(k('A'), true), '0')
  assert.equal(await cr.getPr(k('D')), '3')
  assert.equal(await cr.getPr(k('D'), true), '0.3.0')
  assert.equal(await cr.maxPackagePr(k('')), '2')
  assert.equal(await cr.getPr(k('H')), '3')
  assert.equal(await cr.getPr(k('NEW1')), '3.0')
  assert.equal(await cr.getPr(k('NEW1')), '3.0')
  assert.equal(await cr.getPr(k('J')), '3')
  assert.equal(await cr.importOne(k('X'), '5'), null)
  assert.equal(await cr.maxPackagePr(k('')), '2')

  // A read-only server without upstream on S2's file.
  const ro2 = await startTestServer(t, { database: join(dir, 's2.sqlite3'), readOnly: true })
  const cr2 = connectClient(t, addressOf(ro2))
  assert.equal(await cr2.getPr(k('NEW')), '3')
  assert.equal(await cr2.getPr(k('NEW')), '3')
  assert.equal(await cr2.getPr(k('A')), '2')
  assert.equal(await cr2.getPr({ version: 'other', pkgarch: P, checksum: 'x' }), '0')
  assert.equal(await c2.maxPackagePr(k('')), '2')
})

test('pr upstream §10.5 fixed: a local-only package in no-history mode does not crash', async (t) => {
  const dir = await makeTempDir(t)
  const s1 = await startTestServer(t, { database: join(dir, 's1.sqlite3') })
  const s0 = await startTestServer(t, {
    database: join(dir, 's0.sqlite3'),
    upstream: addressOf(s1),
  })
  const c0 = connectClient(t, addressOf(s0))
  const pkg = (checksum: string) => ({ version: 'pkg', pkgarch: P, checksum })
  assert.equal(await c0.getPr(pkg('x0')), '0')
  assert.equal(await c0.getPr(pkg('x1')), '1')
  assert.equal(await c0.getPr(pkg('x0')), '2')
  assert.equal(await c0.getPr(pkg('x0'), true), '0')
})

async function unusedPort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const address = probe.address()
  await new Promise<void>((resolve) => {
    probe.close(() => {
      resolve()
    })
  })
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

test('pr upstream: an unreachable upstream gives a prompt invoke-error', async (t) => {
  const dir = await makeTempDir(t)
  const port = await unusedPort()
  const s0 = await startTestServer(t, {
    database: join(dir, 's0.sqlite3'),
    upstream: `127.0.0.1:${port}`,
  })
  const c0 = connectClient(t, addressOf(s0))
  await assert.rejects(c0.getPr(k('A')), (err: unknown) => {
    assert.ok(err instanceof Error)
    assert.equal(err.name, 'RemoteError')
    assert.match(err.message, /upstream PR server 127\.0\.0\.1:\d+/)
    return true
  })
  // Local-only commands keep working on a fresh connection.
  const again = connectClient(t, addressOf(s0))
  assert.equal(await again.maxPackagePr(k('A')), null)
  assert.equal(await again.ping(), true)
})
