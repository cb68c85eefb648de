/**
 * Concurrency over the wire: 200 clients allocating on one package at once get distinct,
 * consecutive values, and asking again returns the same ones.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { PrClient } from '../../src/client/pr-client.js'
import { addressOf, makeTempDir, startTestServer } from '../support/pr-server.js'

const CLIENT_COUNT = 200

test('pr concurrency: 200 concurrent get-pr on one package get distinct consecutive values', async (t) => {
  const dir = await makeTempDir(t)
  const server = await startTestServer(t, { database: join(dir, 'pr.sqlite3') })
  const clients = Array.from(
    { length: CLIENT_COUNT },
    () => new PrClient({ address: addressOf(server), maxAttempts: 1 }),
  )
  t.after(() => Promise.all(clients.map((c) => c.close())))
  const key = (i: number) => ({ version: 'hot-1.0-r0', pkgarch: 'core2-64', checksum: `sum${i}` })
  const first = await Promise.all(clients.map((c, i) => c.getPr(key(i))))
  const sorted = [...first].map(Number).sort((a, b) => a - b)
  assert.deepEqual(
    sorted,
    Array.from({ length: CLIENT_COUNT }, (_, i) => i),
  )
  const again = await Promise.all(clients.map((c, i) => c.getPr(key(i), true)))
  assert.deepEqual(again, first)
  const latest = first.indexOf(`${CLIENT_COUNT - 1}`)
  assert.equal(await clients[0]?.getPr(key(latest)), `${CLIENT_COUNT - 1}`)
  assert.equal(await clients[0]?.maxPackagePr(key(0)), `${CLIENT_COUNT - 1}`)
})

test('pr concurrency: concurrent get-pr for one new checksum get one answer', async (t) => {
  const dir = await makeTempDir(t)
  const server = await startTestServer(t, { database: join(dir, 'pr.sqlite3') })
  const clients = Array.from(
    { length: 50 },
    () => new PrClient({ address: addressOf(server), maxAttempts: 1 }),
  )
  t.after(() => Promise.all(clients.map((c) => c.close())))
  const key = { version: 'v', pkgarch: 'a', checksum: 'same' }
  await clients[0]?.getPr({ ...key, checksum: 'other' })
  const answers = await Promise.all(clients.map((c) => c.getPr(key)))
  assert.deepEqual(new Set(answers), new Set(['1']))
})
