/**
 * Several datasets in one server process, declared in a config file: each has its own
 * database (here one SQLite file and one PostgreSQL database) and its own listeners.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { loadServerConfig } from '../../src/config/load-config.js'
import { startServer } from '../../src/cli/server-command.js'
import { createTestDatabase } from '../support/postgres.js'
import { connectClient, makeTempDir, silentLogger } from '../support/pr-server.js'

test('pr datasets: two datasets in one process keep separate revisions', async (t) => {
  const dir = await makeTempDir(t)
  const pg = await createTestDatabase()
  t.after(() => pg.drop())
  const configPath = join(dir, 'prserv.yaml')
  const yaml = [
    'server:',
    '  datasets:',
    '    - name: scarthgap',
    `      database: ${join(dir, 'scarthgap.sqlite3')}`,
    '      bind_addr: 127.0.0.1:0',
    '    - name: walnascar',
    `      database: ${pg.url}`,
    `      bind_addr: [127.0.0.1:0, 'unix://${join(dir, 'walnascar.sock')}']`,
    '',
  ].join('\n')
  const config = loadServerConfig({
    flags: { config: configPath },
    env: {},
    readFile: (path) => {
      if (path !== configPath) throw Object.assign(new Error('missing'), { code: 'ENOENT' })
      return yaml
    },
    cwd: dir,
  })
  const server = await startServer(config, { logger: silentLogger })
  t.after(() => server.close())
  assert.deepEqual(
    server.datasets.map((d) => [d.name, d.addresses.length]),
    [
      ['scarthgap', 1],
      ['walnascar', 2],
    ],
  )
  const [scarthgap, walnascar] = server.datasets
  assert.ok(scarthgap !== undefined && walnascar !== undefined)
  const a = connectClient(t, scarthgap.addresses[0] ?? '')
  const b = connectClient(t, walnascar.addresses[0] ?? '')
  const bUnix = connectClient(t, walnascar.addresses[1] ?? '')
  const key = (checksum: string) => ({ version: 'v', pkgarch: 'a', checksum })
  assert.equal(await a.getPr(key('x')), '0')
  assert.equal(await a.getPr(key('y')), '1')
  assert.equal(await b.getPr(key('z')), '0')
  assert.equal(await bUnix.getPr(key('y')), '1')
  assert.equal(await a.testPr(key('z')), null)
  assert.equal(await bUnix.testPr(key('x')), null)
  assert.equal(await b.testPr(key('y')), '1')
})
