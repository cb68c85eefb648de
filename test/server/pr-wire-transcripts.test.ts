/**
 * Byte-exact sessions: the reference transcript of asyncrpc.md §13.1 and a BitBake 2.0
 * (kirkstone) client, which sends no headers and no `history` field.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { addressOf, makeTempDir, startTestServer } from '../support/pr-server.js'
import { rawSession } from '../support/raw-session.js'

const SUM0 = '51bf8189dbe9ea81fa6dd89608bf19380c437a9cf12f6c6239887801ba4ab4a0'
const SUM1 = '51bf8189dbe9ea81fa6dd89608bf19380c437a9cf12f6c6239887801ba4ab4a1'

function lines(...items: string[]): string {
  return items.map((item) => `${item}\n`).join('')
}

test('pr wire: the reference session of asyncrpc.md §13.1, byte for byte', async (t) => {
  const dir = await makeTempDir(t)
  const server = await startTestServer(t, { database: join(dir, 'pr.sqlite3') })
  const getPr = (sum: string, history: boolean) =>
    `{"get-pr": {"version": "dummy-1.0-r0", "pkgarch": "core2-64", "checksum": "${sum}", "history": ${history}}}`
  const request = lines(
    'PRSERVICE 1.0',
    'needs-headers: false',
    '',
    '{"ping": {}}',
    getPr(SUM0, false),
    getPr(SUM1, false),
    getPr(SUM0, false),
    getPr(SUM0, true),
    `{"test-pr": {"version": "dummy-1.0-r0", "pkgarch": "core2-64", "checksum": "${SUM1}", "history": false}}`,
    '{"test-package": {"version": "dummy-1.0-r0", "pkgarch": "aarch64"}}',
    '{"max-package-pr": {"version": "dummy-1.0-r0", "pkgarch": "core2-64"}}',
    `{"import-one": {"version": "dummy-1.0-r0", "pkgarch": "aarch64", "checksum": "${SUM0}", "value": "5"}}`,
    '{"export": {"version": "dummy-1.0-r0", "pkgarch": null, "checksum": null, "colinfo": false, "history": false}}',
    '{"is-readonly": {}}',
    'null',
  )
  const expected = lines(
    '{"alive": true}',
    '{"value": "0"}',
    '{"value": "1"}',
    '{"value": "2"}',
    '{"value": "0"}',
    '{"value": "1"}',
    '{"value": false}',
    '{"value": "2"}',
    '{"value": "5"}',
    `{"metainfo": {}, "datainfo": [{"version": "dummy-1.0-r0", "pkgarch": "aarch64", "checksum": "${SUM0}", "value": "5"}, {"version": "dummy-1.0-r0", "pkgarch": "core2-64", "checksum": "${SUM0}", "value": "2"}]}`,
    '{"readonly": false}',
  )
  assert.equal(await rawSession(addressOf(server), request), expected)
})

test('pr wire: an unknown command gets an invoke-error and the connection closes', async (t) => {
  const dir = await makeTempDir(t)
  const server = await startTestServer(t, { database: join(dir, 'pr.sqlite3') })
  const reply = await rawSession(
    addressOf(server),
    lines('PRSERVICE 1.0', 'needs-headers: false', '', '{"bogus": {}}', '{"ping": {}}'),
  )
  assert.match(reply, /^\{"invoke-error": \{"message": ".*bogus.*"\}\}\n$/)
})

test('pr wire: a BitBake 2.0 client (no headers, no history) is served in no-history mode', async (t) => {
  const dir = await makeTempDir(t)
  const server = await startTestServer(t, { database: join(dir, 'pr.sqlite3') })
  const getPr = (sum: string) =>
    `{"get-pr": {"version": "dummy-1.0-r0", "pkgarch": "core2-64", "checksum": "${sum}"}}`
  const request = lines(
    'PRSERVICE 1.0',
    '',
    getPr('a'),
    getPr('b'),
    getPr('a'),
    getPr('a'),
    '{"import-one": {"version": "dummy-1.0-r0", "pkgarch": "all", "checksum": "c", "value": 4}}',
    '{"export": {"version": "dummy-1.0-r0", "pkgarch": null, "checksum": null, "colinfo": false}}',
    '{"is-readonly": {}}',
    'null',
  )
  const expected = lines(
    '{"value": "0"}',
    '{"value": "1"}',
    '{"value": "2"}',
    '{"value": "2"}',
    '{"value": 4}',
    '{"metainfo": {}, "datainfo": [{"version": "dummy-1.0-r0", "pkgarch": "all", "checksum": "c", "value": "4"}, {"version": "dummy-1.0-r0", "pkgarch": "core2-64", "checksum": "a", "value": "2"}]}',
    '{"readonly": false}',
  )
  assert.equal(await rawSession(addressOf(server), request), expected)
})

test('pr wire: --history makes history mode the default for old clients', async (t) => {
  const dir = await makeTempDir(t)
  const server = await startTestServer(t, { database: join(dir, 'pr.sqlite3'), history: true })
  const getPr = (sum: string) =>
    `{"get-pr": {"version": "v", "pkgarch": "p", "checksum": "${sum}"}}`
  const reply = await rawSession(
    addressOf(server),
    lines('PRSERVICE 1.0', '', getPr('a'), getPr('b'), getPr('a'), 'null'),
  )
  assert.equal(reply, lines('{"value": "0"}', '{"value": "1"}', '{"value": "0"}'))
})
