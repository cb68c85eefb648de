import * as assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError } from '../protocol/errors.js'
import type { ClientFlags, ServerFlags } from './config-flags.js'
import { loadClientConfig, loadServerConfig } from './load-config.js'

const CWD = '/srv/prserv'

function fakeReadFile(files: Readonly<Record<string, string>>): (path: string) => string {
  return (path) => {
    const text = files[path]
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' })
    return text
  }
}

function loadServer(
  files: Readonly<Record<string, string>>,
  flags: ServerFlags = {},
  env: Readonly<Record<string, string>> = {},
) {
  return loadServerConfig({ flags, env, readFile: fakeReadFile(files), cwd: CWD })
}

function loadClient(files: Readonly<Record<string, string>>, flags: ClientFlags = {}) {
  return loadClientConfig({ flags, env: {}, readFile: fakeReadFile(files), cwd: CWD })
}

function assertConfigError(run: () => unknown, parts: readonly string[]): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error))
    for (const part of parts) assert.ok(error.message.includes(part), error.message)
    return true
  })
}

const YAML_TEXT = `
server:
  database: yaml.sqlite3
  bind_addr: "0.0.0.0:8585"
  read_only: yes      # YAML 1.2 reads this as a string; our booleans accept it
  max_connections: 50
  sync_mode:
    periodic:
      interval_secs: 30
client:
  server_addr: "build:8585"
  timeout_ms: 5000
  log_level: debug
`

void test('config file: YAML (.yaml and .yml) is read with snake_case keys', () => {
  for (const name of ['p.yaml', 'p.YML']) {
    const config = loadServer({ [`${CWD}/${name}`]: YAML_TEXT }, { config: name })
    assert.equal(config.configPath, `${CWD}/${name}`)
    assert.deepEqual(config.datasets[0]?.storage, { kind: 'sqlite', path: `${CWD}/yaml.sqlite3` })
    assert.equal(config.datasets[0].isReadOnly, true)
    assert.equal(config.limits.maxConnections, 50)
    assert.deepEqual(config.syncMode, { kind: 'periodic', intervalSecs: 30 })
  }
})

void test('config file: prserv.json in the working directory is the default', () => {
  const json = JSON.stringify({ server: { database: 'postgresql://h/db', bind_addr: ['a:1'] } })
  const config = loadServer({ [`${CWD}/prserv.json`]: json })
  assert.equal(config.configPath, `${CWD}/prserv.json`)
  assert.deepEqual(config.datasets[0]?.storage, { kind: 'postgres', url: 'postgresql://h/db' })
})

void test('config file: any other extension is JSON', () => {
  const json = JSON.stringify({ server: { max_connections: 3 } })
  assert.equal(
    loadServer({ '/etc/prserv.conf': json }, { config: '/etc/prserv.conf' }).limits.maxConnections,
    3,
  )
  assertConfigError(
    () =>
      loadServer(
        { '/etc/prserv.conf': 'server:\n  max_connections: 3\n' },
        { config: '/etc/prserv.conf' },
      ),
    ['/etc/prserv.conf', 'not valid JSON'],
  )
})

void test('config file: --config beats PRSERV_CONFIG, which beats the default', () => {
  const files = {
    [`${CWD}/prserv.json`]: '{"server": {"max_connections": 1}}',
    '/env.json': '{"server": {"max_connections": 2}}',
    '/flag.json': '{"server": {"max_connections": 3}}',
  }
  assert.equal(loadServer(files).limits.maxConnections, 1)
  assert.equal(loadServer(files, {}, { PRSERV_CONFIG: '/env.json' }).limits.maxConnections, 2)
  const both = loadServer(files, { config: '/flag.json' }, { PRSERV_CONFIG: '/env.json' })
  assert.equal(both.limits.maxConnections, 3)
})

void test('config file: a missing default file is fine; a named missing file is an error', () => {
  assert.equal(loadServer({}).configPath, null)
  assertConfigError(
    () => loadServer({}, { config: 'gone.yaml' }),
    [`${CWD}/gone.yaml`, '--config', 'does not exist'],
  )
  assertConfigError(
    () => loadServer({}, {}, { PRSERV_CONFIG: '/gone.json' }),
    ['/gone.json', 'PRSERV_CONFIG', 'does not exist'],
  )
  assertConfigError(() => loadClient({}, { config: '/gone.json' }), ['/gone.json', '--config'])
})

