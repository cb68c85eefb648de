/**
 * Bad input to the PR server: each gets a clear invoke-error or a silent close, and the server
 * keeps serving other clients.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { addressOf, connectClient, makeTempDir, startTestServer } from '../support/pr-server.js'
import { rawSession } from '../support/raw-session.js'

const HANDSHAKE = 'PRSERVICE 1.0\nneeds-headers: false\n\n'

const INVOKE_ERROR = /^\{"invoke-error": \{"message": "[^\n]+"\}\}\n$/

test('pr bad input: each case is answered or closed, and the server keeps serving', async (t) => {
  const dir = await makeTempDir(t)
  const server = await startTestServer(t, { database: join(dir, 'pr.sqlite3') })
  const address = addressOf(server)
  const witness = connectClient(t, address)
  assert.equal(await witness.getPr({ version: 'v', pkgarch: 'a', checksum: 'c0' }), '0')
  const cases: [string, string, RegExp][] = [
    ['not JSON', `${HANDSHAKE}{not json\n`, /^$/],
    ['empty line', `${HANDSHAKE}\n`, /^$/],
    ['unknown command', `${HANDSHAKE}{"bogus": {}}\n`, INVOKE_ERROR],
    ['empty object', `${HANDSHAKE}{}\n`, INVOKE_ERROR],
    ['array', `${HANDSHAKE}["get-pr"]\n`, INVOKE_ERROR],
    [
      'checksum not a string',
      `${HANDSHAKE}{"get-pr": {"version": "v", "pkgarch": "a", "checksum": 7}}\n`,
      /checksum/,
    ],
    ['missing version', `${HANDSHAKE}{"max-package-pr": {"pkgarch": "a"}}\n`, /version/],
    [
      'history not a boolean',
      `${HANDSHAKE}{"test-pr": {"version": "v", "pkgarch": "a", "checksum": "c", "history": "yes"}}\n`,
      /history/,
    ],
    [
      'import-one value not a revision',
      `${HANDSHAKE}{"import-one": {"version": "v", "pkgarch": "a", "checksum": "c", "value": "abc"}}\n`,
      /not a revision/,
    ],
    [
      'import-one value null',
      `${HANDSHAKE}{"import-one": {"version": "v", "pkgarch": "a", "checksum": "c", "value": null}}\n`,
      /value/,
    ],
    [
      'NUL in a checksum',
      `${HANDSHAKE}{"get-pr": {"version": "v", "pkgarch": "a", "checksum": "c\\u0000", "history": false}}\n`,
      /get-pr: field \\"checksum\\" contains a NUL character/,
    ],
    [
      'version over 512 bytes of UTF-8',
      `${HANDSHAKE}{"test-pr": {"version": "${'é'.repeat(257)}", "pkgarch": "a", "checksum": "c"}}\n`,
      /test-pr: field \\"version\\" is over 512 bytes/,
    ],
    [
      'import-one value over 512 bytes',
      `${HANDSHAKE}{"import-one": {"version": "v", "pkgarch": "a", "checksum": "c", "value": "${'9'.repeat(513)}"}}\n`,
      /import-one: field \\"value\\" is over 512 bytes/,
    ],
    [
      'NUL in an export filter',
      `${HANDSHAKE}{"export": {"version": "\\u0000", "history": true}}\n`,
      /export: field \\"version\\" contains a NUL character/,
    ],
    ['wrong protocol', 'OEHASHEQUIV 1.1\n\n{"ping": {}}\n', /^$/],
    ['wrong version', 'PRSERVICE 1.1\n\n{"ping": {}}\n', /^$/],
    ['three tokens', 'PRSERVICE 1.0 extra\n\n{"ping": {}}\n', /^$/],
    ['header without colon', 'PRSERVICE 1.0\nbadheader\n\n{"ping": {}}\n', /^$/],
    ['empty first line', '\n{"ping": {}}\n', /^$/],
    ['oversized line', `${HANDSHAKE}{"ping": "${'x'.repeat(2_000_000)}"}\n`, /^$/],
    ['partial line then EOF', `${HANDSHAKE}{"ping": {}}`, /^$/],
    ['gone mid-chunk', `${HANDSHAKE}{"chunk-stream": null}\n{"ping": \n`, /^$/],
  ]
  for (const [name, input, expected] of cases) {
    const reply = await rawSession(address, input)
    assert.match(reply, expected, name)
    if (expected !== INVOKE_ERROR && expected.source !== '^$')
      assert.match(reply, INVOKE_ERROR, name)
  }
  assert.equal(await witness.getPr({ version: 'v', pkgarch: 'a', checksum: 'c1' }), '1')
  assert.equal(await witness.maxPackagePr({ version: 'v', pkgarch: 'a' }), '1')
  // 512 bytes of UTF-8 (two-byte characters) is within the limit.
  const longest = { version: 'é'.repeat(256), pkgarch: 'a', checksum: 'c' }
  assert.equal(await witness.getPr(longest), '0')
})
