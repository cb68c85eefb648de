import * as assert from 'node:assert/strict'
import { test } from 'node:test'
import { stringify as toYaml } from 'yaml'
import { ConfigError } from '../protocol/errors.js'
import type { ServerConfig } from './config.js'
import type { ServerFlags } from './config-flags.js'
import { loadServerConfig } from './load-config.js'

const CWD = '/srv/prserv'
const PATH = `${CWD}/prserv.yaml`

function load(
  server: Readonly<Record<string, unknown>>,
  flags: ServerFlags = {},
  env: Readonly<Record<string, string>> = {},
): ServerConfig {
  const text = toYaml({ server })
  const readFile = (path: string): string => {
    if (path !== PATH) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' })
    return text
  }
  return loadServerConfig({ flags: { config: PATH, ...flags }, env, readFile, cwd: CWD })
}

function assertConfigError(run: () => unknown, parts: readonly string[]): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error))
    for (const part of parts) assert.ok(error.message.includes(part), error.message)
    return true
  })
}

const TWO = [
  { name: 'main', database: 'main.sqlite3', bind_addr: '0.0.0.0:8585' },
  {
    name: 'legacy',
    database: 'postgres://pr:pw@db/legacy',
    bind_addr: ['[::]:8586', 'unix://legacy.sock'],
    read_only: true,
    upstream: 'up:8585',
    history: true,
  },
]

void test('datasets: each entry becomes a dataset with its own database and listeners', () => {
  const config = load({ datasets: TWO, max_connections: 9 })
  assert.deepEqual(config.datasets, [
    {
      name: 'main',
      storage: { kind: 'sqlite', path: `${CWD}/main.sqlite3` },
      listen: [{ kind: 'tcp', host: '0.0.0.0', port: 8585, text: '0.0.0.0:8585' }],
      isReadOnly: false,
      upstream: null,
      defaultHistory: false,
    },
    {
      name: 'legacy',
      storage: { kind: 'postgres', url: 'postgres://pr:pw@db/legacy' },
      listen: [
        { kind: 'tcp', host: '::', port: 8586, text: '[::]:8586' },
        { kind: 'unix', path: `${CWD}/legacy.sock`, text: 'unix://legacy.sock' },
      ],
      isReadOnly: true,
      upstream: { kind: 'tcp', host: 'up', port: 8585, text: 'up:8585' },
      defaultHistory: true,
    },
  ])
  assert.equal(config.limits.maxConnections, 9)
})

void test('datasets: server keys are defaults that a dataset key overrides', () => {
  const config = load({ datasets: TWO, read_only: true, upstream: 'shared:1', nohist: false })
  const [main, legacy] = config.datasets
  assert.ok(main !== undefined && legacy !== undefined)
  assert.equal(main.isReadOnly, true)
  assert.equal(main.upstream?.text, 'shared:1')
  assert.equal(main.defaultHistory, true)
  assert.equal(legacy.upstream?.text, 'up:8585')
})

void test('datasets: environment and flags override every dataset', () => {
  const byEnv = load({ datasets: TWO }, {}, { PRSERV_READ_ONLY: 'false', PRSERV_NOHIST: '1' })
  assert.deepEqual(
    byEnv.datasets.map((d) => [d.isReadOnly, d.defaultHistory]),
    [
      [false, false],
      [false, false],
    ],
  )
  const byFlag = load({ datasets: TWO }, { readOnly: true, upstream: 'flag:1' }, {})
  assert.deepEqual(
    byFlag.datasets.map((d) => [d.isReadOnly, d.upstream?.text]),
    [
      [true, 'flag:1'],
      [true, 'flag:1'],
    ],
  )
})

void test('datasets: database and bind_addr may not also be set server-wide', () => {
  assertConfigError(
    () => load({ datasets: TWO }, { database: 'x.sqlite3' }),
    ['database "x.sqlite3" from --database', `server.datasets in ${PATH}`],
  )
  assertConfigError(
    () => load({ datasets: TWO }, {}, { PRSERV_BIND_ADDR: ':1' }),
    ['bind_addr ":1" from PRSERV_BIND_ADDR'],
  )
  assertConfigError(
    () => load({ datasets: TWO, database: 'x' }),
    [`database "x" from server.database in ${PATH}`],
  )
})

