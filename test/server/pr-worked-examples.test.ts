/**
 * The worked examples of prserv.md §10 over real sockets, with BitBake's defects fixed where
 * docs/compat.md says so.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { addressOf, connectClient, makeTempDir, startTestServer } from '../support/pr-server.js'

const V = 'foo-1.0-r0'
const P = 'core2-64'
const k = (checksum: string) => ({ version: V, pkgarch: P, checksum })

test('pr worked example §10.1: a single server, basic sequence', async (t) => {
  const dir = await makeTempDir(t)
  const server = await startTestServer(t, { database: join(dir, 'pr.sqlite3') })
  const c = connectClient(t, addressOf(server))
  assert.equal(await c.testPr(k('a0')), null)
  assert.equal(await c.testPackage(k('a0')), false)
  assert.equal(await c.maxPackagePr(k('a0')), null)
  assert.equal(await c.getPr(k('a0')), '0')
  assert.equal(await c.getPr(k('a0')), '0')
  assert.equal(await c.getPr(k('a1')), '1')
  assert.equal(await c.getPr(k('a2')), '2')
  assert.equal(await c.getPr(k('a0')), '3')
  assert.equal(await c.getPr(k('a0'), true), '0')
  assert.equal(await c.getPr(k('a1'), true), '1')
  assert.equal(await c.testPr(k('a0')), '3')
  assert.equal(await c.testPr(k('a0'), true), '0')
  assert.equal(await c.maxPackagePr(k('a0')), '3')
  assert.equal(await c.testPr(k('zz'), true), null)
  const imp = { version: V, pkgarch: 'imp', checksum: 'c1' }
  assert.equal(await c.importOne(imp, '7'), '7')
  assert.equal(await c.importOne(imp, 9), 9)
  const exported = await c.export({
    version: null,
    pkgarch: null,
    checksum: null,
    colinfo: true,
    history: false,
  })
  assert.deepEqual(exported.datainfo, [
    { version: V, pkgarch: P, checksum: 'a0', value: '3' },
    { version: V, pkgarch: 'imp', checksum: 'c1', value: '9' },
  ])
  assert.deepEqual(exported.metainfo, {
    tbl_name: 'PRMAIN',
    core_ver: '2.19.0',
    col_info: [
      { name: 'version', type: 'TEXT', notnull: 1, dflt_value: null, pk: 1 },
      { name: 'pkgarch', type: 'TEXT', notnull: 1, dflt_value: null, pk: 2 },
      { name: 'checksum', type: 'TEXT', notnull: 1, dflt_value: null, pk: 3 },
      { name: 'value', type: 'TEXT', notnull: 0, dflt_value: null, pk: 4 },
    ],
  })
  assert.equal(await c.isReadOnly(), false)
})

test('pr worked example §10.2 fixed: revisions compare numerically (issue 2)', async (t) => {
  const dir = await makeTempDir(t)
  const server = await startTestServer(t, { database: join(dir, 'pr.sqlite3') })
  const c = connectClient(t, addressOf(server))
  for (let i = 0; i <= 11; i += 1) assert.equal(await c.getPr(k(`c${i}`)), `${i}`)
  assert.equal(await c.getPr(k('c9')), '12')
  assert.equal(await c.getPr(k('c2')), '13')
  assert.equal(await c.getPr(k('c0')), '14')
  assert.equal(await c.getPr(k('c0')), '14')
  assert.equal(await c.maxPackagePr(k('c0')), '14')
  const exported = await c.export({
    version: V,
    pkgarch: P,
    checksum: null,
    colinfo: false,
    history: false,
  })
  assert.deepEqual(exported.datainfo, [{ version: V, pkgarch: P, checksum: 'c0', value: '14' }])
})
