/**
 * Long PR messages over a real socket: requests and replies at and around the 32 767-character
 * chunk threshold (asyncrpc.md §8) travel as chunk streams in both directions.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { connectRpcClient } from '../../src/client/rpc-client.js'
import { encodeJson } from '../../src/protocol/codec.js'
import { addressOf, connectClient, makeTempDir, startTestServer } from '../support/pr-server.js'
import { rawSession } from '../support/raw-session.js'

/**
 * A get-pr body whose request text is `length` characters long: BitBake's fields are at most
 * 512 bytes each (docs/compat.md row 24), so the length comes from a field the server ignores.
 */
function paddedGetPr(checksum: string, length: number): Record<string, unknown> {
  const body = { version: 'v', pkgarch: 'a', checksum, history: false, padding: '' }
  const overhead = encodeJson({ 'get-pr': body }).length
  return { ...body, padding: 'x'.repeat(length - overhead) }
}

test('pr chunking: get-pr requests of 32 765 to 32 768 characters and far beyond', async (t) => {
  const dir = await makeTempDir(t)
  const server = await startTestServer(t, { database: join(dir, 'pr.sqlite3') })
  const rpc = connectRpcClient({
    address: addressOf(server),
    protocolName: 'PRSERVICE',
    protocolVersion: '1.0',
    maxAttempts: 1,
    timeoutMs: 10_000,
  })
  t.after(() => rpc.close())
  const lengths = [32_765, 32_766, 32_767, 32_768, 65_535, 200_000]
  for (const [index, length] of lengths.entries()) {
    const body = paddedGetPr(`c${index}`, length)
    assert.equal(encodeJson({ 'get-pr': body }).length, length)
    assert.deepEqual(await rpc.call('get-pr', body), { value: `${index}` })
    assert.deepEqual(await rpc.call('test-pr', body), { value: `${index}` })
  }
})

test('pr chunking: a chunked request on the raw wire, and a chunked export reply', async (t) => {
  const dir = await makeTempDir(t)
  const server = await startTestServer(t, { database: join(dir, 'pr.sqlite3') })
  const text = encodeJson({ 'get-pr': paddedGetPr('c', 40_000) })
  const pieces = [text.slice(0, 32_767), text.slice(32_767)]
  const reply = await rawSession(
    addressOf(server),
    ['PRSERVICE 1.0', '', '{"chunk-stream": null}', ...pieces, '', 'null', ''].join('\n'),
  )
  assert.equal(reply, '{"value": "0"}\n')
  // Enough rows for an export reply over one chunk.
  const client = connectClient(t, addressOf(server))
  const checksums = Array.from({ length: 120 }, (_, n) => `${n}`.padStart(500, 'c'))
  for (const checksum of checksums) await client.getPr({ version: 'v', pkgarch: 'a', checksum })
  const exportReply = await rawSession(
    addressOf(server),
    [
      'PRSERVICE 1.0',
      '',
      '{"export": {"version": null, "pkgarch": null, "checksum": null, "colinfo": false, "history": true}}',
      'null',
      '',
    ].join('\n'),
  )
  const lines = exportReply.split('\n')
  assert.equal(lines[0], '{"chunk-stream": null}')
  assert.equal(lines[1]?.length, 32_767)
  assert.equal(lines.at(-2), '')
  const joined = lines.slice(1, -2).join('')
  const parsed: unknown = JSON.parse(joined)
  assert.deepEqual(parsed, {
    metainfo: {},
    datainfo: ['c', ...checksums].map((checksum, n) => ({
      version: 'v',
      pkgarch: 'a',
      checksum,
      value: `${n}`,
    })),
  })
})
