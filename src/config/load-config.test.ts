import * as assert from 'node:assert/strict'
import { test } from 'node:test'
import { stringify as toYaml } from 'yaml'
import { ConfigError } from '../protocol/errors.js'
import type { ServerConfig } from './config.js'
import type { ServerFlags } from './config-flags.js'
import { loadServerConfig } from './load-config.js'

const CWD = '/srv/prserv'
const YAML_PATH = `${CWD}/prserv.yaml`

/** A readFile over an in-memory file system; missing files throw like fs does. */
function fakeReadFile(files: Readonly<Record<string, string>>): (path: string) => string {
  return (path) => {
    const text = files[path]
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' })
    return text
  }
}

interface Setup {
  readonly flags?: ServerFlags
  readonly env?: Readonly<Record<string, string>>
  readonly server?: Readonly<Record<string, unknown>>
}

/** Loads with `server` written to prserv.yaml (selected by PRSERV_CONFIG). */
function load({ flags = {}, env = {}, server }: Setup): ServerConfig {
  const files = server === undefined ? {} : { [YAML_PATH]: toYaml({ server }) }
  const configEnv = server === undefined ? {} : { PRSERV_CONFIG: YAML_PATH }
  return loadServerConfig({
    flags,
    env: { ...configEnv, ...env },
    readFile: fakeReadFile(files),
    cwd: CWD,
  })
}

/** Asserts a ConfigError whose message contains every part. */
function assertConfigError(run: () => unknown, parts: readonly string[]): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error))
    for (const part of parts) assert.ok(error.message.includes(part), error.message)
    return true
  })
}

interface PrecedenceCase {
  readonly key: string
  readonly fileValue: unknown
  readonly envName: string | null
  readonly envValue: string
  readonly flags: ServerFlags
  readonly read: (config: ServerConfig) => unknown
  readonly expected: readonly [byDefault: unknown, file: unknown, env: unknown, flag: unknown]
}

const dataset = (config: ServerConfig) => config.datasets[0]

