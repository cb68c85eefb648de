/**
 * A PR server on PostgreSQL while the database restarts (issue #3 §3): requests fail fast with a
 * clear invoke-error, the server stays up, reconnects by itself, and no acknowledged value is lost.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PrClient } from '../../src/client/pr-client.js'
import { createTestDatabase, getRestartablePostgres } from '../support/postgres.js'
import { addressOf, connectClient, startTestServer } from '../support/pr-server.js'

/** Far below BitBake's 30 s client timeout. */
const FAIL_FAST_LIMIT_MS = 10_000
const RECOVERY_LIMIT_MS = 20_000

async function getPrUntilAnswered(address: string, checksum: string): Promise<string> {
  const deadline = Date.now() + RECOVERY_LIMIT_MS
  for (;;) {
    const client = new PrClient({ address, maxAttempts: 1, timeoutMs: 5_000 })
    try {
      return await client.getPr({ version: 'v', pkgarch: 'a', checksum })
    } catch (err: unknown) {
      if (Date.now() > deadline) throw err
    } finally {
      await client.close()
    }
  }
}

void test('postgres server: a database restart fails requests fast, then serves again (issue #3)', async (t) => {
  const postgres = await getRestartablePostgres()
  const db = await createTestDatabase(postgres)
  t.after(() => db.drop())
  const server = await startTestServer(t, { database: db.url })
  const address = addressOf(server)
  const before = connectClient(t, address)
  assert.equal(await before.getPr({ version: 'v', pkgarch: 'a', checksum: 'c0' }), '0')
  assert.equal(await before.getPr({ version: 'v', pkgarch: 'a', checksum: 'c1' }), '1')

  await postgres.stop()
  const during = connectClient(t, address)
  const startedMs = Date.now()
  await assert.rejects(during.getPr({ version: 'v', pkgarch: 'a', checksum: 'c2' }), (err) => {
    assert.ok(err instanceof Error)
    assert.equal(err.name, 'RemoteError')
    assert.match(err.message, /database/)
    return true
  })
  assert.ok(Date.now() - startedMs < FAIL_FAST_LIMIT_MS, 'the error came promptly')
  assert.equal(await connectClient(t, address).ping(), true, 'the server stays up')

  await postgres.start()
  assert.equal(await getPrUntilAnswered(address, 'c2'), '2')
  const after = connectClient(t, address)
  assert.equal(await after.testPr({ version: 'v', pkgarch: 'a', checksum: 'c0' }), '0')
  assert.equal(await after.testPr({ version: 'v', pkgarch: 'a', checksum: 'c1' }), '1')
  assert.equal(await after.maxPackagePr({ version: 'v', pkgarch: 'a' }), '2')
})
