/**
 * Long PR messages over a real socket: requests and replies at and around the 32 767-character
 * chunk threshold (asyncrpc.md §8) travel as chunk streams in both directions.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { addressOf, connectClient, makeTempDir, startTestServer } from '../support/pr-server.js'
import { rawSession } from '../support/raw-session.js'

/** Length of the JSON text of a get-pr request carrying `checksum`. */
function getPrText(checksum: string): string {
  return `{"get-pr": {"version": "v", "pkgarch": "a", "checksum": "${checksum}", "history": false}}`
}

test('pr chunking: get-pr requests of 32 765 to 32 768 characters and far beyond', async (t) => {
  const dir = await makeTempDir(t)
  const server = await startTestServer(t, { database: join(dir, 'pr.sqlite3') })
  const client = connectClient(t, addressOf(server))
  const overhead = getPrText('').length
  const lengths = [32_765, 32_766, 32_767, 32_768, 65_535, 200_000]
  for (const [index, length] of lengths.entries()) {
    const checksum = `${index}`.padEnd(length - overhead, 'x')
    assert.equal(getPrText(checksum).length, length)
    assert.equal(await client.getPr({ version: 'v', pkgarch: 'a', checksum }), `${index}`)
    assert.equal(await client.testPr({ version: 'v', pkgarch: 'a', checksum }), `${index}`)
  }
})

test('pr chunking: a chunked request on the raw wire, and a chunked export reply', async (t) => {
  const dir = await makeTempDir(t)
  const server = await startTestServer(t, { database: join(dir, 'pr.sqlite3') })
  const checksum = 'c'.repeat(40_000)
  const text = getPrText(checksum)
  const pieces = [text.slice(0, 32_767), text.slice(32_767)]
  const reply = await rawSession(
    addressOf(server),
    ['PRSERVICE 1.0', '', '{"chunk-stream": null}', ...pieces, '', 'null', ''].join('\n'),
  )
  assert.equal(reply, '{"value": "0"}\n')
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
    datainfo: [{ version: 'v', pkgarch: 'a', checksum, value: '0' }],
  })
})
