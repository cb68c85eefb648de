import * as assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { Command, Option } from 'commander'
import { ConfigError } from '../protocol/errors.js'
import type { ClientFlags, ServerFlags } from './config-flags.js'
import { collectRepeatable, parseClientFlags, parseServerFlags } from './config-flags.js'
import type { OptionSpec } from './config-options.js'
import {
  CLIENT_OPTIONS,
  DATASET_KEYS,
  formatCommanderFlags,
  formatOptionHelp,
  SERVER_OPTIONS,
} from './config-options.js'
import { loadServerConfig } from './load-config.js'

/** Every flag set, so the compiler checks the key list is complete. */
const ALL_SERVER_FLAGS: Required<ServerFlags> = {
  config: 'c',
  database: 'd',
  bind: ['b'],
  readOnly: true,
  nohist: true,
  history: true,
  upstream: 'u',
  maxConnections: '1',
  syncMode: 's',
  logLevel: 'l',
  maxLineBytes: '1',
  maxMessageBytes: '1',
  maxHeaderCount: '1',
  maxPendingWrites: '1',
  pgUnnamedStatements: true,
  metricsBind: 'm',
}
const ALL_CLIENT_FLAGS: Required<ClientFlags> = {
  config: 'c',
  server: 's',
  timeoutMs: '1',
  logLevel: 'l',
}

function buildCommand<F>(specs: readonly OptionSpec<F>[]): Command {
  const command = new Command('prserv').exitOverride()
  for (const spec of specs) {
    const option = new Option(formatCommanderFlags(spec), formatOptionHelp(spec))
    if (spec.arity === 'list') option.argParser(collectRepeatable)
    command.addOption(option)
  }
  return command
}

void test('options: the tables cover every flags property exactly once', () => {
  const keys = <F>(specs: readonly OptionSpec<F>[]) => specs.map((s) => s.flagKey).sort()
  assert.deepEqual(keys(SERVER_OPTIONS), Object.keys(ALL_SERVER_FLAGS).sort())
  assert.deepEqual(keys(CLIENT_OPTIONS), Object.keys(ALL_CLIENT_FLAGS).sort())
})

void test('options: names are unique and environment variables are PRSERV_*', () => {
  for (const specs of [SERVER_OPTIONS, CLIENT_OPTIONS] as const) {
    const longs = specs.map((s) => s.long)
    const keys = specs.map((s) => s.key)
    const shorts = specs.flatMap((s) => (s.short === null ? [] : [s.short]))
    for (const names of [longs, keys, shorts]) assert.equal(new Set(names).size, names.length)
    for (const spec of specs) {
      assert.match(spec.key, /^[a-z][a-z_]*$/)
      assert.match(spec.long, /^--[a-z][a-z-]*$/)
      if (spec.envName !== null) assert.match(spec.envName, /^PRSERV_[A-Z_]+$/)
      assert.equal(spec.valueName === '', spec.arity === 'switch', spec.long)
    }
  }
})

void test('options: formatCommanderFlags and formatOptionHelp render commander strings', () => {
  const database = SERVER_OPTIONS.find((s) => s.key === 'database')
  const nohist = SERVER_OPTIONS.find((s) => s.key === 'nohist')
  assert.ok(database !== undefined && nohist !== undefined)
  assert.equal(formatCommanderFlags(database), '-d, --database <path|url>')
  assert.equal(formatCommanderFlags(nohist), '--nohist')
  assert.match(formatOptionHelp(database), /\(default: \.\/prserv\.sqlite3; env PRSERV_DATABASE\)$/)
})

void test('options: commander output maps onto the flags objects by name', () => {
  const command = buildCommand(SERVER_OPTIONS)
  const argv = [
    ...['-b', 'a:1', '--bind', 'b:2', '-r', '--nohist', '--max-connections', '5'],
    ...['-L', 'debug', '--sync-mode', 'periodic:3', '-u', 'up:1', '-d', 'x.sqlite3'],
  ]
  command.parse(argv, { from: 'user' })
  const flags = parseServerFlags(command.opts())
  assert.deepEqual(flags.bind, ['a:1', 'b:2'])
  assert.equal(flags.readOnly, true)
  assert.equal(flags.history, undefined)
  const config = loadServerConfig({
    flags,
    env: {},
    readFile: () => {
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' })
    },
    cwd: '/srv',
  })
  const [dataset] = config.datasets
  assert.ok(dataset !== undefined)
  assert.deepEqual(
    dataset.listen.map((a) => a.text),
    ['a:1', 'b:2'],
  )
  assert.equal(dataset.upstream?.text, 'up:1')
  assert.equal(config.limits.maxConnections, 5)
  assert.equal(config.logLevel, 'debug')
})

function checkCommanderKeys<F>(specs: readonly OptionSpec<F>[]): void {
  for (const spec of specs) {
    const command = buildCommand(specs)
    command.parse(spec.arity === 'switch' ? [spec.long] : [spec.long, 'v'], { from: 'user' })
    assert.deepEqual(Object.keys(command.opts()), [spec.flagKey], spec.long)
  }
}

void test('options: every long flag parses to its flagKey through commander', () => {
  checkCommanderKeys(SERVER_OPTIONS)
  checkCommanderKeys(CLIENT_OPTIONS)
  const client = buildCommand(CLIENT_OPTIONS)
  client.parse(['-s', 'h:1', '--timeout-ms', '10'], { from: 'user' })
  assert.deepEqual(parseClientFlags(client.opts()), {
    config: undefined,
    server: 'h:1',
    timeoutMs: '10',
    logLevel: undefined,
  })
})

void test('options: parseServerFlags rejects mistyped values by flag name', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ readOnly: 'yes' }, 'Invalid read_only string from --read-only: expected a boolean'],
    [{ bind: 'a:1' }, 'Invalid bind_addr string from --bind: expected a list of strings'],
    [{ bind: [1] }, 'Invalid bind_addr object from --bind: expected a list of strings'],
    [{ maxConnections: 5 }, 'Invalid max_connections number from --max-connections: expected'],
  ]
  for (const [values, message] of cases) {
    assert.throws(
      () => parseServerFlags(values),
      (error: unknown) => error instanceof ConfigError && error.message.startsWith(message),
    )
  }
  assert.throws(() => parseClientFlags({ timeoutMs: 5 }), ConfigError)
  assert.deepEqual(parseServerFlags({ unrelated: 1 }), parseServerFlags({}))
})

void test('options: collectRepeatable appends each occurrence', () => {
  assert.deepEqual(collectRepeatable('a', undefined), ['a'])
  assert.deepEqual(collectRepeatable('b', ['a']), ['a', 'b'])
})

void test('options: docs/config.md documents every flag, variable and file key', () => {
  const docs = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8')
  const sections = [
    ['server', SERVER_OPTIONS],
    ['client', CLIENT_OPTIONS],
  ] as const
  for (const [section, specs] of sections) {
    for (const spec of specs) {
      assert.ok(docs.includes(`\`${spec.long}`), spec.long)
      if (spec.short !== null) assert.ok(docs.includes(`\`${spec.short}\``), spec.short)
      if (spec.envName !== null) assert.ok(docs.includes(`\`${spec.envName}\``), spec.envName)
      if (spec.isFileKey) assert.ok(docs.includes(`\`${section}.${spec.key}\``), spec.key)
      const defaultText = spec.defaultText === 'none' ? 'none' : `\`${spec.defaultText}\``
      assert.ok(docs.includes(defaultText), `${spec.key} default`)
    }
  }
  for (const key of DATASET_KEYS) assert.ok(docs.includes(`server.datasets[].${key}`), key)
})
