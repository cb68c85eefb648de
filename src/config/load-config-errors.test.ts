import * as assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError } from '../protocol/errors.js'
import type { ClientFlags, ServerFlags } from './config-flags.js'
import { loadClientConfig, loadServerConfig } from './load-config.js'

const CWD = '/srv/prserv'
const YAML_PATH = `${CWD}/prserv.yaml`

function fakeReadFile(files: Readonly<Record<string, string>>): (path: string) => string {
  return (path) => {
    const text = files[path]
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' })
    return text
  }
}

/** One bad value, given in each of the places it can come from. */
interface ErrorCase {
  readonly key: string
  readonly section: 'server' | 'client'
  readonly fileValue: unknown
  /** Environment variable and a bad value for it, or null when the key has none. */
  readonly env: readonly [name: string, value: string] | null
  /** Bad flags and the flag name, or null for a switch (commander only yields true). */
  readonly flag: readonly [flags: ServerFlags & ClientFlags, name: string] | null
}

const CASES: readonly ErrorCase[] = [
  {
    ...{ key: 'database', section: 'server', fileValue: '' },
    ...{
      env: ['PRSERV_DATABASE', 'sqlite:///x'],
      flag: [{ database: 'mysql://h/db' }, '--database'],
    },
  },
  {
    ...{
      key: 'bind_addr',
      section: 'server',
      fileValue: 'nope',
      env: ['PRSERV_BIND_ADDR', 'a:1,b'],
    },
    flag: [{ bind: ['a:1', 'x:99999'] }, '--bind'],
  },
  {
    key: 'read_only',
    section: 'server',
    fileValue: 'maybe',
    env: ['PRSERV_READ_ONLY', 'y'],
    flag: null,
  },
  { key: 'nohist', section: 'server', fileValue: 2, env: ['PRSERV_NOHIST', 'nope'], flag: null },
  { key: 'history', section: 'server', fileValue: [], env: ['PRSERV_HISTORY', '-'], flag: null },
  {
    ...{
      key: 'upstream',
      section: 'server',
      fileValue: 'unix://up',
      env: ['PRSERV_UPSTREAM', 'up:0'],
    },
    flag: [{ upstream: 'up' }, '--upstream'],
  },
  {
    ...{ key: 'max_connections', section: 'server', fileValue: 0 },
    ...{
      env: ['PRSERV_MAX_CONNECTIONS', '1e3'],
      flag: [{ maxConnections: 'lots' }, '--max-connections'],
    },
  },
  {
    ...{ key: 'sync_mode', section: 'server', fileValue: { periodic: 5 } },
    ...{ env: ['PRSERV_SYNC_MODE', 'never'], flag: [{ syncMode: 'periodic:0' }, '--sync-mode'] },
  },
  {
    ...{ key: 'log_level', section: 'server', fileValue: 'loud' },
    ...{ env: ['PRSERV_LOG_LEVEL', 'verbose'], flag: [{ logLevel: '9' }, '--log-level'] },
  },
  {
    ...{ key: 'max_line_bytes', section: 'server', fileValue: -1, env: null },
    flag: [{ maxLineBytes: '1.5' }, '--max-line-bytes'],
  },
  {
    ...{ key: 'max_message_bytes', section: 'server', fileValue: 'big', env: null },
    flag: [{ maxMessageBytes: '0' }, '--max-message-bytes'],
  },
  {
    ...{ key: 'max_header_count', section: 'server', fileValue: 1.5, env: null },
    flag: [{ maxHeaderCount: '-3' }, '--max-header-count'],
  },
  {
    ...{ key: 'max_pending_writes', section: 'server', fileValue: true, env: null },
    flag: [{ maxPendingWrites: '' }, '--max-pending-writes'],
  },
  {
    ...{ key: 'server_addr', section: 'client', fileValue: 'h:0' },
    ...{ env: ['PRSERV_SERVER_ADDR', 'h'], flag: [{ server: ':8585' }, '--server'] },
  },
  {
    ...{ key: 'timeout_ms', section: 'client', fileValue: 0, env: null },
    flag: [{ timeoutMs: 'soon' }, '--timeout-ms'],
  },
  {
    ...{ key: 'log_level', section: 'client', fileValue: 'loud' },
    ...{ env: ['PRSERV_LOG_LEVEL', '8'], flag: [{ logLevel: '8' }, '--log-level'] },
  },
]