void test('config file: an unreadable file is an error carrying the cause', () => {
  const denied = new Error('EACCES: permission denied')
  const readFile = (): string => {
    throw Object.assign(denied, { code: 'EACCES' })
  }
  assert.throws(
    () => loadServerConfig({ flags: {}, env: {}, readFile, cwd: CWD }),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.cause === denied &&
      error.message.includes(`${CWD}/prserv.json from default cannot be read (EACCES`),
  )
})

void test('config file: empty files and empty sections mean defaults', () => {
  for (const [name, text] of [
    ['e.json', ''],
    ['e.yaml', '# nothing\n'],
    ['s.yaml', 'server:\nclient:\n'],
    ['n.json', '{"server": null}'],
  ] as const) {
    const config = loadServer({ [`/${name}`]: text }, { config: `/${name}` })
    assert.equal(config.limits.maxConnections, 1000, name)
  }
})

void test('config file: null values count as absent', () => {
  const text = 'server:\n  upstream:\n  max_connections: null\n'
  const config = loadServer({ '/n.yaml': text }, { config: '/n.yaml' })
  assert.equal(config.datasets[0]?.upstream, null)
  assert.equal(config.limits.maxConnections, 1000)
})

void test('config file: invalid YAML and JSON name the file', () => {
  assertConfigError(
    () => loadServer({ '/b.yaml': 'server: [\n' }, { config: '/b.yaml' }),
    ['/b.yaml', 'not valid YAML'],
  )
  assertConfigError(
    () => loadServer({ '/b.json': '{"server": ' }, { config: '/b.json' }),
    ['/b.json', 'not valid JSON'],
  )
  assertConfigError(
    () =>
      loadServer({ '/d.yaml': 'server:\n  database: a\n  database: b\n' }, { config: '/d.yaml' }),
    ['/d.yaml', 'not valid YAML'],
  )
})

void test('config file: the document and its sections must be mappings', () => {
  assertConfigError(
    () => loadServer({ '/l.json': '[1]' }, { config: '/l.json' }),
    ['Invalid the document in /l.json'],
  )
  assertConfigError(
    () => loadServer({ '/s.yaml': 'server: 5\n' }, { config: '/s.yaml' }),
    ['Invalid server in /s.yaml'],
  )
  assertConfigError(
    () => loadServer({ '/c.yaml': 'client: [a]\n' }, { config: '/c.yaml' }),
    ['Invalid client in /c.yaml'],
  )
})

void test('config file: unknown keys are errors naming the key and the file', () => {
  const cases: [string, string][] = [
    ['servers:\n  database: x\n', 'Unknown key servers in /u.yaml'],
    ['server:\n  databse: x\n', 'Unknown key server.databse in /u.yaml'],
    ['server:\n  server_addr: x:1\n', 'Unknown key server.server_addr in /u.yaml'],
    ['server:\n  config: x\n', 'Unknown key server.config in /u.yaml'],
    ['client:\n  database: x\n', 'Unknown key client.database in /u.yaml'],
    [
      'server:\n  datasets:\n    - name: a\n      database: a\n      bind_addr: a:1\n      port: 1\n',
      'Unknown key server.datasets[0].port in /u.yaml',
    ],
  ]
  for (const [text, message] of cases) {
    assertConfigError(() => loadServer({ '/u.yaml': text }, { config: '/u.yaml' }), [message])
    assertConfigError(() => loadClient({ '/u.yaml': text }, { config: '/u.yaml' }), [message])
  }
})

void test('config file: the client reads the client section', () => {
  const config = loadClient({ '/p.yaml': YAML_TEXT }, { config: '/p.yaml' })
  assert.equal(config.configPath, '/p.yaml')
  assert.deepEqual(config.serverAddress, {
    kind: 'tcp',
    host: 'build',
    port: 8585,
    text: 'build:8585',
  })
  assert.equal(config.timeoutMs, 5000)
  assert.equal(config.logLevel, 'debug')
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.serverAddress))
})