const PRECEDENCE_CASES: readonly PrecedenceCase[] = [
  {
    key: 'database',
    fileValue: 'file.sqlite3',
    envName: 'PRSERV_DATABASE',
    envValue: 'postgres://env@db/prserv',
    flags: { database: '/abs/flag.sqlite3' },
    read: (c) => dataset(c)?.storage,
    expected: [
      { kind: 'sqlite', path: `${CWD}/prserv.sqlite3` },
      { kind: 'sqlite', path: `${CWD}/file.sqlite3` },
      { kind: 'postgres', url: 'postgres://env@db/prserv' },
      { kind: 'sqlite', path: '/abs/flag.sqlite3' },
    ],
  },
  {
    key: 'bind_addr',
    fileValue: [':1', 'unix://f.sock'],
    envName: 'PRSERV_BIND_ADDR',
    envValue: '10.0.0.1:2,ws://h:3',
    flags: { bind: ['[::1]:4'] },
    read: (c) => dataset(c)?.listen.map((address) => address.text),
    expected: [
      ['127.0.0.1:8585'],
      [':1', 'unix://f.sock'],
      ['10.0.0.1:2', 'ws://h:3'],
      ['[::1]:4'],
    ],
  },
  {
    key: 'read_only',
    fileValue: true,
    envName: 'PRSERV_READ_ONLY',
    envValue: 'Off',
    flags: { readOnly: true },
    read: (c) => dataset(c)?.isReadOnly,
    expected: [false, true, false, true],
  },
  {
    key: 'history',
    fileValue: true,
    envName: 'PRSERV_NOHIST',
    envValue: 'yes',
    flags: { history: true },
    read: (c) => dataset(c)?.defaultHistory,
    expected: [false, true, false, true],
  },
  {
    key: 'upstream',
    fileValue: 'file-up:1',
    envName: 'PRSERV_UPSTREAM',
    envValue: 'env-up:2',
    flags: { upstream: 'flag-up:3' },
    read: (c) => dataset(c)?.upstream?.text ?? null,
    expected: [null, 'file-up:1', 'env-up:2', 'flag-up:3'],
  },
  {
    key: 'metrics_bind',
    fileValue: '127.0.0.1:9585',
    envName: 'PRSERV_METRICS_BIND',
    envValue: ':0',
    flags: { metricsBind: '[::1]:9586' },
    read: (c) => (c.metricsBind === null ? null : [c.metricsBind.host, c.metricsBind.port]),
    expected: [null, ['127.0.0.1', 9585], ['', 0], ['::1', 9586]],
  },
  {
    key: 'pg_unnamed_statements',
    fileValue: true,
    envName: 'PRSERV_PG_UNNAMED_STATEMENTS',
    envValue: '0',
    flags: { pgUnnamedStatements: true },
    read: (c) => c.postgres.prepareStatements,
    expected: [true, false, true, false],
  },
  {
    key: 'max_connections',
    fileValue: 10,
    envName: 'PRSERV_MAX_CONNECTIONS',
    envValue: '20',
    flags: { maxConnections: '30' },
    read: (c) => c.limits.maxConnections,
    expected: [1000, 10, 20, 30],
  },
  {
    key: 'sync_mode',
    fileValue: { periodic: { interval_secs: 9 } },
    envName: 'PRSERV_SYNC_MODE',
    envValue: 'shutdown',
    flags: { syncMode: 'immediate' },
    read: (c) => c.syncMode,
    expected: [
      { kind: 'immediate' },
      { kind: 'periodic', intervalSecs: 9 },
      { kind: 'onShutdown' },
      { kind: 'immediate' },
    ],
  },
  {
    key: 'log_level',
    fileValue: 'debug',
    envName: 'PRSERV_LOG_LEVEL',
    envValue: 'WARNING',
    flags: { logLevel: '3' },
    read: (c) => c.logLevel,
    expected: ['info', 'debug', 'warn', 'error'],
  },
  ...(
    [
      ['max_line_bytes', 'maxLineBytes', 1_048_576],
      ['max_message_bytes', 'maxMessageBytes', 16_777_216],
      ['max_header_count', 'maxHeaderCount', 32],
      ['max_pending_writes', 'maxPendingWrites', 10_000],
    ] as const
  ).map(([key, flagKey, byDefault]): PrecedenceCase => ({
    key,
    fileValue: 70_000,
    envName: null,
    envValue: '',
    flags: { [flagKey]: '80000' },
    read: (c) => c.limits[flagKey],
    expected: [byDefault, 70_000, 70_000, 80_000],
  })),
]

for (const item of PRECEDENCE_CASES) {
  void test(`load server config: ${item.key} precedence is default < file < env < flag`, () => {
    const server = { [item.key]: item.fileValue }
    const env = item.envName === null ? {} : { [item.envName]: item.envValue }
    const [byDefault, fromFile, fromEnv, fromFlag] = item.expected
    assert.deepEqual(item.read(load({})), byDefault, 'default')
    assert.deepEqual(item.read(load({ server })), fromFile, 'file')
    assert.deepEqual(item.read(load({ server, env })), fromEnv, 'env over file')
    assert.deepEqual(item.read(load({ server, env, flags: item.flags })), fromFlag, 'flag over env')
    assert.deepEqual(item.read(load({ server, flags: item.flags })), fromFlag, 'flag over file')
    assert.deepEqual(item.read(load({ env, flags: item.flags })), fromFlag, 'flag alone')
  })
}

void test('load server config: the defaults make one frozen dataset with no warnings', () => {
  const config = load({})
  assert.equal(config.configPath, null)
  assert.equal(config.datasets.length, 1)
  assert.equal(dataset(config)?.name, 'default')
  assert.deepEqual(config.warnings, [])
  assert.ok(Object.isFrozen(config))
  assert.ok(Object.isFrozen(config.datasets))
  assert.ok(Object.isFrozen(dataset(config)?.listen[0]))
  assert.ok(Object.isFrozen(config.limits))
})