function loadFor(
  item: ErrorCase,
  flags: ServerFlags & ClientFlags,
  env: Record<string, string>,
  text?: string,
) {
  const files = text === undefined ? {} : { [YAML_PATH]: text }
  const input = {
    flags,
    env: { ...env, ...(text === undefined ? {} : { PRSERV_CONFIG: YAML_PATH }) },
    readFile: fakeReadFile(files),
    cwd: CWD,
  }
  return item.section === 'server' ? loadServerConfig(input) : loadClientConfig(input)
}

function assertConfigError(run: () => unknown, parts: readonly string[]): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error))
    for (const part of parts) assert.ok(error.message.includes(part), error.message)
    return true
  })
}

for (const item of CASES) {
  void test(`load config errors: a bad ${item.section}.${item.key} names key, value and source`, () => {
    const fileText = JSON.stringify({ [item.section]: { [item.key]: item.fileValue } })
    const fileSource = `${item.section}.${item.key} in ${YAML_PATH}`
    const fileValueText = JSON.stringify(item.fileValue)
    assertConfigError(() => loadFor(item, {}, {}, fileText), [item.key, fileValueText, fileSource])
    if (item.env !== null) {
      const [name, value] = item.env
      const parts = [`Invalid ${item.key} ${JSON.stringify(value)} from ${name}: `]
      assertConfigError(() => loadFor(item, {}, { [name]: value }), parts)
    }
    if (item.flag !== null) {
      const [flags, name] = item.flag
      const value = Object.values(flags)[0]
      const parts = [`Invalid ${item.key} ${JSON.stringify(value)} from ${name}: `]
      assertConfigError(() => loadFor(item, flags, {}), parts)
    }
  })
}

void test('load config errors: a bad value is an error even when a higher layer overrides it', () => {
  const text = JSON.stringify({ server: { max_connections: 'many' } })
  const item = CASES[0] // any server case
  assert.ok(item !== undefined)
  assertConfigError(
    () => loadFor(item, { maxConnections: '5' }, { PRSERV_MAX_CONNECTIONS: '6' }, text),
    ['max_connections "many" from server.max_connections in'],
  )
})

void test('load config errors: the exact message format for a flag, a variable and a file key', () => {
  const item = CASES[0] // any server case
  assert.ok(item !== undefined)
  assert.throws(() => loadFor(item, { maxConnections: 'x' }, {}), {
    message: 'Invalid max_connections "x" from --max-connections: expected a positive integer',
  })
  assert.throws(() => loadFor(item, {}, { PRSERV_MAX_CONNECTIONS: 'x' }), {
    message: 'Invalid max_connections "x" from PRSERV_MAX_CONNECTIONS: expected a positive integer',
  })
  assert.throws(() => loadFor(item, {}, {}, 'server:\n  max_connections: x\n'), {
    message:
      `Invalid max_connections "x" from server.max_connections in ${YAML_PATH}: ` +
      'expected a positive integer',
  })
})

void test('load config errors: a database URL password never appears in a message', () => {
  const item = CASES[0] // any server case
  assert.ok(item !== undefined)
  assert.throws(
    () => loadFor(item, { database: 'mysql://admin:hunter2@h/db' }, {}),
    (error: unknown) =>
      error instanceof ConfigError &&
      !error.message.includes('hunter2') &&
      error.message.includes('mysql://admin:***@h/db'),
  )
})