void test('datasets: name, database and bind_addr are required', () => {
  for (const key of ['name', 'database', 'bind_addr']) {
    const entry = Object.fromEntries(Object.entries(TWO[0] ?? {}).filter(([k]) => k !== key))
    assertConfigError(
      () => load({ datasets: [entry] }),
      [`Missing server.datasets[0].${key} in ${PATH}`],
    )
  }
})

void test('datasets: the list must be non-empty and hold mappings', () => {
  assertConfigError(() => load({ datasets: [] }), ['server.datasets', 'non-empty list'])
  assertConfigError(() => load({ datasets: 'main' }), ['server.datasets', 'non-empty list'])
  assertConfigError(() => load({ datasets: ['main'] }), ['Invalid server.datasets[0] in'])
})

void test('datasets: bad entry values name the entry key', () => {
  const entry = { ...TWO[0], name: 'bad name' }
  assertConfigError(
    () => load({ datasets: [entry] }),
    [`Invalid name "bad name" from server.datasets[0].name in ${PATH}`],
  )
  const readOnly = { ...TWO[0], read_only: 'perhaps' }
  assertConfigError(
    () => load({ datasets: [readOnly] }),
    [`Invalid read_only "perhaps" from server.datasets[0].read_only in ${PATH}`],
  )
})

void test('datasets: two datasets may not share a name', () => {
  const twin = { ...TWO[1], name: 'main' }
  assertConfigError(
    () => load({ datasets: [TWO[0], twin] }),
    ['Duplicate name "main"', 'server.datasets[0].name', 'server.datasets[1].name'],
  )
})

void test('datasets: two datasets may not share a database', () => {
  const sameFile = { ...TWO[1], database: `${CWD}/main.sqlite3` }
  assertConfigError(
    () => load({ datasets: [TWO[0], sameFile] }),
    ['Duplicate database', 'dataset "main"', 'dataset "legacy"', 'server.datasets[1].database'],
  )
  const first = { ...TWO[0], database: 'postgres://a:one@db:5432/pr' }
  const second = { ...TWO[1], database: 'postgresql://b:two@DB/pr' }
  assertConfigError(() => load({ datasets: [first, second] }), ['Duplicate database'])
  const memory = [
    { ...TWO[0], database: ':memory:' },
    { ...TWO[1], database: ':memory:' },
  ]
  assert.equal(load({ datasets: memory }).datasets.length, 2)
})

void test('datasets: two listeners may not share an address', () => {
  const clash = { ...TWO[1], bind_addr: ['ws://0.0.0.0:8585/pr'] }
  assertConfigError(
    () => load({ datasets: [TWO[0], clash] }),
    ['Duplicate bind_addr "ws://0.0.0.0:8585/pr"', 'dataset "main"', 'dataset "legacy"'],
  )
  const socket = [
    { ...TWO[0], bind_addr: 'unix://s.sock' },
    { ...TWO[1], bind_addr: `unix://${CWD}/s.sock` },
  ]
  assertConfigError(() => load({ datasets: socket }), ['Duplicate bind_addr'])
  const ephemeral = [
    { ...TWO[0], bind_addr: '127.0.0.1:0' },
    { ...TWO[1], bind_addr: '127.0.0.1:0' },
  ]
  assert.equal(load({ datasets: ephemeral }).datasets.length, 2)
})

void test('datasets: one dataset may not list an address twice', () => {
  assertConfigError(
    () => load({}, { bind: ['a:1', 'A:1'] }),
    ['Duplicate bind_addr "A:1"', 'dataset "default" (--bind)'],
  )
})

void test('datasets: a wss:// listener is accepted with a warning', () => {
  const config = load({}, { bind: ['wss://0.0.0.0:9443'] })
  assert.equal(config.datasets[0]?.listen[0]?.kind, 'websocket')
  assert.match(
    config.warnings[0] ?? '',
    /"wss:\/\/0\.0\.0\.0:9443" from --bind listens without TLS/,
  )
})