void test('load server config: blank environment variables count as unset', () => {
  const config = load({ server: { max_connections: 7 }, env: { PRSERV_MAX_CONNECTIONS: ' ' } })
  assert.equal(config.limits.maxConnections, 7)
})

void test('load server config: an empty --bind list counts as unset', () => {
  assert.equal(dataset(load({ flags: { bind: [] } }))?.listen[0]?.text, '127.0.0.1:8585')
})

void test('load server config: history and nohist in one layer must agree', () => {
  assertConfigError(
    () => load({ flags: { history: true, nohist: true } }),
    ['history', 'nohist', '--history', '--nohist', 'mutually exclusive'],
  )
  assertConfigError(
    () => load({ env: { PRSERV_HISTORY: '1', PRSERV_NOHIST: 'true' } }),
    ['PRSERV_HISTORY', 'PRSERV_NOHIST'],
  )
  assertConfigError(
    () => load({ server: { history: false, nohist: false } }),
    ['server.history in', 'server.nohist in', 'false'],
  )
  const agreeing = load({ server: { history: true, nohist: false } })
  assert.equal(dataset(agreeing)?.defaultHistory, true)
})

void test('load server config: a higher layer may flip history chosen by a lower one', () => {
  const config = load({ server: { history: true }, flags: { nohist: true } })
  assert.equal(dataset(config)?.defaultHistory, false)
  const fromNohistFalse = load({ server: { nohist: false } })
  assert.equal(dataset(fromNohistFalse)?.defaultHistory, true)
})

void test('load server config: a non-immediate sync mode is accepted with a warning', () => {
  const config = load({ flags: { syncMode: 'periodic:30' } })
  assert.deepEqual(config.syncMode, { kind: 'periodic', intervalSecs: 30 })
  assert.equal(config.warnings.length, 1)
  assert.match(config.warnings[0] ?? '', /sync_mode periodic:30 from --sync-mode .*ignored/)
  assert.deepEqual(load({ env: { PRSERV_SYNC_MODE: 'immediate' } }).warnings, [])
  const shutdown = load({ server: { sync_mode: 'on-shutdown' } })
  assert.match(shutdown.warnings[0] ?? '', /on_shutdown from server\.sync_mode in/)
})

void test('load server config: a raised line cap raises the default message cap', () => {
  const config = load({ flags: { maxLineBytes: '33554432' } })
  assert.equal(config.limits.maxMessageBytes, 33_554_432)
})

void test('load server config: the message cap may not be below the line cap', () => {
  assertConfigError(
    () => load({ server: { max_line_bytes: 100_000 }, flags: { maxMessageBytes: '99999' } }),
    ['max_message_bytes 99999 from --max-message-bytes', 'max_line_bytes 100000 from server.'],
  )
})

void test('load server config: a line cap below BitBake 64 KiB is accepted with a warning', () => {
  const config = load({ flags: { maxLineBytes: '1024' } })
  assert.equal(config.limits.maxLineBytes, 1024)
  assert.match(config.warnings[0] ?? '', /max_line_bytes 1024 from --max-line-bytes is below 65536/)
})

void test('load server config: a lowered message cap lowers the default line cap', () => {
  const config = load({ server: { max_message_bytes: 70_000 } })
  assert.equal(config.limits.maxLineBytes, 70_000)
  assert.equal(config.limits.maxMessageBytes, 70_000)
})

void test('load server config: metrics_bind is a TCP address', () => {
  for (const bad of ['unix:///run/m.sock', 'ws://127.0.0.1:9585', 'nonsense', '127.0.0.1:99999']) {
    assert.throws(
      () => load({ flags: { metricsBind: bad } }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError)
        assert.match(error.message, /^Invalid metrics_bind .* from --metrics-bind: /)
        return true
      },
    )
  }
})
